/**
 * kube-controller-manager v1.35.4 against a running control plane, built only when asked for (it is the
 * benchmarks' reference signer, not part of every test run). By default it runs just the CSR signing
 * controllers (`--controllers=csrsigning`) with a fresh CA, client limits raised, on loopback.
 */
import type { ChildProcess } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { request as httpsRequest } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { ensureBinaries } from "./binaries.ts";
import { ControlPlaneError } from "./errors.ts";
import { freePort } from "./free-port.ts";
import { ProcessGroup, startWatchdog } from "./process-group.ts";
import { createSigningCa, type SigningCaKeyType } from "./signing-ca.ts";

export interface StartControllerManagerOptions {
  /** A kubeconfig file for kube-controller-manager's own client, e.g. the control plane's admin kubeconfig. */
  readonly kubeconfigPath: string;
  /** `--controllers`; default `["csrsigning"]`. */
  readonly controllers?: readonly string[];
  /** `--kube-api-qps` / `--kube-api-burst`; default 1000 each (upstream's 20/30 would make it the bottleneck). */
  readonly kubeApiQps?: number;
  readonly kubeApiBurst?: number;
  /** The signing CA's key type; default P-256. */
  readonly caKeyType?: SigningCaKeyType;
  /** How long to wait for /healthz; default 120 s. */
  readonly readyTimeoutMs?: number;
  /** Parent of the fresh data directory (log, CA, serving certificate); default the OS temp dir. */
  readonly tmpDir?: string;
  readonly keepDataDir?: boolean;
  /** Extra flags, appended last (so they win). */
  readonly extraArgs?: readonly string[];
  /** Where build progress lines go; default stderr. */
  readonly log?: (line: string) => void;
}

/** A running kube-controller-manager. */
export class ControllerManager {
  private stopping: Promise<void> | undefined;

  /** @internal use {@link startControllerManager} */
  constructor(
    private readonly group: ProcessGroup,
    private readonly watchdog: ChildProcess,
    /** Holds `kube-controller-manager.log`, the signing CA and the serving certificate. */
    readonly dataDir: string,
    /** The CA every kubernetes.io signer signs with (`--cluster-signing-cert-file`). */
    readonly signingCaPem: string,
    /** https://127.0.0.1:<port> (/healthz, /metrics). */
    readonly url: string,
    private readonly keepDataDir: boolean,
  ) {}

  /** Process id (= process group id). */
  get pid(): number {
    return this.group.pid;
  }

  get logPath(): string {
    return join(this.dataDir, "kube-controller-manager.log");
  }

  /** Stops the process group and removes the data directory (unless kept). Idempotent. */
  async stop(): Promise<void> {
    this.stopping ??= (async () => {
      await this.group.stop();
      this.watchdog.kill("SIGKILL");
      if (!this.keepDataDir) await rm(this.dataDir, { recursive: true, force: true });
    })();
    await this.stopping;
  }
}

/** Builds kube-controller-manager if needed (`EDGECA_WITH=kube-controller-manager`) and returns its path. */
export async function ensureControllerManagerBinary(log?: (line: string) => void): Promise<string> {
  const extras = [process.env.EDGECA_WITH ?? "", "kube-controller-manager"].filter((x) => x !== "").join(",");
  const binaries = await ensureBinaries({ env: { ...process.env, EDGECA_WITH: extras }, ...(log === undefined ? {} : { log }) });
  if (binaries.kubeControllerManager === undefined) throw new ControlPlaneError("ensure-binaries.sh printed no KUBE_CONTROLLER_MANAGER path");
  return binaries.kubeControllerManager;
}

