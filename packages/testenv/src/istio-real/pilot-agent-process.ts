/**
 * The real `pilot-agent proxy sidecar` without Envoy, as a workload's sidecar agent: it authenticates to
 * istiod's CA service with its ServiceAccount token (audience `istio-ca`), sends a CSR for its own key, and
 * writes `key.pem`, `cert-chain.pem` and `root-cert.pem` to OUTPUT_CERTS, renewing them itself at half
 * their lifetime.
 *
 * What a pod would have mounted lives in the agent's own working directory (the agent reads
 * `./var/run/secrets/tokens/istio-token` and opens its sockets under `./etc/istio/proxy` and `./var/run`):
 * each agent has its own. It reaches istiod at a 127.0.0.1 address (discoveryAddress) and checks istiod's
 * serving certificate for ISTIOD_SAN against istiod's own root. CLOUD_PLATFORM=none: no metadata probes.
 * Its status server cannot be turned off (statusPort must be 1..65535) and binds ":<statusPort>", all
 * interfaces: with an AgentNetwork it runs in a network namespace holding only `lo`.
 */
import { createPublicKey, X509Certificate } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { ControlPlaneClient } from "../control-plane/index.ts";
import { freePort } from "../control-plane/index.ts";
import { ProcessGroup, startWatchdog } from "../control-plane/process-group.ts";
import { ISTIOD_INSIDE } from "./agent-network.ts";
import type { AgentNetwork } from "./agent-network.ts";
import { ISTIOD_SAN } from "./istiod-process.ts";
import { logTail } from "./log-tail.ts";
import { waitUntil } from "./wait-until.ts";

/** The agent's key: RSA (upstream's default, 2048 bits) or ECDSA (ECC_SIGNATURE_ALGORITHM=ECDSA). */
export type AgentKey = { readonly rsaBits: number } | { readonly ecdsaCurve: "P256" | "P384" };

export interface StartPilotAgentOptions {
  readonly binary: string;
  readonly controlPlane: ControlPlaneClient;
  /** istiod's TLS gRPC address (127.0.0.1:<port>) and its own root (ConfigMap istio-ca-root-cert). */
  readonly istiod: { readonly secureGrpcAddress: string; readonly istiodRootPem: string };
  readonly namespace: string;
  readonly serviceAccount: string;
  readonly podName: string;
  /** Working directory (created); certificates go to `<dir>/certs`, the log to `<dir>/pilot-agent.log`. */
  readonly dir: string;
  readonly key?: AgentKey;
  /** SECRET_TTL, the lifetime the agent asks for; the apiserver refuses expirationSeconds below 600. */
  readonly secretTtlSeconds?: number;
  readonly trustDomain?: string;
  /**
   * SECRET_GRACE_PERIOD_RATIO (upstream 0.5, with ±0.01 jitter): the agent renews once this fraction of
   * the lifetime is left. Given here, the jitter is 0, so e.g. 0.95 renews a 600 s certificate after 30 s.
   */
  readonly secretGracePeriodRatio?: number;
  /** Run inside this network namespace (see agent-network.ts); in the host's otherwise. */
  readonly network?: AgentNetwork;
}

/** What the agent wrote to OUTPUT_CERTS. */
export interface AgentCertificates {
  readonly keyPem: string;
  /** Leaf first, then intermediates and the root, as pilot-agent writes it. */
  readonly chainPem: string;
  readonly rootPem: string;
  readonly leaf: X509Certificate;
}

export interface PilotAgent {
  readonly outputDir: string;
  readonly logFile: string;
  readonly spiffeId: string;
  get running(): boolean;
  /** The files in OUTPUT_CERTS, or undefined while there is no complete set. */
  certificates(): Promise<AgentCertificates | undefined>;
  /** Waits (bounded) for a certificate whose serial differs from `notSerial`; the error quotes the log. */
  waitForCertificate(timeoutMs: number, notSerial?: string): Promise<AgentCertificates>;
  logTail(lines?: number): Promise<string>;
  stop(): Promise<void>;
}

export const MIN_SECRET_TTL_SECONDS = 600;

