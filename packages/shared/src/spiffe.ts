/**
 * SPIFFE IDs (SPIFFE-ID spec §2) and Istio's workload form `spiffe://<trust-domain>/ns/<ns>/sa/<sa>`.
 */

/** A SPIFFE ID that is malformed or not a workload ID. The message names the rule broken. */
export class SpiffeError extends Error {
  override readonly name = "SpiffeError";
}

/** §2.3: a SPIFFE ID is at most 2048 bytes. */
const MAX_ID_LENGTH = 2048;

const SCHEME = "spiffe://";

/** §2.1: trust domain characters are lowercase letters, digits, ".", "-" and "_". */
function isTrustDomainChar(c: number): boolean {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c === 0x2e || c === 0x2d || c === 0x5f;
}

/** §2.2: path segment characters are letters, digits, ".", "-" and "_". */
function isSegmentChar(c: number): boolean {
  return isTrustDomainChar(c) || (c >= 0x41 && c <= 0x5a);
}

function every(text: string, test: (c: number) => boolean): boolean {
  for (let i = 0; i < text.length; i++) if (!test(text.charCodeAt(i))) return false;
  return true;
}

/** Whether `td` is a valid SPIFFE trust domain name. */
export function isValidTrustDomain(td: string): boolean {
  return td.length > 0 && td.length <= 255 && every(td, isTrustDomainChar);
}

/** A parsed SPIFFE ID. */
export interface SpiffeId {
  readonly trustDomain: string;
  readonly segments: readonly string[];
}

/** Parses a SPIFFE ID strictly: scheme, trust domain, path segments; no query, fragment, port or user info. */
export function parseSpiffeId(uri: string): SpiffeId {
  if (uri.length > MAX_ID_LENGTH) throw new SpiffeError(`SPIFFE ID longer than ${MAX_ID_LENGTH} bytes`);
  if (!uri.startsWith(SCHEME)) throw new SpiffeError(`not a SPIFFE ID (scheme must be "spiffe://"): ${uri}`);
  const rest = uri.slice(SCHEME.length);
  const slash = rest.indexOf("/");
  const trustDomain = slash < 0 ? rest : rest.slice(0, slash);
  if (!isValidTrustDomain(trustDomain)) throw new SpiffeError(`invalid SPIFFE trust domain "${trustDomain}"`);
  if (slash < 0) return { trustDomain, segments: [] };
  const segments = rest.slice(slash + 1).split("/");
  for (const s of segments) {
    if (s === "") throw new SpiffeError(`SPIFFE ID has an empty path segment: ${uri}`);
    if (s === "." || s === "..") throw new SpiffeError(`SPIFFE ID has a relative path segment: ${uri}`);
    if (!every(s, isSegmentChar)) throw new SpiffeError(`SPIFFE ID path segment has characters outside [A-Za-z0-9._-]: ${uri}`);
  }
  return { trustDomain, segments };
}

/** Istio's workload identity. */
export interface WorkloadId {
  readonly trustDomain: string;
  readonly namespace: string;
  readonly serviceAccount: string;
}

/**
 * Whether `text[start, end)` is one RFC 1123 label as Kubernetes reads it: lowercase alphanumerics and
 * '-', starting and ending alphanumeric (the length is the caller's: it differs per kind of name).
 */
function isLabel(text: string, start: number, end: number): boolean {
  if (end <= start) return false;
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    const alnum = (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39);
    if (!alnum && (c !== 0x2d || i === start || i === end - 1)) return false;
  }
  return true;
}

/** Kubernetes' IsDNS1123Label, which a Namespace name must pass: one label of at most 63 characters. */
export function isDnsLabel(name: string): boolean {
  return name.length <= 63 && isLabel(name, 0, name.length);
}

/**
 * Kubernetes' IsDNS1123Subdomain, which a ServiceAccount name must pass: labels joined by '.', at most 253
 * characters in all. Like Kubernetes, no per-label limit: a name Kubernetes admits must not be refused here.
 */
export function isDnsSubdomain(name: string): boolean {
  if (name.length > 253) return false;
  let start = 0;
  for (let dot = name.indexOf("."); dot >= 0; dot = name.indexOf(".", start)) {
    if (!isLabel(name, start, dot)) return false;
    start = dot + 1;
  }
  return isLabel(name, start, name.length);
}

/** A name for a message: quoted, and cut short so a 2,000-character segment does not fill the detail. */
function quote(name: string): string {
  return JSON.stringify(name.length > 80 ? `${name.slice(0, 80)}…` : name);
}

/**
 * A valid workload ID read by offsets, without splitting the path into an array of segments; undefined
 * for anything else, which `checkedWorkloadId` then reads rule by rule to name what was wrong. Whatever
 * this accepts, that accepts with the same result: a DNS label or subdomain is a non-empty segment of
 * segment characters that is neither "." nor "..".
 */
function wellFormedWorkloadId(uri: string): WorkloadId | undefined {
  if (uri.length > MAX_ID_LENGTH || !uri.startsWith(SCHEME)) return undefined;
  const trustDomainEnd = uri.indexOf("/", SCHEME.length);
  if (trustDomainEnd < 0 || !uri.startsWith("/ns/", trustDomainEnd)) return undefined;
  const namespaceEnd = uri.indexOf("/", trustDomainEnd + 4);
  if (namespaceEnd < 0 || !uri.startsWith("/sa/", namespaceEnd) || uri.includes("/", namespaceEnd + 4)) return undefined;
  const trustDomain = uri.slice(SCHEME.length, trustDomainEnd);
  const namespace = uri.slice(trustDomainEnd + 4, namespaceEnd);
  const serviceAccount = uri.slice(namespaceEnd + 4);
  if (!isValidTrustDomain(trustDomain) || !isDnsLabel(namespace) || !isDnsSubdomain(serviceAccount)) return undefined;
  return { trustDomain, namespace, serviceAccount };
}

/**
 * Parses `spiffe://<td>/ns/<ns>/sa/<sa>`; throws `SpiffeError` for anything else. The namespace and the
 * ServiceAccount must be names Kubernetes could have given them: the ID names a workload's identity,
 * and anything Kubernetes would never create is an ID no real workload holds.
 */
export function parseWorkloadId(uri: string): WorkloadId {
  return wellFormedWorkloadId(uri) ?? checkedWorkloadId(uri);
}

/** `parseWorkloadId` rule by rule: the SPIFFE ID first, then the workload form, each refusal naming its rule. */
function checkedWorkloadId(uri: string): WorkloadId {
  const id = parseSpiffeId(uri);
  const [ns, namespace, sa, serviceAccount, ...extra] = id.segments;
  if (ns !== "ns" || sa !== "sa" || namespace === undefined || serviceAccount === undefined || extra.length > 0) {
    throw new SpiffeError(`not a workload SPIFFE ID of the form spiffe://<trust-domain>/ns/<namespace>/sa/<service-account>: ${uri}`);
  }
  if (!isDnsLabel(namespace)) {
    throw new SpiffeError(`namespace ${quote(namespace)} is not a DNS label (RFC 1123: lowercase alphanumerics and '-', starting and ending alphanumeric, at most 63 characters)`);
  }
  if (!isDnsSubdomain(serviceAccount)) {
    throw new SpiffeError(
      `service account ${quote(serviceAccount)} is not a DNS subdomain (RFC 1123: labels of lowercase alphanumerics and '-', starting and ending alphanumeric, joined by '.', at most 253 characters)`,
    );
  }
  return { trustDomain: id.trustDomain, namespace, serviceAccount };
}
