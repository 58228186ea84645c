/**
 * Step 1 of docs/signer-api.md "Authentication": the client certificate as Cloudflare's edge reports
 * it in `request.cf.tlsClientAuth`. Every field is a string ("0" and "NONE" are truthy), so each is
 * compared exactly; anything missing or unexpected fails closed with 401.
 */
import { normaliseHex, type ClusterConfig } from "@edgeca/shared";
import * as z from "zod";
import { UnauthenticatedError } from "./errors.ts";

/** The fields of `cf.tlsClientAuth` the signer reads (Cloudflare docs: all strings). */
export const TlsClientAuth = z.object({
  certPresented: z.string(),
  certVerified: z.string(),
  certRevoked: z.string(),
  certFingerprintSHA256: z.string(),
  certIssuerSKI: z.string().optional(),
});
export type TlsClientAuth = z.infer<typeof TlsClientAuth>;

/** Which cluster each client-certificate fingerprint and issuer SKI identifies. */
export class ClientIndex {
  private readonly byFingerprint = new Map<string, ClusterConfig>();
  private readonly byIssuerSki = new Map<string, ClusterConfig>();

  constructor(clusters: readonly ClusterConfig[]) {
    for (const c of clusters) {
      for (const f of c.clientCertificates.sha256Fingerprints) this.byFingerprint.set(f, c);
      for (const s of c.clientCertificates.issuerSKIs) this.byIssuerSki.set(s, c);
    }
  }

  /** The cluster the edge's verdict identifies; throws `UnauthenticatedError` otherwise. */
  authenticate(cf: unknown): ClusterConfig {
    const raw = typeof cf === "object" && cf !== null && "tlsClientAuth" in cf ? cf.tlsClientAuth : undefined;
    const parsed = TlsClientAuth.safeParse(raw);
    if (!parsed.success) throw new UnauthenticatedError("no client certificate information from the edge (mTLS is required)");
    const auth = parsed.data;
    if (auth.certPresented !== "1") throw new UnauthenticatedError("no client certificate presented");
    if (auth.certVerified !== "SUCCESS") throw new UnauthenticatedError(`client certificate not verified (${auth.certVerified.slice(0, 80)})`);
    // A revoked certificate still says certVerified SUCCESS (Cloudflare docs), so check both.
    if (auth.certRevoked !== "0") throw new UnauthenticatedError("client certificate revoked");
    const fingerprint = normaliseHex(auth.certFingerprintSHA256);
    if (/^[0-9a-f]{64}$/.test(fingerprint)) {
      const cluster = this.byFingerprint.get(fingerprint);
      if (cluster !== undefined) return cluster;
    }
    // Client-certificate validation is account-wide on Cloudflare: an issuer SKI pins our own client CA.
    const ski = auth.certIssuerSKI === undefined ? "" : normaliseHex(auth.certIssuerSKI);
    if (/^[0-9a-f]+$/.test(ski)) {
      const cluster = this.byIssuerSki.get(ski);
      if (cluster !== undefined) return cluster;
    }
    throw new UnauthenticatedError("client certificate is not one this signer knows");
  }
}
