/** Certificate helpers on node:crypto for reading an `edgeca init` directory's public material. */
import { X509Certificate } from "node:crypto";

const BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** Every CERTIFICATE block of a PEM text, parsed, in order. */
export function certificatesOf(pem: string): X509Certificate[] {
  return (pem.match(BLOCK) ?? []).map((block) => new X509Certificate(block));
}

/** SHA-256 fingerprint as lowercase hex without colons (the form `EDGECA_CONFIG` uses). */
export function fingerprintOf(cert: X509Certificate): string {
  return cert.fingerprint256.replaceAll(":", "").toLowerCase();
}

/** The index in `roots` of the root that signed the top of `chain`, or -1. */
export function rootIndexOf(chain: string, roots: readonly string[]): number {
  const top = certificatesOf(chain).at(-1);
  if (top === undefined) return -1;
  return roots.findIndex((pem) => {
    const root = certificatesOf(pem)[0];
    return root !== undefined && top.checkIssued(root) && top.verify(root.publicKey);
  });
}
