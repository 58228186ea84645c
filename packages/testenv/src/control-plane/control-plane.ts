import type { ChildProcess } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { ensureBinaries } from "./binaries.ts";
import { ControlPlaneClient } from "./control-plane-client.ts";
import type { ControlPlaneInfo, Jwk, Jwks } from "./control-plane-client.ts";
import { apiserverFlags, etcdFlags, type ControlPlaneEndpoints, type ControlPlanePkiFiles } from "./control-plane-flags.ts";
import { ControlPlaneError } from "./errors.ts";
import { freePort } from "./free-port.ts";
import { KubeApiClient } from "./kube-api-client.ts";
import { renderKubeconfig } from "./kubeconfig.ts";
import { createClusterPki, type ClusterPki } from "./pki.ts";
import { ProcessGroup, startWatchdog } from "./process-group.ts";
import type { ProcessExit } from "./process-group.ts";

/** Options for {@link startControlPlane}; every field has a default. */
export interface StartControlPlaneOptions {
  /** `--service-account-issuer`; default `https://kubernetes.default.svc.cluster.local`. */
  readonly serviceAccountIssuer?: string;
  /** How long to wait for etcd and then /readyz; default 120 s (a cold start on 2 busy cores). */
  readonly readyTimeoutMs?: number;
  /** Parent of the fresh data directory; default the OS temp dir. */
  readonly tmpDir?: string;
  /** Keep the data directory (logs, etcd data) after stop(); default false. */
  readonly keepDataDir?: boolean;
  /** Extra kube-apiserver flags, appended last (so they win). */
  readonly extraApiserverArgs?: readonly string[];
  /** Where build progress lines go; default stderr. */
  readonly log?: (line: string) => void;
}

/** A running etcd + kube-apiserver pair. */
export class ControlPlane extends ControlPlaneClient {
  private stopping: Promise<void> | undefined;
  /**
   * Resolves when etcd or kube-apiserver exits before stop() was called (nothing restarts them), with
   * the first one's code or signal and log; stays pending otherwise.
   */
  readonly died: Promise<ProcessExit>;

  /** @internal use {@link startControlPlane} */
  constructor(
    info: ControlPlaneInfo,
    private readonly groups: readonly ProcessGroup[],
    private readonly watchdog: ChildProcess | undefined,
    private readonly keepDataDir: boolean,
  ) {
    super(info);
    this.died = new Promise((resolve) => {
      for (const group of groups) {
        void group.ended.then((exit) => {
          if (this.stopping === undefined) resolve(exit);
        });
      }
    });
  }

  /** Process ids (= process group ids) of etcd and kube-apiserver. */
  get pids(): readonly number[] {
    return this.groups.map((g) => g.pid);
  }

  /** Stops kube-apiserver, then etcd (whole process groups), and removes the data directory. Idempotent. */
  async stop(): Promise<void> {
    this.stopping ??= (async () => {
      for (const group of [...this.groups].reverse()) await group.stop();
      this.watchdog?.kill("SIGKILL");
      if (!this.keepDataDir) await rm(this.dataDir, { recursive: true, force: true });
    })();
    await this.stopping;
  }
}

const defaultIssuer = "https://kubernetes.default.svc.cluster.local";

/**
 * Starts a real control plane: etcd and kube-apiserver (built from the pinned upstream sources, see
 * ensureBinaries) on 127.0.0.1 at free ports, with data in a fresh temporary directory; authorization
 * Node,RBAC; an admin client certificate (system:masters); ServiceAccount tokens signed by a fresh key;
 * the certificate admission plugins and NodeRestriction; certificates.k8s.io/v1beta1 (ClusterTrustBundle,
 * PodCertificateRequest) with their feature gates. Resolves once /readyz answers 200.
 * Call stop() when done; processes are also killed when this process exits.
 */
export async function startControlPlane(options: StartControlPlaneOptions = {}): Promise<ControlPlane> {
  const binaries = await ensureBinaries(options.log === undefined ? {} : { log: options.log });
  // A port picked free can be taken before the server binds it; try again with new ports then.
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(binaries, options);
    } catch (error) {
      if (attempt < 3 && error instanceof ControlPlaneError && /address already in use/.test(error.message)) continue;
      throw error;
    }
  }
}

async function startOnce(
  binaries: { readonly etcd: string; readonly kubeApiserver: string },
  options: StartControlPlaneOptions,
): Promise<ControlPlane> {
  const timeoutMs = options.readyTimeoutMs ?? 120_000;
  const issuer = options.serviceAccountIssuer ?? defaultIssuer;
  const dataDir = await mkdtemp(join(options.tmpDir ?? tmpdir(), "edgeca-cp-"));
  const pki = await createClusterPki();
  const pkiFiles = await writePkiFiles(join(dataDir, "pki"), pki);
  const at = await pickEndpoints();
  const etcdLog = join(dataDir, "etcd.log");
  const apiLog = join(dataDir, "kube-apiserver.log");
  const groups: ProcessGroup[] = [];
  const deadline = Date.now() + timeoutMs;

  const fail = async (what: string, cause?: unknown): Promise<never> => {
    for (const group of [...groups].reverse()) await group.stop(2000);
    const tails = [await tail(etcdLog, "etcd"), await tail(apiLog, "kube-apiserver")].join("\n");
    throw new ControlPlaneError(`${what} (data and logs kept in ${dataDir})\n${tails}`, { cause });
  };

  try {
    const etcd = ProcessGroup.start("etcd", binaries.etcd, etcdFlags(dataDir, at), etcdLog);
    groups.push(etcd);
    await waitFor("etcd /health", deadline, etcd, async () => {
      const res = await fetch(`${at.etcdUrl}/health`, { signal: AbortSignal.timeout(2000) });
      return res.ok;
    });

    const flags = apiserverFlags(dataDir, at, pkiFiles, issuer, options.extraApiserverArgs ?? []);
    const apiserver = ProcessGroup.start("kube-apiserver", binaries.kubeApiserver, flags, apiLog);
    groups.push(apiserver);
    const credentials = { clientCertPem: pki.admin.certPem, clientKeyPem: pki.admin.keyPem };
    const admin = new KubeApiClient({ server: at.server, caPem: pki.ca.certPem, credentials, timeoutMs: 5000 });
    await waitFor("kube-apiserver /readyz", deadline, apiserver, async () => (await admin.send("GET", "/readyz")).status === 200);

    const info = await describeControlPlane(admin, { at, pki, issuer, dataDir });
    const watchdog = startWatchdog(
      process.pid,
      groups.map((g) => g.pid),
      options.keepDataDir === true ? "" : dataDir,
    );
    return new ControlPlane(info, groups, watchdog, options.keepDataDir ?? false);
  } catch (error) {
    if (error instanceof ControlPlaneError) return await fail(error.message, error.cause);
    return await fail(`starting the control plane failed: ${String(error)}`, error);
  }
}

