/**
 * The shim's configuration, read from the environment (the Deployment in infra/k8s sets it) and validated
 * at start-up: a bad value stops the process with a message naming the variable, not a crash later.
 */
import { hostname as osHostname } from "node:os";
import { z } from "zod";
import { ConfigurationError, MAX_BATCH_ITEMS, SignerName } from "@edgeca/shared";

// RFC 1123 label (namespaces) and subdomain (object names).
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

const bool = z.enum(["true", "false"]).transform((v) => v === "true");
const int = (min: number, max: number) =>
  z.string().regex(/^\d+$/, "must be a whole number").transform(Number).pipe(z.number().int().min(min).max(max));
const objectRef = z
  .string()
  .regex(/^[^/]+\/[^/]+$/, 'must be "<namespace>/<name>"')
  .transform((v) => {
    const [namespace = "", name = ""] = v.split("/");
    return { namespace, name };
  })
  .pipe(z.object({ namespace: z.string().regex(DNS_LABEL, "namespace is not a DNS label"), name: z.string().regex(DNS_SUBDOMAIN, "name is not a DNS subdomain") }));

/** The environment variables the shim reads, with their defaults. Schema and type share one name. */
export const ShimEnv = z.object({
  EDGECA_SIGNER_URL: z.url({ protocol: /^https$/, error: "must be an https:// URL" }).transform((v) => v.replace(/\/+$/, "")),
  EDGECA_SIGNER_NAMES: z
    .string()
    .transform((v) => v.split(",").map((s) => s.trim()).filter((s) => s !== ""))
    .pipe(z.array(SignerName).min(1, "must name at least one signer")),
  EDGECA_CLIENT_CERT_FILE: z.string().min(1),
  EDGECA_CLIENT_KEY_FILE: z.string().min(1),
  /** Extra CA for the signer's TLS certificate (locally: the edge emulator's); production uses system trust. */
  EDGECA_SIGNER_CA_FILE: z.string().min(1).optional(),
  /** The projected ServiceAccount token sent as the bearer token; unset = no token. */
  EDGECA_TOKEN_FILE: z.string().min(1).optional(),
  /** The audience the token must carry (checked at start, so a wrong projection fails loudly). */
  EDGECA_TOKEN_AUDIENCE: z.string().min(1).optional(),
  /** Reconciles in flight; sized so tens of ms to the signer still keep pace with kube-apiserver. */
  EDGECA_CONCURRENCY: int(1, 256).default(32),
  /** Most CSRs in one POST /v1/sign-batch (docs/shim.md "Batches"); 1 = every CSR alone over /v1/sign. */
  EDGECA_SIGNER_BATCH_MAX: int(1, MAX_BATCH_ITEMS).default(16),
  /** Under load, how long a batch that is not full waits for more CSRs (docs/shim.md "Batches"); 0 = never. */
  EDGECA_SIGNER_BATCH_WAIT_MS: int(0, 1000).default(60),
  EDGECA_BACKOFF_BASE_MS: int(1, 60_000).default(200),
  EDGECA_BACKOFF_MAX_MS: int(1, 600_000).default(5_000),
  EDGECA_SIGNER_TIMEOUT_MS: int(100, 120_000).default(10_000),
  EDGECA_PUBLISH_SECRET: bool.default(true),
  EDGECA_BUNDLE_SECRET: objectRef.default({ namespace: "istio-system", name: "external-ca-cert" }),
  EDGECA_BUNDLE_SECRET_KEY: z.string().regex(/^[-._a-zA-Z0-9]{1,253}$/, "is not a valid Secret key").default("root-cert.pem"),
  /** "auto" publishes a ClusterTrustBundle only where certificates.k8s.io/v1beta1 serves it. */
  EDGECA_PUBLISH_CLUSTER_TRUST_BUNDLE: z.enum(["auto", "true", "false"]).default("auto"),
  EDGECA_CLUSTER_TRUST_BUNDLE_SUFFIX: z.string().regex(DNS_LABEL, "must be a DNS label").default("edgeca"),
  /** "auto" serves PodCertificateRequests only where certificates.k8s.io/v1beta1 serves them. */
  EDGECA_POD_CERTIFICATES: z.enum(["auto", "true", "false"]).default("auto"),
  EDGECA_BUNDLE_REFRESH_SECONDS: int(1, 86_400).default(60),
  EDGECA_LEADER_ELECTION: bool.default(true),
  EDGECA_LEASE: objectRef.optional(),
  EDGECA_LEASE_DURATION_SECONDS: int(1, 3_600).default(15),
  EDGECA_RENEW_DEADLINE_SECONDS: int(1, 3_600).default(10),
  EDGECA_RETRY_PERIOD_SECONDS: int(1, 3_600).default(2),
  EDGECA_HTTP_HOST: z.string().min(1).default("0.0.0.0"),
  EDGECA_HTTP_PORT: int(0, 65_535).default(8080),
  EDGECA_LOG_LEVEL: z.enum(["debug", "info", "warn", "error"]).default("info"),
  POD_NAME: z.string().min(1).optional(),
  POD_NAMESPACE: z.string().regex(DNS_LABEL, "must be a DNS label").optional(),
  KUBECONFIG: z.string().min(1).optional(),
});
export type ShimEnv = z.infer<typeof ShimEnv>;

