/**
 * The signer's policy (docs/certificate-profile.md "Policy"): approval proves nothing, so everything is checked here,
 * cheap checks first and the proof-of-possession signature last. Each refusal names what was wrong.
 */
import {
  ALLOWED_USAGES,
  CsrError,
  csrKey,
  csrSignatureHash,
  MalformedInputError,
  parseCsrPem,
  parseWorkloadId,
  SpiffeError,
  toX509Usages,
  verifyCsrSignature,
  type CsrKey,
  type KeyUsageName,
  type ParsedCsr,
  type PolicyConfig,
  type SignatureHash,
  type SignRequest,
} from "@edgeca/shared";
import { InvalidRequestError, PolicyDeniedError } from "./errors.ts";

/** What policy allows into the certificate: names and usages from the profile, the key from the CSR. */
export interface Approved {
  readonly csr: ParsedCsr;
  readonly profile: "workload" | "control-plane";
  readonly uris: readonly string[];
  readonly dnsNames: readonly string[];
  readonly keyUsage: ReadonlySet<KeyUsageName>;
  readonly extKeyUsage: readonly string[];
}

/** Whether `name` matches `pattern` (exact, or `*.` standing for exactly one leading label). */
export function dnsNameMatches(pattern: string, name: string): boolean {
  const n = name.toLowerCase();
  if (!pattern.startsWith("*.")) return n === pattern;
  const suffix = pattern.slice(1);
  return n.endsWith(suffix) && n.length > suffix.length && !n.slice(0, -suffix.length).includes(".");
}

/** The two KeyUsage sets policy grants, made once (never mutated: `Approved.keyUsage` is read-only). */
const SIGNATURE_ONLY: ReadonlySet<KeyUsageName> = new Set<KeyUsageName>(["digitalSignature"]);
const SIGNATURE_AND_ENCIPHERMENT: ReadonlySet<KeyUsageName> = new Set<KeyUsageName>(["digitalSignature", "keyEncipherment"]);

interface GrantedUsages {
  readonly keyUsage: ReadonlySet<KeyUsageName>;
  readonly extKeyUsage: readonly string[];
}

/**
 * What each list of allowed usages grants, by the list joined: requests repeat a few lists, so the sets
 * and arrays are made once per list (and stay the same objects, which the EKU encoding's cache keys on).
 * Bounded: lists past the bound are mapped each time.
 */
const granted = new Map<string, GrantedUsages>();
const GRANTED_LISTS = 64;

function checkUsages(usages: readonly string[]): GrantedUsages {
  for (const u of usages) {
    if (ALLOWED_USAGES.has(u)) continue;
    const refused = usages.filter((x) => !ALLOWED_USAGES.has(x));
    throw new PolicyDeniedError(`usages ${refused.map((x) => JSON.stringify(x)).join(", ")} are not allowed; allowed: ${[...ALLOWED_USAGES].join(", ")}`);
  }
  const key = usages.join("\n");
  const known = granted.get(key);
  if (known !== undefined) return known;
  const x = toX509Usages(usages);
  // docs/certificate-profile.md: digitalSignature always, keyEncipherment only when requested.
  const grant = { keyUsage: x.keyUsage.has("keyEncipherment") ? SIGNATURE_AND_ENCIPHERMENT : SIGNATURE_ONLY, extKeyUsage: Object.freeze([...x.extKeyUsage]) };
  if (granted.size < GRANTED_LISTS) granted.set(key, grant);
  return grant;
}

function parse(pem: string): ParsedCsr {
  try {
    return parseCsrPem(pem);
  } catch (error) {
    if (error instanceof MalformedInputError) {
      throw new InvalidRequestError(`csr: ${error.message}`, { cause: error });
    }
    throw error;
  }
}

/**
 * The key's type and size are policy (422); a key encoded so that relying parties cannot read it (a
 * compressed EC point, an RSA INTEGER that is not DER) is a malformed request (400), like any other bad
 * encoding: the operator's configuration cannot allow it, only a regenerated CSR fixes it.
 */
function checkKey(csr: ParsedCsr): CsrKey {
  let key;
  try {
    key = csrKey(csr);
  } catch (error) {
    throw new InvalidRequestError(`csr: malformed public key: ${error instanceof Error ? error.message : ""}`, { cause: error });
  }
  if (key.kind === "ec" && (key.curve === "P-256" || key.curve === "P-384")) return key;
  if (key.kind === "rsa" && key.bits >= 2048 && key.bits <= 4096 && key.exponent === 65537) return key;
  const what = key.kind === "ec" ? `ECDSA ${key.curve}` : key.kind === "rsa" ? `RSA-${key.bits} with exponent ${key.exponent}` : "an unknown algorithm";
  throw new PolicyDeniedError(`key type ${what} is not allowed; use RSA 2048–4096 with exponent 65537, or ECDSA P-256/P-384`);
}

