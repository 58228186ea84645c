/**
 * Checks a signer's answer before anything is written to the cluster (docs/shim.md "Verification of answers": verify the
 * answer). A certificate is accepted only if
 *   1. the chain is nothing but CERTIFICATE blocks, leaf first (strict RFC 7468 framing, @edgeca/shared);
 *   2. the leaf's public key is the CSR's (otherwise the workload could not use it);
 *   3. each certificate is issued and signed by the next, and the last by a root of the current bundle,
 *      which itself is not in the chain (istiod appends the root, docs/facts.md "istiod in RA mode");
 *   4. the leaf's SANs are exactly the SANs the CSR asked for, and the leaf is not a CA (RFC 5280 §4.2.1.9);
 *   5. the leaf is valid now.
 * Framing and fields are read with the same strict DER readers the signer uses; signatures are checked with
 * Node's crypto (OpenSSL), independent of how the signer built them. The leaf's signature is checked over the
 * very TBSCertificate bytes its fields were read from (leaf-signature.ts), so what is checked is what is signed;
 * the certificates above it and the roots also go through Node's X.509 code.
 */
import { createPublicKey, X509Certificate as NodeCertificate } from "node:crypto";
import { leafSignedBy } from "./leaf-signature.ts";
import { verifiedIssuer, type VerifiedIssuer } from "./verified-issuer.ts";
import { decodePemBlocks, MalformedInputError, OID, parseCertificateDer, parseCsrPem, readGeneralNames, type GeneralNames, type ParsedCertificate } from "@edgeca/shared";

/** The answer failed a check; the message says which. Never written to the CSR. */
export class VerificationError extends Error {
  override readonly name = "VerificationError";
}

/** A CSR that cannot be parsed (the shim needs its key and SANs to check the answer). */
export class CsrParseError extends MalformedInputError {
  override readonly name = "CsrParseError";
}

/** What verification needs from a CSR, parsed once. */
export interface RequestedCertificate {
  /** The CSR's SubjectPublicKeyInfo, DER. */
  readonly spki: Uint8Array;
  /** Requested SANs as "type:value" strings, sorted. */
  readonly sans: readonly string[];
}

/** A certificate of a chain or bundle: the strict parse and Node's object for signature checks. */
export interface ChainCertificate {
  readonly parsed: ParsedCertificate;
  readonly node: NodeCertificate;
}

// A chain is a leaf and a few intermediates; a bundle a few roots. Generous, still bounded.
const MAX_CHAIN_CHARS = 256 * 1024;

/** Parses the PEM of a CSR (`spec.request`) into what verification needs. */
export function readRequest(pem: string): RequestedCertificate {
  try {
    const csr = parseCsrPem(pem);
    return { spki: csr.spki, sans: namesOf(csr.names) };
  } catch (error) {
    throw new CsrParseError(`spec.request is not a PEM certificate request: ${messageOf(error)}`, { cause: error });
  }
}

/** Splits PEM into certificates; refuses anything but CERTIFICATE blocks separated by whitespace. */
function readCertificates(pem: string, what: string): ChainCertificate[] {
  return decodeCertificates(pem, what).map((der, i) => parseChainCertificate(der, i, what));
}

function decodeCertificates(pem: string, what: string): Uint8Array[] {
  try {
    return decodePemBlocks(pem, "CERTIFICATE", MAX_CHAIN_CHARS);
  } catch (error) {
    throw new VerificationError(`${what}: ${messageOf(error)}`, { cause: error });
  }
}

/** Certificate `i` (0-based) of `what`, parsed strictly and by Node. */
function parseChainCertificate(der: Uint8Array, i: number, what: string): ChainCertificate {
  try {
    return { parsed: parseCertificateDer(der), node: new NodeCertificate(Buffer.from(der)) };
  } catch (error) {
    throw new VerificationError(`${what}: certificate ${i + 1} does not parse: ${messageOf(error)}`, { cause: error });
  }
}

/** Parses a bundle's PEM into its root certificates. */
export function readRoots(bundlePem: string): ChainCertificate[] {
  return readCertificates(bundlePem, "the trust bundle");
}

/**
 * Verifies `chainPem` for `request` against `roots` at time `now` (ms). Throws a VerificationError naming
 * the first check that failed.
 */
export function verifyAnswer(request: RequestedCertificate, chainPem: string, roots: readonly ChainCertificate[], now: number): void {
  verifyAnswerChain(request.spki, chainPem, roots, now, request.sans);
}

/**
 * verifyAnswer for the key `spki`, resolving the leaf (parsed once) and its SANs; with `expectedSans`
 * undefined the SAN check (4) is the caller's (pcr-answer.ts: a PodCertificateRequest names no SANs).
 */