/** The validated configuration `startShim` runs with. */
export interface ShimConfig {
  readonly signerUrl: string;
  readonly signerNames: readonly string[];
  readonly clientCertFile: string;
  readonly clientKeyFile: string;
  readonly signerCaFile: string | undefined;
  readonly tokenFile: string | undefined;
  readonly tokenAudience: string | undefined;
  readonly concurrency: number;
  /** Most CSRs per request to the signer (1 = no batches). */
  readonly signerBatchMax: number;
  /** Under load, ms a batch that is not full waits for more CSRs (0 = never). */
  readonly signerBatchWaitMs: number;
  readonly backoff: { readonly baseMs: number; readonly maxMs: number };
  readonly signerTimeoutMs: number;
  readonly bundleSecret: { readonly namespace: string; readonly name: string; readonly key: string } | undefined;
  readonly clusterTrustBundle: { readonly mode: "auto" | "true"; readonly suffix: string } | undefined;
  readonly bundleRefreshMs: number;
  /** PodCertificateRequests for the signer names: "auto" (where served, the default), "true", "false". */
  readonly podCertificates?: "auto" | "true" | "false";
  readonly leaderElection:
    | { readonly namespace: string; readonly name: string; readonly identity: string; readonly leaseDurationMs: number; readonly renewDeadlineMs: number; readonly retryPeriodMs: number }
    | undefined;
  readonly http: { readonly host: string; readonly port: number };
  readonly logLevel: "debug" | "info" | "warn" | "error";
  readonly kubeconfig: string | undefined;
}

/**
 * Parses `env` (normally `process.env`) into a ShimConfig or throws a ConfigurationError naming each bad variable.
 * Without POD_NAME the Lease identity is the machine's host name (a pod's is its name), never a constant
 * two replicas would share.
 */
