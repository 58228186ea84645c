/** What an operator wants to see of a certificate: names, SANs, validity, serial and key. */
import "reflect-metadata";
import type { X509Certificate } from "node:crypto";
import { BasicConstraintsExtension, SubjectAlternativeNameExtension, X509Certificate as PeculiarCertificate } from "@peculiar/x509";

export interface CertificateSummary {
  /** RFC 4514-style, "(empty)" when the subject has no RDN (the workload profile). */
  readonly subject: string;
  readonly issuer: string;
  /** e.g. "URI:spiffe://cluster.local/ns/default/sa/x"; empty when there is no SAN extension. */
  readonly sans: readonly string[];
  readonly sanCritical: boolean;
  readonly uris: readonly string[];
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** Upper-case hex. */
  readonly serial: string;
  /** "RSA 2048", "EC P-256", "Ed25519", … */
  readonly keyType: string;
  /** BasicConstraints cA as encoded (Node's `X509Certificate.ca` also needs keyCertSign, so it is not used). */
  readonly isCa: boolean;
}

const CURVES: Readonly<Record<string, string>> = { prime256v1: "P-256", secp384r1: "P-384", secp521r1: "P-521" };

function keyType(cert: X509Certificate): string {
  const key = cert.publicKey;
  const details = key.asymmetricKeyDetails ?? {};
  switch (key.asymmetricKeyType) {
    case "rsa":
    case "rsa-pss":
      return `RSA ${details.modulusLength ?? "?"}`;
    case "ec":
      return `EC ${CURVES[details.namedCurve ?? ""] ?? details.namedCurve ?? "?"}`;
    case "ed25519":
      return "Ed25519";
    default:
      return key.asymmetricKeyType ?? "unknown";
  }
}

/** Summarises a parsed certificate (Node parses it; `@peculiar/x509` reads the SAN extension). */
export function summarize(cert: X509Certificate): CertificateSummary {
  const parsed = new PeculiarCertificate(cert.raw);
  const san = parsed.getExtension(SubjectAlternativeNameExtension);
  const names = san?.names.items ?? [];
  const sans = names.map((n) => `${n.type === "url" ? "URI" : n.type.toUpperCase()}:${n.value}`);
  const subject = parsed.subject;
  return {
    subject: subject === "" ? "(empty)" : subject,
    issuer: parsed.issuer === "" ? "(empty)" : parsed.issuer,
    sans,
    sanCritical: san?.critical ?? false,
    uris: names.filter((n) => n.type === "url").map((n) => n.value),
    notBefore: cert.validFromDate,
    notAfter: cert.validToDate,
    serial: cert.serialNumber.toUpperCase(),
    keyType: keyType(cert),
    isCa: parsed.getExtension(BasicConstraintsExtension)?.ca ?? false,
  };
}