/** Writes the cluster PKI into `pkiDir` (0700, files 0600) and returns the paths the apiserver reads. */
async function writePkiFiles(pkiDir: string, pki: ClusterPki): Promise<ControlPlanePkiFiles> {
  await mkdir(pkiDir, { mode: 0o700 });
  const file = async (name: string, content: string): Promise<string> => {
    const path = join(pkiDir, name);
    await writeFile(path, content, { mode: 0o600 });
    return path;
  };
  const caFile = await file("ca.crt", pki.ca.certPem);
  // Not read by the apiserver: tests mint other client identities with it (a node's, pki/ca.key).
  await file("ca.key", pki.ca.keyPem);
  const servingCert = await file("apiserver.crt", pki.serving.certPem);
  const servingKey = await file("apiserver.key", pki.serving.keyPem);
  const saKey = await file("sa.key", pki.serviceAccount.privateKeyPem);
  const saPub = await file("sa.pub", pki.serviceAccount.publicKeyPem);
  return { caFile, servingCert, servingKey, saKey, saPub };
}

/** Free loopback ports for etcd's client and peer URLs and the apiserver. */
async function pickEndpoints(): Promise<ControlPlaneEndpoints> {
  const [etcdPort, peerPort, apiPort] = [await freePort(), await freePort(), await freePort()];
  return {
    etcdUrl: `http://127.0.0.1:${etcdPort}`,
    peerUrl: `http://127.0.0.1:${peerPort}`,
    apiPort,
    server: `https://127.0.0.1:${apiPort}`,
  };
}

/** Once the apiserver is ready: its JWKS, and the admin kubeconfig written to `<dataDir>/kubeconfig`. */
async function describeControlPlane(
  admin: KubeApiClient,
  o: { at: ControlPlaneEndpoints; pki: ClusterPki; issuer: string; dataDir: string },
): Promise<ControlPlaneInfo> {
  const { at, pki } = o;
  const jwks = parseJwks(await admin.request("GET", "/openid/v1/jwks"));
  const kubeconfig = renderKubeconfig({
    server: at.server,
    caPem: pki.ca.certPem,
    user: "edgeca-admin",
    credentials: { clientCertPem: pki.admin.certPem, clientKeyPem: pki.admin.keyPem },
  });
  const kubeconfigPath = join(o.dataDir, "kubeconfig");
  await writeFile(kubeconfigPath, kubeconfig, { mode: 0o600 });
  return {
    server: at.server,
    caPem: pki.ca.certPem,
    kubeconfig,
    kubeconfigPath,
    adminCertPem: pki.admin.certPem,
    adminKeyPem: pki.admin.keyPem,
    serviceAccountIssuer: o.issuer,
    jwks,
    dataDir: o.dataDir,
    etcdUrl: at.etcdUrl,
  };
}

/** Polls `probe` every 250 ms until it returns true; fails if `process` exits or the deadline passes. */
async function waitFor(what: string, deadline: number, process: ProcessGroup, probe: () => Promise<boolean>): Promise<void> {
  let last = "";
  while (Date.now() < deadline) {
    if (!process.running) throw new ControlPlaneError(`${process.name} exited while waiting for ${what}`);
    try {
      if (await probe()) return;
      last = "not ready yet";
    } catch (error) {
      last = String(error);
    }
    await sleep(250);
  }
  throw new ControlPlaneError(`timed out waiting for ${what} (last: ${last})`);
}

function parseJwks(value: unknown): Jwks {
  if (typeof value === "object" && value !== null && "keys" in value && Array.isArray(value.keys)) {
    const keys: Jwk[] = [];
    for (const key of value.keys as unknown[]) {
      if (typeof key !== "object" || key === null || Array.isArray(key)) throw new ControlPlaneError("/openid/v1/jwks: a key is not an object");
      const members: Record<string, unknown> = Object.fromEntries(Object.entries(key));
      const kty = members.kty;
      if (typeof kty !== "string") throw new ControlPlaneError("/openid/v1/jwks: a key has no kty");
      keys.push({ ...members, kty });
    }
    if (keys.length > 0) return { keys };
  }
  throw new ControlPlaneError(`/openid/v1/jwks is not a non-empty JWK set: ${JSON.stringify(value).slice(0, 200)}`);
}

async function tail(path: string, name: string, lines = 30): Promise<string> {
  try {
    const text = await readFile(path, "utf8");
    const last = text.trimEnd().split("\n").slice(-lines).join("\n");
    return `--- last lines of ${name} log (${path}) ---\n${last}`;
  } catch {
    return `--- no ${name} log (${path}) ---`;
  }
}
