/**
 * The request target a client sent (RFC 9112 §3.2), reduced to the path and query the upstream sees.
 * Origin form (`/v1/sign?x=1`) and absolute form (`https://host/v1/sign`) are accepted, as a front end
 * does; `*` (asterisk form), authority form and anything that is not a URL are refused with 400.
 */

/** The path and query to forward, or the reason the target is refused. */
export type RequestTarget = { readonly ok: true; readonly path: string } | { readonly ok: false; readonly reason: string };

const BASE = "http://edge.invalid";

/** Parses `target` (Node's `req.url`). */
export function parseRequestTarget(target: string | undefined): RequestTarget {
  if (target === undefined || target === "") return { ok: false, reason: "empty request target" };
  const shown = JSON.stringify(target.slice(0, 200));
  if (target.startsWith("/")) {
    // "//host/x" would be read as a network-path reference, changing the authority: refuse it.
    if (target.startsWith("//")) return { ok: false, reason: `request target ${shown} starts with "//"` };
    const url = URL.parse(target, BASE);
    if (url === null) return { ok: false, reason: `request target ${shown} is not a valid path` };
    return { ok: true, path: `${url.pathname}${url.search}` };
  }
  const url = URL.parse(target);
  if (url === null || (url.protocol !== "https:" && url.protocol !== "http:") || url.host === "") {
    return { ok: false, reason: `request target ${shown} is neither a path nor an absolute http(s) URL` };
  }
  return { ok: true, path: `${url.pathname}${url.search}` };
}