/** Starts one agent; resolves once the process runs (not once it has a certificate). */
export async function startPilotAgent(options: StartPilotAgentOptions): Promise<PilotAgent> {
  const ttl = options.secretTtlSeconds ?? 86_400;
  if (!Number.isInteger(ttl) || ttl < MIN_SECRET_TTL_SECONDS) {
    throw new Error(`secretTtlSeconds ${String(ttl)}: the apiserver refuses CSR expirationSeconds below ${MIN_SECRET_TTL_SECONDS}`);
  }
  const { dir } = options;
  const trustDomain = options.trustDomain ?? "cluster.local";
  const outputDir = join(dir, "certs");
  const tokenDir = join(dir, "var", "run", "secrets", "tokens");
  const rootDir = join(dir, "var", "run", "secrets", "istio");
  await Promise.all([outputDir, tokenDir, rootDir].map(async (d) => await mkdir(d, { recursive: true })));
  const token = await options.controlPlane.mintToken({
    namespace: options.namespace,
    serviceAccount: options.serviceAccount,
    audiences: ["istio-ca"],
    expirationSeconds: 3600 * 6,
  });
  await writeFile(join(tokenDir, "istio-token"), token, { mode: 0o600 });
  const istiodRoot = join(rootDir, "root-cert.pem");
  await writeFile(istiodRoot, options.istiod.istiodRootPem);

  const env = await agentEnv(options, { trustDomain, outputDir, ttl, istiodRoot });
  const logFile = join(dir, "pilot-agent.log");
  // `env -i -C`: exactly this environment and working directory, then exec (the pid stays the group's).
  const envArgs = ["-i", "-C", dir, ...Object.entries(env).map(([k, v]) => `${k}=${v}`), options.binary, "proxy", "sidecar"];
  const run = options.network === undefined ? { command: "env", args: envArgs } : options.network.wrap("env", envArgs);
  const group = ProcessGroup.start(`pilot-agent ${options.namespace}/${options.podName}`, run.command, run.args, logFile);
  const watchdog = startWatchdog(process.pid, [group.pid], "");

  const certificates = async (): Promise<AgentCertificates | undefined> => await readCertificates(outputDir);
  return {
    outputDir,
    logFile,
    spiffeId: `spiffe://${trustDomain}/ns/${options.namespace}/sa/${options.serviceAccount}`,
    get running() {
      return group.running;
    },
    certificates,
    waitForCertificate: async (timeoutMs: number, notSerial?: string) =>
      await waitUntil({
        probe: async () => {
          const found = await certificates();
          return found !== undefined && found.leaf.serialNumber !== notSerial ? found : undefined;
        },
        timeoutMs,
        alive: () => group.running,
        failure: async (why) =>
          new Error(`pilot-agent ${options.namespace}/${options.podName} wrote no ${notSerial === undefined ? "" : "new "}certificate (${why}); last lines of ${logFile}:\n${await logTail(logFile)}`),
      }),
    logTail: async (lines?: number) => await logTail(logFile, lines),
    stop: async () => {
      await group.stop();
      watchdog.kill("SIGKILL");
    },
  };
}

/** The agent's whole environment (it gets nothing else): what the sidecar injector would set. */
async function agentEnv(
  options: StartPilotAgentOptions,
  files: { readonly trustDomain: string; readonly outputDir: string; readonly ttl: number; readonly istiodRoot: string },
): Promise<Record<string, string>> {
  return {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: options.dir,
    POD_NAME: options.podName,
    POD_NAMESPACE: options.namespace,
    SERVICE_ACCOUNT: options.serviceAccount,
    INSTANCE_IP: "127.0.0.1",
    ISTIO_META_CLUSTER_ID: "Kubernetes",
    TRUST_DOMAIN: files.trustDomain,
    JWT_POLICY: "third-party-jwt",
    CLOUD_PLATFORM: "none",
    DISABLE_ENVOY: "true",
    OUTPUT_CERTS: files.outputDir,
    SECRET_TTL: `${String(files.ttl)}s`,
    CA_ROOT_CA: files.istiodRoot,
    XDS_ROOT_CA: files.istiodRoot,
    ISTIOD_SAN,
    PROXY_CONFIG: JSON.stringify({
      discoveryAddress: options.network === undefined ? options.istiod.secureGrpcAddress : ISTIOD_INSIDE,
      statusPort: options.network === undefined ? await freePort() : options.network.statusPort(),
    }),
    ...keyEnv(options.key ?? { rsaBits: 2048 }),
    ...(options.secretGracePeriodRatio === undefined
      ? {}
      : { SECRET_GRACE_PERIOD_RATIO: String(options.secretGracePeriodRatio), SECRET_GRACE_PERIOD_RATIO_JITTER: "0" }),
  };
}

function keyEnv(key: AgentKey): Record<string, string> {
  if ("ecdsaCurve" in key) return { ECC_SIGNATURE_ALGORITHM: "ECDSA", ECC_CURVE: key.ecdsaCurve };
  return { WORKLOAD_RSA_KEY_SIZE: String(key.rsaBits) };
}

async function readCertificates(outputDir: string): Promise<AgentCertificates | undefined> {
  try {
    const [keyPem, chainPem, rootPem] = await Promise.all(
      ["key.pem", "cert-chain.pem", "root-cert.pem"].map(async (f) => await readFile(join(outputDir, f), "utf8")),
    );
    if (keyPem === undefined || chainPem === undefined || rootPem === undefined || chainPem === "" || keyPem === "") return undefined;
    const leaf = new X509Certificate(chainPem);
    // The files are written one after the other: during a renewal the key may already be the new one.
    const keySpki = createPublicKey(keyPem).export({ type: "spki", format: "der" });
    if (!leaf.publicKey.export({ type: "spki", format: "der" }).equals(keySpki)) return undefined;
    return { keyPem, chainPem, rootPem, leaf };
  } catch {
    // Not written yet, or caught between two writes: the caller polls again.
    return undefined;
  }
}
