/**
 * Kubernetes signer names, checked exactly as kube-apiserver checks `spec.signerName`
 * (kubernetes pkg/apis/core/validation/names.go `ValidateSignerName`): one `/`; before it a domain of at
 * least two RFC 1123 labels, at most 253 characters; after it a path of `.`-separated parts, each an
 * RFC 1123 subdomain; at most 571 characters in all. One definition for the shim's environment and the
 * signer's configuration, so a name one accepts the apiserver never refuses (and the other way round).
 */
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const MAX_DOMAIN = 253;
const MAX_NAME = MAX_DOMAIN + 1 + 253 + 63 + 1;

/** Why `name` is not a signer name the apiserver accepts, or undefined when it is one. */
export function signerNameProblem(name: string): string | undefined {
  const segments = name.split("/");
  if (segments.length !== 2) return `"${name}" must be a domain and a path with exactly one "/", e.g. example.com/foo`;
  const [domain = "", path = ""] = segments;
  if (domain.length > MAX_DOMAIN) return `the domain of "${name}" is longer than ${MAX_DOMAIN} characters`;
  const labels = domain.split(".");
  const badLabel = labels.find((l) => !DNS_LABEL.test(l));
  if (badLabel !== undefined) return `the domain of "${name}" has "${badLabel}", which is not an RFC 1123 label (lowercase letters, digits and "-", at most 63)`;
  if (labels.length < 2) return `the domain of "${name}" needs at least two labels separated by dots, e.g. example.com`;
  const badPart = path.split(".").find((p) => !DNS_SUBDOMAIN.test(p));
  if (badPart !== undefined) return `the path of "${name}" has "${badPart}", which is not an RFC 1123 subdomain (lowercase letters, digits, "-" and ".")`;
  if (name.length > MAX_NAME) return `"${name.slice(0, 40)}…" is longer than ${MAX_NAME} characters`;
  return undefined;
}
