/**
 * `request.cf.tlsClientAuth` as Cloudflare's edge fills it for a Worker on a hostname with client
 * certificates enabled (cloudflare-docs `ssl/client-certificates/client-certificate-variables`,
 * `@cloudflare/workers-types` `IncomingRequestCfPropertiesTLSClientAuth` and `…Placeholder`).
 * Every value is a string except the two RFC 9440 size flags.
 */
import "reflect-metadata";
import { createHash, X509Certificate } from "node:crypto";
import type { PeerCertificate, TLSSocket } from "node:tls";
import {
  AuthorityKeyIdentifierExtension,
  SubjectKeyIdentifierExtension,
  X509Certificate as PeculiarCertificate,
} from "@peculiar/x509";
import { formatLegacy, formatRfc2253 } from "./distinguished-name.ts";

export interface TlsClientAuth {
  /** "1" when the client presented a certificate (valid or not), "0" otherwise. */
  certPresented: "1" | "0";
  /** "SUCCESS", "NONE" (nothing presented) or "FAILED:<OpenSSL's reason>". */
  certVerified: string;
  /** "1" revoked, "0" not; the emulator has no revocation list, so always "0". */
  certRevoked: "1" | "0";
  certIssuerDN: string;
  certSubjectDN: string;
  certIssuerDNRFC2253: string;
  certSubjectDNRFC2253: string;
  certIssuerDNLegacy: string;
  certSubjectDNLegacy: string;
  /** Upper-case hex, as in Cloudflare's examples. */
  certSerial: string;
  certIssuerSerial: string;
  /** Upper-case hex without colons, as in Cloudflare's ruleset field examples. */
  certSKI: string;
  certIssuerSKI: string;
  /** Lower-case hex without colons. */
  certFingerprintSHA1: string;
  certFingerprintSHA256: string;
  /** OpenSSL's date form, "Dec 22 19:39:00 2018 GMT". */
  certNotBefore: string;
  certNotAfter: string;
  /** RFC 9440 `:base64(DER):` of the leaf. */
  certRFC9440: string;
  certRFC9440TooLarge: boolean;
  certChainRFC9440: string;
  certChainRFC9440TooLarge: boolean;
}

/** What Cloudflare sends when the client presented no certificate (workers-types `…Placeholder`). */
export const NO_CLIENT_CERTIFICATE: Readonly<TlsClientAuth> = Object.freeze({
  certPresented: "0",
  certVerified: "NONE",
  certRevoked: "0",
  certIssuerDN: "",
  certSubjectDN: "",
  certIssuerDNRFC2253: "",
  certSubjectDNRFC2253: "",
  certIssuerDNLegacy: "",
  certSubjectDNLegacy: "",
  certSerial: "",
  certIssuerSerial: "",
  certSKI: "",
  certIssuerSKI: "",
  certFingerprintSHA1: "",
  certFingerprintSHA256: "",
  certNotBefore: "",
  certNotAfter: "",
  certRFC9440: "",
  certRFC9440TooLarge: false,
  certChainRFC9440: "",
  certChainRFC9440TooLarge: false,
});

/**
 * OpenSSL's reason strings (`X509_verify_cert_error_string`) for the verification codes Node reports,
 * in the spelling Cloudflare documents ("self signed", without the hyphen OpenSSL 3 added).
 */
const REASONS: Readonly<Record<string, string>> = {
  DEPTH_ZERO_SELF_SIGNED_CERT: "self signed certificate",
  SELF_SIGNED_CERT_IN_CHAIN: "self signed certificate in certificate chain",
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: "unable to get local issuer certificate",
  UNABLE_TO_GET_ISSUER_CERT: "unable to get issuer certificate",
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: "unable to verify the first certificate",
  CERT_HAS_EXPIRED: "certificate has expired",
  CERT_NOT_YET_VALID: "certificate is not yet valid",
  CERT_SIGNATURE_FAILURE: "certificate signature failure",
  CERT_UNTRUSTED: "certificate not trusted",
  CERT_REJECTED: "certificate rejected",
  INVALID_CA: "invalid CA certificate",
  INVALID_PURPOSE: "unsupported certificate purpose",
};

/** Node types `authorizationError` as an Error but hands over OpenSSL's code string; accept both. */
function verificationFailure(error: unknown): string {
  const code =
    typeof error === "string"
      ? error
      : error instanceof Error
        ? ((error as Error & { code?: unknown }).code ?? error.message)
        : undefined;
  const reason = typeof code === "string" ? (REASONS[code] ?? code.toLowerCase()) : "";
  return reason === "" ? "FAILED" : `FAILED:${reason}`;
}

/** Cloudflare leaves `certRFC9440` empty for a leaf over 10 KB (workers-types `certRFC9440TooLarge`). */
const RFC9440_LEAF_LIMIT = 10 * 1024;

