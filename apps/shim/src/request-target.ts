/**
 * Where a request goes, as node:http and node:https take it in their options: what they would derive from
 * a URL, derived once instead of parsing a URL per request (the shim's signer and apiserver clients).
 */

/** The parts of a URL node:http(s) reads to send a request. */
export interface RequestTarget {
  readonly protocol: string;
  readonly hostname: string;
  readonly port: string;
  readonly path: string;
}

/** `url` as a request target; `path` (with its query) replaces the URL's own when given. */
export function requestTargetOf(url: URL, path = `${url.pathname}${url.search}`): RequestTarget {
  // An IPv6 literal is bracketed in a URL, bare in a hostname.
  const hostname = url.hostname.startsWith("[") ? url.hostname.slice(1, -1) : url.hostname;
  return { protocol: url.protocol, hostname, port: url.port, path };
}