/** Starts kube-controller-manager; resolves once its /healthz answers 200. Call stop() when done. */
export async function startControllerManager(options: StartControllerManagerOptions): Promise<ControllerManager> {
  const binary = await ensureControllerManagerBinary(options.log);
  const dataDir = await mkdtemp(join(options.tmpDir ?? tmpdir(), "edgeca-kcm-"));
  try {
    const ca = await createSigningCa(options.caKeyType ?? "P-256");
    const pki = join(dataDir, "pki");
    await mkdir(pki, { mode: 0o700 });
    await writeFile(join(pki, "signing-ca.crt"), ca.certPem, { mode: 0o600 });
    await writeFile(join(pki, "signing-ca.key"), ca.keyPem, { mode: 0o600 });
    // A port picked free can be taken before the process binds it; try again with a new one then.
    for (let attempt = 1; ; attempt++) {
      try {
        return await startOnce(binary, dataDir, ca.certPem, options);
      } catch (error) {
        if (attempt < 3 && error instanceof ControlPlaneError && /address already in use/.test(error.message)) continue;
        throw error;
      }
    }
  } catch (error) {
    // Keep the directory: its log says why.
    throw error instanceof ControlPlaneError ? error : new ControlPlaneError(`starting kube-controller-manager failed (log in ${dataDir}): ${String(error)}`, { cause: error });
  }
}

async function startOnce(binary: string, dataDir: string, caPem: string, options: StartControllerManagerOptions): Promise<ControllerManager> {
  const port = await freePort();
  const logPath = join(dataDir, "kube-controller-manager.log");
  const pki = join(dataDir, "pki");
  const group = ProcessGroup.start(
    "kube-controller-manager",
    binary,
    [
      `--kubeconfig=${options.kubeconfigPath}`,
      `--controllers=${(options.controllers ?? ["csrsigning"]).join(",")}`,
      `--cluster-signing-cert-file=${join(pki, "signing-ca.crt")}`,
      `--cluster-signing-key-file=${join(pki, "signing-ca.key")}`,
      `--kube-api-qps=${options.kubeApiQps ?? 1000}`,
      `--kube-api-burst=${options.kubeApiBurst ?? 1000}`,
      "--bind-address=127.0.0.1",
      `--secure-port=${port}`,
      `--cert-dir=${join(dataDir, "serving-certs")}`,
      "--leader-elect=false",
      "--profiling=false",
      ...(options.extraArgs ?? []),
    ],
    logPath,
  );
  const watchdog = startWatchdog(process.pid, [group.pid], options.keepDataDir === true ? "" : dataDir);
  const url = `https://127.0.0.1:${port}`;
  const deadline = Date.now() + (options.readyTimeoutMs ?? 120_000);
  let last = "";
  while (Date.now() < deadline) {
    if (!group.running) {
      watchdog.kill("SIGKILL");
      throw new ControlPlaneError(`kube-controller-manager exited during start-up (data and log kept in ${dataDir})\n${await tail(logPath)}`);
    }
    last = await healthz(url).catch((error: unknown) => String(error));
    if (last === "200") return new ControllerManager(group, watchdog, dataDir, caPem, url, options.keepDataDir ?? false);
    await sleep(250);
  }
  await group.stop(2000);
  watchdog.kill("SIGKILL");
  throw new ControlPlaneError(`kube-controller-manager was not healthy within the wait (last: ${last}; data and log kept in ${dataDir})\n${await tail(logPath)}`);
}

/** GET /healthz; its status as text. The serving certificate is self-signed by the process we started. */
async function healthz(url: string): Promise<string> {
  return await new Promise<string>((resolve, reject) => {
    const req = httpsRequest(`${url}/healthz`, { rejectUnauthorized: false, timeout: 2000, agent: false }, (res) => {
      res.resume();
      res.on("end", () => {
        resolve(String(res.statusCode ?? 0));
      });
    });
    req.on("timeout", () => req.destroy(new Error("/healthz timed out")));
    req.on("error", reject);
    req.end();
  });
}

async function tail(path: string, lines = 30): Promise<string> {
  const text = await readFile(path, "utf8").catch(() => "");
  return `--- last lines of ${path} ---\n${text.trimEnd().split("\n").slice(-lines).join("\n")}`;
}
