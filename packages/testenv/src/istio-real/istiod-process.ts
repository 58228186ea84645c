/**
 * The real istiod (`pilot-discovery discovery`) in registration-authority mode against a local control
 * plane, configured as Istio's "Custom CA Integration using Kubernetes CSR" task (Part 2) configures it:
 * `EXTERNAL_CA=ISTIOD_RA_KUBERNETES_API`, `K8S_SIGNER=<signer>`, the signer's roots from Secret
 * `istio-system/external-ca-cert` at `./etc/external-ca-cert/root-cert.pem` of its working directory (the
 * chart mounts the Secret there), and the `istio-system/istiod` ServiceAccount with the chart's RBAC.
 *
 * Every listener is moved to a free port on 127.0.0.1 (upstream binds all interfaces), and
 * CLOUD_PLATFORM=none stops platform detection from probing cloud metadata addresses. The process runs in
 * its own process group with only the environment given here.
 */
import { execFile } from "node:child_process";
import { mkdir, writeFile } from "node:fs/promises";
import { connect } from "node:net";
import { join } from "node:path";
import { promisify } from "node:util";
import type { ControlPlaneClient } from "../control-plane/index.ts";
import { freePort } from "../control-plane/index.ts";
import { ProcessGroup, startWatchdog } from "../control-plane/process-group.ts";
import { applyIstiodRbac } from "./istiod-rbac.ts";
import { logTail } from "./log-tail.ts";
import { waitUntil } from "./wait-until.ts";

const ISTIO_NAMESPACE = "istio-system";
/** Where istiod writes its own root (for its serving certificate) in every namespace. */
export const ISTIO_ROOT_CONFIGMAP = "istio-ca-root-cert";
/** The Secret the shim publishes the signer's roots to, and istiod's mount of it. */
export const EXTERNAL_CA_SECRET = { namespace: ISTIO_NAMESPACE, name: "external-ca-cert", key: "root-cert.pem" } as const;
/** The DNS name in istiod's serving certificate that agents check (ISTIOD_SAN). */
export const ISTIOD_SAN = "istiod.istio-system.svc";

export interface StartIstiodOptions {
  readonly binary: string;
  readonly controlPlane: ControlPlaneClient;
  readonly signerName: string;
  /** Working directory (created): etc/external-ca-cert/, kubeconfig, istiod.log. */
  readonly dir: string;
  /** istiod's client limits towards the apiserver (upstream default 80/160); they cap RA issuance. */
  readonly kubernetesApiQps?: number;
  readonly kubernetesApiBurst?: number;
  /** Bound on start-up (Secret published, ports open, /ready 200, istio-ca-root-cert written). Default 120 s. */
  readonly startTimeoutMs?: number;
  readonly log?: (line: string) => void;
}

/** A running istiod. */
export interface Istiod {
  /** `127.0.0.1:<port>` of the TLS gRPC server (upstream 15012): XDS and the CA service. */
  readonly secureGrpcAddress: string;
  readonly monitoringUrl: string;
  /** istiod's own root (ConfigMap istio-ca-root-cert): what agents trust for the connection to istiod. */
  readonly istiodRootPem: string;
  /** The external-ca-cert root-cert.pem istiod was started with. */
  readonly externalRootPem: string;
  /** e.g. `1.31-dev+eed52ebb66ad`: `pilot-discovery version`'s version and git revision. */
  readonly version: string;
  readonly logFile: string;
  readonly pid: number;
  get running(): boolean;
  logTail(lines?: number): Promise<string>;
  stop(): Promise<void>;
}

