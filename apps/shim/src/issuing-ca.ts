/**
 * The issuing CA of a verified chain, exported as `edgeca_shim_issuing_ca_not_after_seconds{signer}` for
 * the near-expiry alert (infra/monitoring): the certificate after the leaf (the intermediate), or, when the
 * signer returns the leaf alone, the bundle's root that signed it. The trust bundle's roots outlive the
 * issuing CA, so their expiry would warn too late. Parsed only when the issuer's PEM changes (a rotation),
 * not once per certificate.
 */
import { X509Certificate } from "node:crypto";
import type { ShimMetrics } from "./metrics.ts";
import type { ChainCertificate } from "./verify-answer.ts";

const BEGIN = "-----BEGIN CERTIFICATE-----";
const END = "-----END CERTIFICATE-----";

let last: { readonly pem: string; readonly seconds: number } | undefined;

/** Records the issuing CA's NotAfter of `chainPem` (already verified against `roots`) for `signer`. */
export function recordIssuingCa(metrics: ShimMetrics, signer: string, chainPem: string, roots: readonly ChainCertificate[]): void {
  const seconds = issuerNotAfterSeconds(chainPem, roots);
  if (seconds !== undefined) metrics.issuingCaNotAfter.set({ signer }, seconds);
}

function issuerNotAfterSeconds(chainPem: string, roots: readonly ChainCertificate[]): number | undefined {
  const afterLeaf = chainPem.indexOf(END) + END.length;
  const start = chainPem.indexOf(BEGIN, afterLeaf);
  if (start < 0) {
    // The leaf alone: its issuer is a root of the bundle (verification found one).
    const leaf = new X509Certificate(chainPem);
    const root = roots.find((r) => leaf.checkIssued(r.node));
    return root === undefined ? undefined : Math.floor(root.node.validToDate.getTime() / 1000);
  }
  const end = chainPem.indexOf(END, start);
  const pem = chainPem.slice(start, end + END.length);
  if (last?.pem !== pem) last = { pem, seconds: Math.floor(new X509Certificate(pem).validToDate.getTime() / 1000) };
  return last.seconds;
}
