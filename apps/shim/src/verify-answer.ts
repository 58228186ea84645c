/**
 * Checks a signer's answer before anything is written to the cluster (DESIGN.md "The shim": verify the
 * answer). A certificate is accepted only if
 *   1. the chain is nothing but CERTIFICATE blocks, leaf first;
 *   2. the leaf's public key is the CSR's (otherwise the workload could not use it);
 *   3. each certificate is issued and signed by the next, and the last by a root of the current bundle;
 *   4. the leaf's SANs are exactly the SANs the CSR asked for, and the leaf is not a CA (RFC 5280 §4.2.1.9);
 *   5. the leaf is valid now.
 * Signatures are checked with Node's own X.509 code, independent of how the signer built them.
 */
import "reflect-metadata";
import { createPublicKey, X509Certificate as NodeCertificate } from "node:crypto";
import { BasicConstraintsExtension, Pkcs10CertificateRequest, SubjectAlternativeNameExtension, X509Certificate } from "@peculiar/x509";

/** The answer failed a check; the message says which. Never written to the CSR. */
export class VerificationError extends Error {
  override readonly name = "VerificationError";
}

/** A CSR that cannot be parsed (the shim needs its key and SANs to check the answer). */
export class CsrParseError extends Error {
  override readonly name = "CsrParseError";
}

/** What verification needs from a CSR, parsed once. */
export interface RequestedCertificate {
  /** The CSR's SubjectPublicKeyInfo, DER. */
  readonly spki: Uint8Array;
  /** Requested SANs as "type:value" strings, sorted. */
  readonly sans: readonly string[];
}

const SAN_OID = "2.5.29.17";
const BLOCK = /-----BEGIN CERTIFICATE-----\r?\n([A-Za-z0-9+/=\r\n]+?)-----END CERTIFICATE-----\r?\n?/y;

/** Parses the PEM of a CSR (`spec.request`) into what verification needs. */
export function readRequest(pem: string): RequestedCertificate {
  let csr: Pkcs10CertificateRequest;
  try {
    if (!/^\s*-----BEGIN CERTIFICATE REQUEST-----[\s\S]+-----END CERTIFICATE REQUEST-----\s*$/.test(pem)) {
      throw new Error("expected exactly one CERTIFICATE REQUEST PEM block");
    }
    csr = new Pkcs10CertificateRequest(pem);
  } catch (error) {
    throw new CsrParseError(`spec.request is not a PEM certificate request: ${messageOf(error)}`, { cause: error });
  }
  const ext = csr.getExtension(SAN_OID);
  const sans = ext === null ? [] : namesOf(new SubjectAlternativeNameExtension(ext.rawData));
  return { spki: new Uint8Array(csr.publicKey.rawData), sans };
}

/** Splits a chain into certificates; refuses anything but CERTIFICATE blocks separated by whitespace. */
export function splitChain(pem: string): NodeCertificate[] {
  const out: NodeCertificate[] = [];
  let at = 0;
  const text = pem.replace(/^\s+/, "");
  for (;;) {
    BLOCK.lastIndex = at;
    const m = BLOCK.exec(text);
    if (m === null) break;
    try {
      out.push(new NodeCertificate(m[0]));
    } catch (error) {
      throw new VerificationError(`certificate ${out.length + 1} of the chain does not parse: ${messageOf(error)}`);
    }
    at = BLOCK.lastIndex;
    while (at < text.length && /\s/.test(text.charAt(at))) at++;
  }
  if (out.length === 0) throw new VerificationError("the chain holds no CERTIFICATE block");
  if (at !== text.length) throw new VerificationError(`unexpected text after certificate ${out.length} of the chain`);
  return out;
}

/**
 * Verifies `chainPem` for `request` against the roots in `bundlePem` at time `now` (ms). Throws a
 * VerificationError naming the first check that failed.
 */
export function verifyAnswer(request: RequestedCertificate, chainPem: string, roots: readonly NodeCertificate[], now: number): void {
  const chain = splitChain(chainPem);
  const [leaf] = chain;
  if (leaf === undefined) throw new VerificationError("empty chain");

  const requested = createPublicKey({ key: Buffer.from(request.spki), format: "der", type: "spki" });
  if (!leaf.publicKey.equals(requested)) throw new VerificationError("the leaf's public key is not the CSR's");

  for (let i = 0; i + 1 < chain.length; i++) {
    const child = chain[i];
    const parent = chain[i + 1];
    if (child === undefined || parent === undefined) continue;
    if (!parent.ca) throw new VerificationError(`certificate ${i + 2} of the chain is not a CA`);
    if (!child.checkIssued(parent) || !child.verify(parent.publicKey)) {
      throw new VerificationError(`certificate ${i + 1} of the chain is not signed by certificate ${i + 2}`);
    }
  }
  const top = chain[chain.length - 1];
  if (top === undefined) throw new VerificationError("empty chain");
  if (roots.some((r) => r.fingerprint256 === top.fingerprint256)) {
    throw new VerificationError("the chain includes a root; the signer must return the leaf and intermediates only");
  }
  const root = roots.find((r) => top.checkIssued(r) && top.verify(r.publicKey));
  if (root === undefined) throw new VerificationError("the chain does not lead to a root of the current trust bundle");

  const peculiarLeaf = new X509Certificate(leaf.raw);
  const bc = peculiarLeaf.getExtension(BasicConstraintsExtension);
  if (bc?.ca === true || leaf.ca) throw new VerificationError("the leaf is a CA certificate");
  const sanExt = peculiarLeaf.getExtension(SubjectAlternativeNameExtension);
  const issued = sanExt === null ? [] : namesOf(sanExt);
  if (issued.join("\n") !== request.sans.join("\n")) {
    throw new VerificationError(`the leaf's SANs [${issued.join(", ")}] are not the requested [${request.sans.join(", ")}]`);
  }

  const notBefore = Date.parse(leaf.validFrom);
  const notAfter = Date.parse(leaf.validTo);
  if (!(notBefore <= now && now < notAfter)) {
    throw new VerificationError(`the leaf is not valid now (valid ${leaf.validFrom} to ${leaf.validTo})`);
  }
}

/** Parses a bundle's PEM (all roots concatenated) into certificates. */
export function readRoots(bundlePem: string): NodeCertificate[] {
  return splitChain(bundlePem);
}

function namesOf(ext: SubjectAlternativeNameExtension): string[] {
  return [...new Set(ext.names.items.map((n) => `${n.type}:${n.value}`))].sort();
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
