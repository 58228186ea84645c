/** How a kubeconfig user authenticates: a client certificate or a bearer token. */
export type KubeconfigCredentials =
  | { readonly clientCertPem: string; readonly clientKeyPem: string }
  | { readonly token: string };

/** The fields of a single-cluster, single-user kubeconfig. */
export interface KubeconfigParams {
  readonly server: string;
  readonly caPem: string;
  readonly user: string;
  readonly credentials: KubeconfigCredentials;
  /** Context, cluster and default namespace names; default `edgeca`, `edgeca`, none. */
  readonly contextName?: string;
  readonly namespace?: string;
}

const b64 = (text: string): string => Buffer.from(text, "utf8").toString("base64");

/**
 * Renders a kubeconfig (clientcmd v1) as YAML. Every value is a plain scalar that needs no quoting
 * except the token and names, which are JSON-quoted (JSON strings are valid YAML scalars).
 */
export function renderKubeconfig(params: KubeconfigParams): string {
  const context = params.contextName ?? "edgeca";
  const q = (s: string): string => JSON.stringify(s);
  const userLines =
    "token" in params.credentials
      ? [`    token: ${q(params.credentials.token)}`]
      : [
          `    client-certificate-data: ${b64(params.credentials.clientCertPem)}`,
          `    client-key-data: ${b64(params.credentials.clientKeyPem)}`,
        ];
  return [
    "apiVersion: v1",
    "kind: Config",
    "clusters:",
    `- name: ${q(context)}`,
    "  cluster:",
    `    server: ${q(params.server)}`,
    `    certificate-authority-data: ${b64(params.caPem)}`,
    "users:",
    `- name: ${q(params.user)}`,
    "  user:",
    ...userLines,
    "contexts:",
    `- name: ${q(context)}`,
    "  context:",
    `    cluster: ${q(context)}`,
    `    user: ${q(params.user)}`,
    ...(params.namespace === undefined ? [] : [`    namespace: ${q(params.namespace)}`]),
    `current-context: ${q(context)}`,
    "",
  ].join("\n");
}
