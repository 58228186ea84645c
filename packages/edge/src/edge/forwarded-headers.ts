/**
 * Which headers cross the edge. Towards the Worker: the client's, minus hop-by-hop headers (RFC 9110
 * §7.6.1), minus everything the runtime or Cloudflare treats specially — `MF-*` would steer Miniflare or
 * workerd (`MF-Route-Override`, the cf-blob header itself), `cf-*` and `x-forwarded-proto` are Cloudflare's
 * to set — plus what Cloudflare adds. Back to the client: the Worker's, minus hop-by-hop and `MF-*`, so
 * nothing of the emulation leaks.
 */

/** Headers that describe one HTTP/1.1 hop and must not be forwarded (RFC 9110 §7.6.1). */
const HOP_BY_HOP = new Set(["connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade"]);

/** Set by the edge itself from what it knows (the authority, the body it read, the 100-continue it answered). */
const RECOMPUTED = new Set(["host", "content-length", "expect"]);

/** Cloudflare sets these for a Worker and never passes a client's own (client values would spoof them). */
const CLOUDFLARE_SETS = new Set(["x-forwarded-proto", "true-client-ip", "x-real-ip"]);

/** The header names a `Connection` header lists are hop-by-hop too (RFC 9110 §7.6.1). */
function connectionOptions(raw: readonly string[]): Set<string> {
  const named = new Set<string>();
  for (let i = 0; i + 1 < raw.length; i += 2) {
    if (raw[i]?.toLowerCase() !== "connection") continue;
    for (const token of (raw[i + 1] ?? "").split(",")) named.add(token.trim().toLowerCase());
  }
  return named;
}

function isRuntimeHeader(lower: string): boolean {
  return lower.startsWith("mf-");
}

/** What the edge adds on the way to the Worker. */
export interface AddedRequestHeaders {
  readonly host: string;
  readonly clientIp: string;
  /** Name and value of workerd's cf-blob header (the `cf` object as JSON). */
  readonly cfBlobHeader: string;
  readonly cfBlob: string;
  /** Absent: the request carries no body (and no Content-Length). */
  readonly contentLength?: number;
}

/** The headers to send upstream, as a flat `[name, value, …]` list. */
export function requestHeadersToForward(raw: readonly string[], added: AddedRequestHeaders): string[] {
  const named = connectionOptions(raw);
  const blob = added.cfBlobHeader.toLowerCase();
  const out: string[] = ["host", added.host];
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i] ?? "";
    const lower = name.toLowerCase();
    if (HOP_BY_HOP.has(lower) || RECOMPUTED.has(lower) || CLOUDFLARE_SETS.has(lower) || named.has(lower)) continue;
    if (isRuntimeHeader(lower) || lower === blob || lower.startsWith("cf-")) continue;
    out.push(name, raw[i + 1] ?? "");
  }
  out.push("cf-connecting-ip", added.clientIp, "x-forwarded-proto", "https", added.cfBlobHeader, added.cfBlob);
  if (added.contentLength !== undefined) out.push("content-length", String(added.contentLength));
  return out;
}

/** The Worker's headers to send to the client; `content-length` is left to the edge (it sends the body it read). */
export function responseHeadersToReturn(raw: readonly string[]): string[] {
  const named = connectionOptions(raw);
  const out: string[] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i] ?? "";
    const lower = name.toLowerCase();
    if (HOP_BY_HOP.has(lower) || named.has(lower) || lower === "content-length" || isRuntimeHeader(lower)) continue;
    out.push(name, raw[i + 1] ?? "");
  }
  return out;
}
