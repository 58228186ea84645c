/**
 * The three spellings of a distinguished name that Cloudflare puts into `cf.tlsClientAuth`
 * (cloudflare-docs, ruleset-engine fields `cf.tls_client_auth.cert_subject_dn*`):
 *
 * - `certSubjectDN` / `certSubjectDNRFC2253`: RFC 2253, most specific RDN first, `,` between RDNs
 *   ("CN=James Royal,OU=Access Admins,O=Access,L=Austin,ST=Texas,C=US");
 * - `certSubjectDNLegacy`: OpenSSL's one-line form in encoding order
 *   ("/C=US/ST=Texas/L=Austin/O=Access/OU=Access Admins/CN=James Royal").
 */

/** One RDN as `@peculiar/x509`'s `Name.toJSON()` gives it: attribute short name (or OID) → values. */
export type JsonRdn = Readonly<Record<string, readonly string[]>>;

/** Short names OpenSSL prints in its one-line form, where they differ from `@peculiar/x509`'s. */
const LEGACY_NAMES: Readonly<Record<string, string>> = { E: "emailAddress", G: "GN", I: "initials" };

/** RFC 2253 §2.4: escape `,`, `+`, `"`, `\`, `<`, `>`, `;`, a leading `#` or space and a trailing space. */
function escapeRfc2253(value: string): string {
  return value
    .replace(/[,+"\\<>;]/g, (c) => `\\${c}`)
    .replace(/^[ #]/, (c) => `\\${c}`)
    .replace(/ $/, "\\ ");
}

function attributes(rdn: JsonRdn, nameOf: (type: string) => string, escape: (v: string) => string): string[] {
  return Object.entries(rdn).flatMap(([type, values]) => values.map((v) => `${nameOf(type)}=${escape(v)}`));
}

/** RFC 2253 string of a name given in encoding order (most significant RDN first). */
export function formatRfc2253(name: readonly JsonRdn[]): string {
  return [...name]
    .reverse()
    .map((rdn) => attributes(rdn, (t) => t, escapeRfc2253).join("+"))
    .join(",");
}

/** OpenSSL's legacy one-line string (`X509_NAME_oneline`) of a name given in encoding order. */
export function formatLegacy(name: readonly JsonRdn[]): string {
  return name
    .map((rdn) => `/${attributes(rdn, (t) => LEGACY_NAMES[t] ?? t, (v) => v).join("+")}`)
    .join("");
}