/** Applies istiod's RBAC, waits for external-ca-cert, starts istiod and resolves once it serves. */
export async function startIstiod(options: StartIstiodOptions): Promise<Istiod> {
  const { controlPlane: cp, dir } = options;
  const log = options.log ?? (() => undefined);
  const timeoutMs = options.startTimeoutMs ?? 120_000;
  await mkdir(join(dir, "etc", "external-ca-cert"), { recursive: true });
  await applyIstiodRbac(cp, options.signerName);
  const kube = await cp.kubeconfigForServiceAccount(ISTIO_NAMESPACE, "istiod", { path: join(dir, "kubeconfig") });
  const externalRootPem = await waitForExternalCaCert(cp, timeoutMs);
  await writeFile(join(dir, "etc", "external-ca-cert", EXTERNAL_CA_SECRET.key), externalRootPem);

  const [grpc, secureGrpc, http, https, monitoring, ctrlz] = await Promise.all(Array.from({ length: 6 }, freePort));
  const loopback = (port: number | undefined): string => `127.0.0.1:${String(port)}`;
  const args = [
    "discovery",
    `--kubeconfig=${kube.kubeconfigPath}`,
    `--grpcAddr=${loopback(grpc)}`,
    `--secureGRPCAddr=${loopback(secureGrpc)}`,
    `--httpAddr=${loopback(http)}`,
    `--httpsAddr=${loopback(https)}`,
    `--monitoringAddr=${loopback(monitoring)}`,
    `--ctrlz_port=${String(ctrlz)}`,
    "--ctrlz_address=127.0.0.1",
    `--kubernetesApiQPS=${String(options.kubernetesApiQps ?? 80)}`,
    `--kubernetesApiBurst=${String(options.kubernetesApiBurst ?? 160)}`,
    "--domain=cluster.local",
    "--log_output_level=default:info",
  ];
  const env = {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: dir,
    POD_NAME: "istiod-local",
    POD_NAMESPACE: ISTIO_NAMESPACE,
    REVISION: "default",
    CLUSTER_ID: "Kubernetes",
    JWT_POLICY: "third-party-jwt",
    CLOUD_PLATFORM: "none",
    EXTERNAL_CA: "ISTIOD_RA_KUBERNETES_API",
    K8S_SIGNER: options.signerName,
  };
  const logFile = join(dir, "istiod.log");
  const version = await istiodVersion(options.binary);
  log(`starting istiod ${version} in RA mode for ${options.signerName} (secure gRPC ${loopback(secureGrpc)}, log ${logFile})`);
  // `env -i -C` gives istiod exactly this environment and its working directory, then execs it (same pid).
  const envArgs = ["-i", "-C", dir, ...Object.entries(env).map(([k, v]) => `${k}=${v}`), options.binary, ...args];
  const group = ProcessGroup.start("istiod", "env", envArgs, logFile);
  // Should this process die by SIGKILL (no exit hook runs), istiod goes with it.
  const watchdog = startWatchdog(process.pid, [group.pid], "");
  const stop = async (): Promise<void> => {
    await group.stop();
    watchdog.kill("SIGKILL");
  };
  const fail = async (why: string): Promise<Error> =>
    new Error(`istiod did not become ready (${why}); last lines of ${logFile}:\n${await logTail(logFile)}`);
  try {
    const started = Date.now();
    const alive = (): boolean => group.running;
    await waitUntil({ probe: async () => ((await tcpOpen(secureGrpc ?? 0)) ? true : undefined), timeoutMs, alive, failure: fail });
    await waitUntil({ probe: async () => ((await httpOk(`http://${loopback(http)}/ready`)) ? true : undefined), timeoutMs, alive, failure: fail });
    const istiodRootPem = await waitUntil({ probe: async () => await istiodRoot(cp), timeoutMs, alive, failure: fail });
    log(`istiod ready in ${Date.now() - started} ms`);
    return {
      secureGrpcAddress: loopback(secureGrpc),
      monitoringUrl: `http://${loopback(monitoring)}/metrics`,
      istiodRootPem,
      externalRootPem,
      version,
      logFile,
      pid: group.pid,
      get running() {
        return group.running;
      },
      logTail: async (lines?: number) => await logTail(logFile, lines),
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** `pilot-discovery version -o json` as `<version>+<revision>`. */
export async function istiodVersion(binary: string): Promise<string> {
  const { stdout } = await promisify(execFile)(binary, ["version", "-o", "json"], { timeout: 30_000, env: { PATH: process.env.PATH ?? "" } });
  const parsed = JSON.parse(stdout) as { clientVersion?: { version?: string; revision?: string } };
  const v = parsed.clientVersion;
  if (v?.version === undefined || v.revision === undefined) throw new Error(`${binary} version -o json printed no version: ${stdout}`);
  return `${v.version}+${v.revision}`;
}

/** The signer's roots as the shim published them; istiod reads this file once, at start-up. */
async function waitForExternalCaCert(cp: ControlPlaneClient, timeoutMs: number): Promise<string> {
  const { namespace, name, key } = EXTERNAL_CA_SECRET;
  return await waitUntil({
    probe: async () => {
      const answer = await cp.admin.send("GET", `/api/v1/namespaces/${namespace}/secrets/${name}`);
      const value = (answer.json as { data?: Record<string, string> } | undefined)?.data?.[key];
      return answer.status === 200 && value !== undefined && value !== "" ? Buffer.from(value, "base64").toString("utf8") : undefined;
    },
    timeoutMs,
    failure: (why) => new Error(`Secret ${namespace}/${name} has no ${key} (${why}): is the shim running and publishing the bundle?`),
  });
}

async function istiodRoot(cp: ControlPlaneClient): Promise<string | undefined> {
  const answer = await cp.admin.send("GET", `/api/v1/namespaces/${ISTIO_NAMESPACE}/configmaps/${ISTIO_ROOT_CONFIGMAP}`);
  const value = (answer.json as { data?: Record<string, string> } | undefined)?.data?.["root-cert.pem"];
  return answer.status === 200 && value !== undefined && value !== "" ? value : undefined;
}

async function tcpOpen(port: number): Promise<boolean> {
  return await new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port, timeout: 1000 });
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.once("connect", () => {
      done(true);
    });
    socket.once("error", () => {
      done(false);
    });
    socket.once("timeout", () => {
      done(false);
    });
  });
}

async function httpOk(url: string): Promise<boolean> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
    return res.status === 200;
  } catch {
    return false;
  }
}