function checkNames(csr: ParsedCsr, policy: PolicyConfig): Pick<Approved, "profile" | "uris" | "dnsNames"> {
  const n = csr.names;
  if (n.email.length > 0 || n.ip.length > 0 || n.other > 0) {
    const found = [`${n.email.length} email`, `${n.ip.length} IP`, `${n.other} other`].filter((f) => !f.startsWith("0 ")).join(", ");
    throw new PolicyDeniedError(`csr: only URI (workload) or DNS (control plane) subject alternative names are allowed; found ${found}`);
  }
  if (n.uri.length > 0) {
    if (n.uri.length !== 1 || n.dns.length > 0) throw new PolicyDeniedError("csr: a workload certificate carries exactly one URI SAN and no DNS SAN");
    const uri = n.uri[0] ?? "";
    let id;
    try {
      id = parseWorkloadId(uri);
    } catch (error) {
      throw new PolicyDeniedError(`csr: ${error instanceof SpiffeError ? error.message : "invalid SPIFFE ID"}`, { cause: error });
    }
    if (id.trustDomain !== policy.trustDomain) {
      throw new PolicyDeniedError(`csr: trust domain "${id.trustDomain}" is not this cluster's trust domain "${policy.trustDomain}"`);
    }
    return { profile: "workload", uris: [uri], dnsNames: [] };
  }
  if (n.dns.length > 0) {
    if (policy.controlPlaneDnsNames.length === 0) throw new PolicyDeniedError("csr: DNS SANs are not allowed: this cluster has no control-plane profile");
    const refused = n.dns.filter((d) => !policy.controlPlaneDnsNames.some((p) => dnsNameMatches(p, d)));
    if (refused.length > 0) throw new PolicyDeniedError(`csr: DNS names not allowed by the control-plane profile: ${refused.join(", ")}`);
    return { profile: "control-plane", uris: [], dnsNames: n.dns.map((d) => d.toLowerCase()) };
  }
  throw new PolicyDeniedError("csr: no subject alternative name; a workload CSR carries one spiffe:// URI SAN");
}

/** A request that passed every check but proof of possession, with what that proof needs. */
export interface Screened extends Approved {
  readonly key: CsrKey;
  readonly hash: SignatureHash;
}

/**
 * Every check of the policy except proof of possession, in order: requestor, usages, CSR syntax, CA
 * request, names, key type, signature algorithm. Synchronous. Throws `InvalidRequestError` or
 * `PolicyDeniedError`.
 */
export function screen(request: SignRequest, policy: PolicyConfig): Screened {
  if (!policy.allowedRequestors.includes(request.requestor.username)) {
    throw new PolicyDeniedError(`requestor "${request.requestor.username}" may not obtain certificates from this signer`);
  }
  const { keyUsage, extKeyUsage } = checkUsages(request.usages);
  const csr = parse(request.csr);
  if (csr.requestsCa) throw new PolicyDeniedError("csr: requests a CA certificate (basicConstraints cA TRUE)");
  const { profile, uris, dnsNames } = checkNames(csr, policy);
  const key = checkKey(csr);
  const hash = csrSignatureHash(csr);
  if (hash === undefined) throw new PolicyDeniedError("csr: signature algorithm must be ECDSA or RSA PKCS#1 v1.5 with SHA-256, SHA-384 or SHA-512");
  return { csr, profile, uris, dnsNames, keyUsage, extKeyUsage, key, hash };
}

/** Proof of possession (RFC 2986 §3): the CSR's self-signature verifies. Throws `InvalidRequestError`. */
export async function proveKeyPossession(screened: Screened): Promise<void> {
  let verified;
  try {
    verified = await verifyCsrSignature(screened.csr, screened.key, screened.hash);
  } catch (error) {
    // WebCrypto refused the key itself (an EC point off its curve, say): say so, not "does not verify".
    if (error instanceof CsrError) throw new InvalidRequestError(`csr: ${error.message}`, { cause: error });
    throw error;
  }
  if (!verified) {
    throw new InvalidRequestError("csr: proof-of-possession signature does not verify");
  }
}

/** Applies the policy of one cluster to a sign request. Throws `InvalidRequestError` or `PolicyDeniedError`. */
export async function approve(request: SignRequest, policy: PolicyConfig): Promise<Approved> {
  const screened = screen(request, policy);
  await proveKeyPossession(screened);
  return screened;
}