export function verifyAnswerChain(spki: Uint8Array, chainPem: string, roots: readonly ChainCertificate[], now: number, expectedSans: readonly string[] | undefined): { leaf: ParsedCertificate; sans: readonly string[] } {
  const ders = decodeCertificates(chainPem, "the chain");
  const [leafDer] = ders;
  if (leafDer === undefined) throw new VerificationError("empty chain");
  const leaf = parseLeaf(leafDer);

  if (!sameKey(leaf, spki)) throw new VerificationError("the leaf's public key is not the CSR's");

  if (ders.length === 1) {
    // The leaf alone, signed by a root: rare, so Node's X.509 object is made for it only here.
    verifyTop(parseChainCertificate(leafDer, 0, "the chain"), roots);
  } else {
    // Certificates 2… are the same in every answer: verified once per trust bundle (verified-issuer.ts).
    const upper = ders.slice(1);
    const { issuer, issuerKey } = verifiedIssuer(upper, roots, () => verifyUpper(upper, roots));
    if (!leafSignedBy(leaf, issuer.parsed, issuerKey)) throw new VerificationError("certificate 1 of the chain is not signed by certificate 2");
  }

  if (leaf.isCa) throw new VerificationError("the leaf is a CA certificate");
  const san = leaf.extensions.get(OID.subjectAltName);
  let issued: string[];
  try {
    issued = san === undefined ? [] : namesOf(readGeneralNames(san.value));
  } catch (error) {
    throw new VerificationError(`the leaf's SAN extension does not parse: ${messageOf(error)}`, { cause: error });
  }
  if (expectedSans !== undefined) checkSans(issued, expectedSans);

  const { notBefore, notAfter } = leaf;
  if (!(notBefore.getTime() <= now && now < notAfter.getTime())) {
    throw new VerificationError(`the leaf is not valid now (valid ${notBefore.toISOString()} to ${notAfter.toISOString()})`);
  }
  return { leaf, sans: issued };
}

/** Check 4: the leaf's SANs (sorted "type:value") are exactly the requested ones. */
export function checkSans(issued: readonly string[], requested: readonly string[]): void {
  if (issued.join("\n") !== requested.join("\n")) {
    throw new VerificationError(`the leaf's SANs [${issued.join(", ")}] are not the requested [${requested.join(", ")}]`);
  }
}

/** The leaf, parsed strictly (Node's X.509 object is not needed for it: leaf-signature.ts checks its signature). */
function parseLeaf(der: Uint8Array): ParsedCertificate {
  try {
    return parseCertificateDer(der);
  } catch (error) {
    throw new VerificationError(`the chain: certificate 1 does not parse: ${messageOf(error)}`, { cause: error });
  }
}

/**
 * Whether the leaf's key is the CSR's: byte-equal SubjectPublicKeyInfo (a signer copies the CSR's), else
 * compared as keys by Node, in case the signer re-encoded the same key.
 */
function sameKey(leaf: ParsedCertificate, spki: Uint8Array): boolean {
  if (Buffer.from(leaf.spki.buffer, leaf.spki.byteOffset, leaf.spki.byteLength).equals(spki)) return true;
  try {
    return createPublicKey({ key: Buffer.from(leaf.spki), format: "der", type: "spki" }).equals(createPublicKey({ key: Buffer.from(spki), format: "der", type: "spki" }));
  } catch {
    return false;
  }
}

/** Checks certificates 2… of a chain (`upperDers`): each a CA, each signed by the next, the last by a root. */
function verifyUpper(upperDers: readonly Uint8Array[], roots: readonly ChainCertificate[]): VerifiedIssuer {
  const upper = upperDers.map((der, i) => parseChainCertificate(der, i + 1, "the chain"));
  const [issuer] = upper;
  const top = upper[upper.length - 1];
  if (issuer === undefined || top === undefined) throw new VerificationError("the chain has no certificate above the leaf");
  if (!issuer.parsed.isCa) throw new VerificationError("certificate 2 of the chain is not a CA");
  for (let i = 0; i + 1 < upper.length; i++) {
    const child = upper[i];
    const parent = upper[i + 1];
    if (child === undefined || parent === undefined) continue;
    if (!parent.parsed.isCa) throw new VerificationError(`certificate ${i + 3} of the chain is not a CA`);
    if (!child.node.checkIssued(parent.node) || !child.node.verify(parent.node.publicKey)) {
      throw new VerificationError(`certificate ${i + 2} of the chain is not signed by certificate ${i + 3}`);
    }
  }
  verifyTop(top, roots);
  return { issuer, issuerKey: issuer.node.publicKey };
}

/** The top of a chain must not be a root itself (istiod appends the root) and must be signed by one. */
function verifyTop(top: ChainCertificate, roots: readonly ChainCertificate[]): void {
  if (roots.some((r) => r.node.fingerprint256 === top.node.fingerprint256)) {
    throw new VerificationError("the chain includes a root; the signer must return the leaf and intermediates only");
  }
  const root = roots.find((r) => top.node.checkIssued(r.node) && top.node.verify(r.node.publicKey));
  if (root === undefined) throw new VerificationError("the chain does not lead to a root of the current trust bundle");
}

/** GeneralNames as sorted "kind:value" strings; names of other kinds are counted so they cannot match. */
function namesOf(names: GeneralNames): string[] {
  const out = [
    ...names.dns.map((v) => `dns:${v}`),
    ...names.uri.map((v) => `uri:${v}`),
    ...names.email.map((v) => `email:${v}`),
    ...names.ip.map((v) => `ip:${v}`),
  ];
  if (names.other > 0) out.push(`other:${names.other}`);
  return [...new Set(out)].sort();
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