export function loadConfig(env: Readonly<Record<string, string | undefined>>, hostname = osHostname()): ShimConfig {
  // Empty strings count as unset, as they do in a Deployment with `value: ""`.
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ""));
  const parsed = ShimEnv.safeParse(present);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => {
      // An issue inside a list (EDGECA_SIGNER_NAMES) has the item's index after the variable's name.
      const variable = i.path[0] === undefined ? "" : String(i.path[0]);
      const message = variable !== "" && present[variable] === undefined ? "is required (not set)" : i.message;
      return `  ${variable || "(environment)"}: ${message}`;
    });
    throw new ConfigurationError(`invalid configuration:\n${lines.join("\n")}`);
  }
  const e = parsed.data;
  const problems: string[] = [];
  if (e.EDGECA_BACKOFF_MAX_MS < e.EDGECA_BACKOFF_BASE_MS) problems.push("EDGECA_BACKOFF_MAX_MS: must be at least EDGECA_BACKOFF_BASE_MS");
  // client-go's rule: the lease outlives the renew deadline, which outlives the retry period.
  if (!(e.EDGECA_LEASE_DURATION_SECONDS > e.EDGECA_RENEW_DEADLINE_SECONDS)) problems.push("EDGECA_LEASE_DURATION_SECONDS: must be greater than EDGECA_RENEW_DEADLINE_SECONDS");
  if (!(e.EDGECA_RENEW_DEADLINE_SECONDS > e.EDGECA_RETRY_PERIOD_SECONDS)) problems.push("EDGECA_RENEW_DEADLINE_SECONDS: must be greater than EDGECA_RETRY_PERIOD_SECONDS");
  if (e.EDGECA_TOKEN_AUDIENCE !== undefined && e.EDGECA_TOKEN_FILE === undefined) problems.push("EDGECA_TOKEN_AUDIENCE: set, but EDGECA_TOKEN_FILE is not");
  if (new Set(e.EDGECA_SIGNER_NAMES).size !== e.EDGECA_SIGNER_NAMES.length) problems.push("EDGECA_SIGNER_NAMES: lists a signer name twice");
  if (problems.length > 0) throw new ConfigurationError(`invalid configuration:\n${problems.map((p) => `  ${p}`).join("\n")}`);

  const leaseNamespace = e.POD_NAMESPACE ?? "edgeca-system";
  return {
    signerUrl: e.EDGECA_SIGNER_URL,
    signerNames: e.EDGECA_SIGNER_NAMES,
    clientCertFile: e.EDGECA_CLIENT_CERT_FILE,
    clientKeyFile: e.EDGECA_CLIENT_KEY_FILE,
    signerCaFile: e.EDGECA_SIGNER_CA_FILE,
    tokenFile: e.EDGECA_TOKEN_FILE,
    tokenAudience: e.EDGECA_TOKEN_AUDIENCE,
    concurrency: e.EDGECA_CONCURRENCY,
    signerBatchMax: e.EDGECA_SIGNER_BATCH_MAX,
    signerBatchWaitMs: e.EDGECA_SIGNER_BATCH_WAIT_MS,
    backoff: { baseMs: e.EDGECA_BACKOFF_BASE_MS, maxMs: e.EDGECA_BACKOFF_MAX_MS },
    signerTimeoutMs: e.EDGECA_SIGNER_TIMEOUT_MS,
    bundleSecret: e.EDGECA_PUBLISH_SECRET ? { ...e.EDGECA_BUNDLE_SECRET, key: e.EDGECA_BUNDLE_SECRET_KEY } : undefined,
    clusterTrustBundle:
      e.EDGECA_PUBLISH_CLUSTER_TRUST_BUNDLE === "false" ? undefined : { mode: e.EDGECA_PUBLISH_CLUSTER_TRUST_BUNDLE, suffix: e.EDGECA_CLUSTER_TRUST_BUNDLE_SUFFIX },
    bundleRefreshMs: e.EDGECA_BUNDLE_REFRESH_SECONDS * 1000,
    podCertificates: e.EDGECA_POD_CERTIFICATES,
    leaderElection: e.EDGECA_LEADER_ELECTION
      ? {
          namespace: e.EDGECA_LEASE?.namespace ?? leaseNamespace,
          name: e.EDGECA_LEASE?.name ?? "edgeca-shim",
          identity: e.POD_NAME ?? hostname,
          leaseDurationMs: e.EDGECA_LEASE_DURATION_SECONDS * 1000,
          renewDeadlineMs: e.EDGECA_RENEW_DEADLINE_SECONDS * 1000,
          retryPeriodMs: e.EDGECA_RETRY_PERIOD_SECONDS * 1000,
        }
      : undefined,
    http: { host: e.EDGECA_HTTP_HOST, port: e.EDGECA_HTTP_PORT },
    logLevel: e.EDGECA_LOG_LEVEL,
    kubeconfig: e.KUBECONFIG,
  };
}