const hex = (bytes: ArrayBuffer | Uint8Array): string => Buffer.from(new Uint8Array(bytes)).toString("hex");

/** The direct issuer OpenSSL found for the peer (the presented chain or the trusted client CA), if any. */
function issuerOf(socket: TLSSocket): PeerCertificate | undefined {
  const detailed = socket.getPeerCertificate(true);
  // A self-issued certificate is its own `issuerCertificate` in Node's detailed form.
  const issuer = (detailed as Partial<typeof detailed>).issuerCertificate;
  if (issuer === undefined || issuer.fingerprint256 === detailed.fingerprint256) return undefined;
  return issuer;
}

/** What is known about a presented certificate besides the certificate itself. */
export interface PresentedCertificate {
  /** DER of the client's leaf certificate. */
  readonly der: Uint8Array;
  /** "SUCCESS" or "FAILED:<reason>". */
  readonly verified: string;
  /** DER of its direct issuer, when known (fills `certIssuerSerial`, and `certIssuerSKI` without an AKI). */
  readonly issuerDer?: Uint8Array;
}

/**
 * `tlsClientAuth` for a presented certificate, without a TLS connection: what the emulator computes once per
 * certificate (cf-blob.ts), and what the benchmark injects when it calls the Worker through Miniflare directly.
 */
export function tlsClientAuthFor(presented: PresentedCertificate): TlsClientAuth {
  const der = Buffer.from(presented.der);
  const peer = new X509Certificate(der);
  const parsed = new PeculiarCertificate(der);
  const issuer = presented.issuerDer === undefined ? undefined : new PeculiarCertificate(Buffer.from(presented.issuerDer));
  const ski = parsed.getExtension(SubjectKeyIdentifierExtension)?.keyId ?? "";
  const issuerSki =
    parsed.getExtension(AuthorityKeyIdentifierExtension)?.keyId ?? issuer?.getExtension(SubjectKeyIdentifierExtension)?.keyId ?? "";
  const subject = parsed.subjectName.toJSON();
  const issuerName = parsed.issuerName.toJSON();
  const tooLarge = der.length > RFC9440_LEAF_LIMIT;
  return {
    certPresented: "1",
    certVerified: presented.verified,
    certRevoked: "0",
    certIssuerDN: formatRfc2253(issuerName),
    certSubjectDN: formatRfc2253(subject),
    certIssuerDNRFC2253: formatRfc2253(issuerName),
    certSubjectDNRFC2253: formatRfc2253(subject),
    certIssuerDNLegacy: formatLegacy(issuerName),
    certSubjectDNLegacy: formatLegacy(subject),
    certSerial: peer.serialNumber.toUpperCase(),
    certIssuerSerial: issuer === undefined ? "" : new X509Certificate(Buffer.from(presented.issuerDer ?? [])).serialNumber.toUpperCase(),
    certSKI: ski.toUpperCase(),
    certIssuerSKI: issuerSki.toUpperCase(),
    certFingerprintSHA1: hex(createHash("sha1").update(der).digest()),
    certFingerprintSHA256: hex(createHash("sha256").update(der).digest()),
    certNotBefore: peer.validFrom,
    certNotAfter: peer.validTo,
    certRFC9440: tooLarge ? "" : `:${der.toString("base64")}:`,
    certRFC9440TooLarge: tooLarge,
    // The emulator trusts only the configured client CA; intermediates a client sends are not forwarded.
    certChainRFC9440: "",
    certChainRFC9440TooLarge: false,
  };
}

/** A certificate a client presented on a connection, and a key naming exactly what its `tlsClientAuth` depends on. */
export interface PresentedOnConnection {
  readonly presented: PresentedCertificate;
  /** The verdict and the SHA-256 fingerprints of the leaf and of its issuer: equal keys, equal `tlsClientAuth`. */
  readonly key: string;
}

/**
 * What a TLS connection says about the client's certificate (undefined: none presented). Verification
 * (chain to the configured client CA, validity window) is OpenSSL's, done during the handshake because the
 * server was created with `ca: clientCaPem`, `requestCert: true`, `rejectUnauthorized: false`.
 */
export function presentedOn(socket: TLSSocket): PresentedOnConnection | undefined {
  const peer = socket.getPeerX509Certificate();
  if (peer === undefined) return undefined;
  const issuer = issuerOf(socket);
  const verified = socket.authorized ? "SUCCESS" : verificationFailure(socket.authorizationError);
  return {
    presented: { der: peer.raw, verified, ...(issuer === undefined ? {} : { issuerDer: issuer.raw }) },
    key: `${verified}\n${peer.fingerprint256}\n${issuer?.fingerprint256 ?? ""}`,
  };
}
