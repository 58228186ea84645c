/**
 * `edgeca verify`'s checks, the way an operator checks a workload certificate (Istio's "verify the
 * certificates" step, `openssl verify -CAfile root -untrusted chain`): the chain leads from the leaf
 * through the given intermediates to one of the given roots, every certificate is valid now, the leaf
 * is not a CA, and its SPIFFE ID is the expected one (exactly one URI SAN).
 */
import type { X509Certificate } from "node:crypto";
import { summarize, type CertificateSummary } from "./certificate-summary.ts";

export interface Check {
  readonly name: string;
  /** "skip" when the caller did not ask for it (no --spiffe-id). */
  readonly result: "pass" | "fail" | "skip";
  readonly detail: string;
}

export interface ChainVerification {
  readonly leaf: CertificateSummary;
  readonly checks: readonly Check[];
  /** True when no check failed. */
  readonly ok: boolean;
}

export interface ChainVerificationInput {
  /** Leaf first, then intermediates (a root at the end is tolerated). */
  readonly chain: readonly X509Certificate[];
  /** Trusted roots (a bundle may hold several during a rotation). */
  readonly roots: readonly X509Certificate[];
  readonly spiffeId?: string;
  readonly now?: Date;
}

/** Node leaves `subject` undefined for an empty subject (the workload profile), whatever its type says. */
function label(cert: X509Certificate): string {
  const subject = (cert.subject as string | undefined) ?? "";
  return subject === "" ? `serial ${cert.serialNumber}` : subject.replaceAll("\n", ", ");
}

/** True when `issuer` issued `cert`: names and key identifiers match (OpenSSL's check) and the signature verifies. */
function issuedBy(cert: X509Certificate, issuer: X509Certificate): boolean {
  return cert.checkIssued(issuer) && cert.verify(issuer.publicKey);
}

function chainCheck(chain: readonly X509Certificate[], roots: readonly X509Certificate[]): Check {
  const name = "chains to the root";
  const path: string[] = ["leaf"];
  // A root the sender appended is not part of what must be proven; drop it when it is one of ours.
  const links = chain.filter((c, i) => i === 0 || !roots.some((r) => r.fingerprint256 === c.fingerprint256));
  for (let i = 0; i + 1 < links.length; i += 1) {
    const cert = links[i];
    const next = links[i + 1];
    if (cert === undefined || next === undefined) break;
    if (!next.ca) return { name, result: "fail", detail: `certificate ${i + 2} (${label(next)}) is not a CA` };
    if (!issuedBy(cert, next)) {
      return { name, result: "fail", detail: `certificate ${i + 1} was not issued by certificate ${i + 2} (${label(next)})` };
    }
    path.push(label(next));
  }
  const top = links[links.length - 1];
  if (top === undefined) return { name, result: "fail", detail: "empty chain" };
  const root = roots.find((r) => issuedBy(top, r));
  if (root === undefined) {
    return { name, result: "fail", detail: `${label(top)} was not issued by any of the ${roots.length} given root(s)` };
  }
  path.push(`root ${label(root)}`);
  return { name, result: "pass", detail: path.join(" -> ") };
}

function validityCheck(all: readonly X509Certificate[], now: Date): Check {
  const name = "valid now";
  for (const cert of all) {
    if (now < cert.validFromDate) {
      return { name, result: "fail", detail: `${label(cert)} is not valid before ${cert.validFromDate.toISOString()}` };
    }
    if (now > cert.validToDate) {
      return { name, result: "fail", detail: `${label(cert)} expired at ${cert.validToDate.toISOString()}` };
    }
  }
  return { name, result: "pass", detail: `every certificate valid at ${now.toISOString()}` };
}

function spiffeCheck(leaf: CertificateSummary, expected: string | undefined): Check {
  const name = "SPIFFE ID";
  if (expected === undefined) {
    return { name, result: "skip", detail: `not asked (--spiffe-id); URI SANs: ${leaf.uris.join(", ") || "none"}` };
  }
  if (leaf.uris.length !== 1) {
    return { name, result: "fail", detail: `expected exactly one URI SAN, found ${leaf.uris.length}: ${leaf.uris.join(", ") || "none"}` };
  }
  const [found = ""] = leaf.uris;
  return found === expected
    ? { name, result: "pass", detail: found }
    : { name, result: "fail", detail: `expected ${expected}, found ${found}` };
}

/** Runs every check; never throws for a bad chain (each problem is a failed check). */
export function verifyChain(input: ChainVerificationInput): ChainVerification {
  const now = input.now ?? new Date();
  const [leafCert] = input.chain;
  if (leafCert === undefined) throw new Error("verifyChain needs at least one certificate");
  const leaf = summarize(leafCert);
  const checks: Check[] = [
    { name: "every block parses", result: "pass", detail: `${input.chain.length} certificate(s) in the chain, ${input.roots.length} root(s)` },
    chainCheck(input.chain, input.roots),
    validityCheck([...input.chain, ...input.roots], now),
    leaf.isCa
      ? { name: "leaf is not a CA", result: "fail", detail: "the leaf has BasicConstraints CA:TRUE" }
      : { name: "leaf is not a CA", result: "pass", detail: "CA:FALSE" },
    spiffeCheck(leaf, input.spiffeId),
  ];
  return { leaf, checks, ok: checks.every((c) => c.result !== "fail") };
}
