/**
 * The shim part of `edgeca local up`: applies infra/k8s/overlays/local (the shim's real RBAC), gives the
 * shim a kubeconfig for its own ServiceAccount and a signer-audience token, and runs apps/shim as a child
 * process configured through the environment exactly as the Deployment configures it. It reads the signer's
 * material from `<stateDir>/signer/` and the signer's URL from `<stateDir>/signer-url` (written by the
 * signer part). Logs go to `<stateDir>/shim.log`; the part is up once the shim's /readyz answers 200.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createWriteStream } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { freePort } from "@edgeca/testenv";
import type { StackContext, StackPart } from "./local-stack.ts";
import type { PartExit } from "./part-exit.ts";

const repoRoot = fileURLToPath(new URL("../../../../", import.meta.url));
const SHIM_NAMESPACE = "edgeca-system";
const SHIM_SERVICE_ACCOUNT = "edgeca-shim";
/** The audience the local signer's material expects (infra/k8s/overlays/local EDGECA_TOKEN_AUDIENCE). */
export const LOCAL_TOKEN_AUDIENCE = "edgeca-signer";
const READY_TIMEOUT_MS = 60_000;

/** Starts the shim against the local control plane and signer; resolves once it is ready. */
/** The shim part, with where its metrics are served. */
export interface ShimPart extends StackPart {
  readonly metricsUrl: string;
}

export async function startShimPart(context: StackContext): Promise<ShimPart> {
  const { controlPlane, stateDir, log } = context;
  const dir = join(stateDir, "shim");
  await mkdir(dir, { recursive: true });
  const signerUrl = await readSignerUrl(stateDir);

  log("applying infra/k8s/overlays/local (the shim's RBAC)");
  const applied = await controlPlane.kubectl(["apply", "-k", join(repoRoot, "infra/k8s/overlays/local")]);
  if (applied.code !== 0) throw new Error(`kubectl apply -k infra/k8s/overlays/local failed: ${applied.stderr}`);
  const kube = await controlPlane.kubeconfigForServiceAccount(SHIM_NAMESPACE, SHIM_SERVICE_ACCOUNT, { path: join(dir, "kubeconfig") });
  const tokenPath = join(dir, "signer-token");
  const remint = await keepTokenFresh(context, tokenPath);

  const port = await freePort();
  const shimLog = join(stateDir, "shim.log");
  const shim = spawnShim(shimEnv(context, { signerUrl, tokenPath, port, kubeconfigPath: kube.kubeconfigPath }), shimLog);
  const stop = async (): Promise<void> => {
    clearInterval(remint);
    await shim.stop();
  };

  log(`starting the shim (pid ${String(shim.child.pid)}, logs: ${shimLog})`);
  await waitUntilReady(shim.child, port, shimLog, stop);
  const metricsUrl = `http://127.0.0.1:${port}/metrics`;
  log(`shim ready (metrics: ${metricsUrl})`);
  return { name: "shim", died: shim.died, stop, metricsUrl };
}

/** The signer's URL, written by the signer part. */
async function readSignerUrl(stateDir: string): Promise<string> {
  const file = join(stateDir, "signer-url");
  const signerUrl = (await readFile(file, "utf8").catch(() => "")).trim();
  if (signerUrl === "") throw new Error(`${file}: missing; the shim needs the signer part started first`);
  return signerUrl;
}

/**
 * The token kubelet would project: audience = the signer's, re-minted well before it expires. Returns the
 * re-mint timer (unref'd) for stop() to clear.
 */
async function keepTokenFresh(context: StackContext, tokenPath: string): Promise<NodeJS.Timeout> {
  const { controlPlane, log } = context;
  const mint = async (): Promise<void> => {
    const token = await controlPlane.mintToken({ namespace: SHIM_NAMESPACE, serviceAccount: SHIM_SERVICE_ACCOUNT, audiences: [LOCAL_TOKEN_AUDIENCE], expirationSeconds: 3600 });
    await writeFile(tokenPath, token, { mode: 0o600 });
  };
  await mint();
  const remint = setInterval(() => {
    mint().catch((error: unknown) => {
      log(`shim: re-minting its token failed: ${String(error)}`);
    });
  }, 30 * 60_000);
  remint.unref();
  return remint;
}

/** The shim's environment: the variables the Deployment sets, pointed at the local signer and control plane. */
function shimEnv(context: StackContext, o: { signerUrl: string; tokenPath: string; port: number; kubeconfigPath: string }): Record<string, string> {
  const signerDir = join(context.stateDir, "signer");
  return {
    ...stringEnv(process.env),
    EDGECA_SIGNER_URL: o.signerUrl,
    EDGECA_SIGNER_NAMES: context.signerName,
    EDGECA_CLIENT_CERT_FILE: join(signerDir, "client-cert.pem"),
    EDGECA_CLIENT_KEY_FILE: join(signerDir, "client-key.pem"),
    EDGECA_SIGNER_CA_FILE: join(signerDir, "edge-ca-cert.pem"),
    EDGECA_TOKEN_FILE: o.tokenPath,
    EDGECA_TOKEN_AUDIENCE: LOCAL_TOKEN_AUDIENCE,
    EDGECA_BUNDLE_REFRESH_SECONDS: "5",
    EDGECA_HTTP_HOST: "127.0.0.1",
    EDGECA_HTTP_PORT: String(o.port),
    POD_NAME: "edgeca-shim-local",
    POD_NAMESPACE: SHIM_NAMESPACE,
    KUBECONFIG: o.kubeconfigPath,
  };
}

/** The shim as a child process, its output appended to `shimLog`. */
interface ShimProcess {
  readonly child: ChildProcess;
  /** Resolves when the shim exits without stop() having asked it to. */
  readonly died: Promise<PartExit>;
  /** SIGTERM, SIGKILL after 15 s; resolves once it has exited and its log is flushed. */
  stop(): Promise<void>;
}

function spawnShim(env: Record<string, string>, shimLog: string): ShimProcess {
  const logFile = createWriteStream(shimLog, { flags: "a" });
  // apps/shim/src/main.ts with this Node and the tsx loader (the workspace packages export TypeScript).
  // EDGECA_SHIM_CPU_PROF_DIR=<dir>: the shim writes a V8 CPU profile there when it exits (to profile a burst).
  const profile = (env.EDGECA_SHIM_CPU_PROF_DIR ?? "") === "" ? [] : ["--cpu-prof", `--cpu-prof-dir=${env.EDGECA_SHIM_CPU_PROF_DIR ?? ""}`];
  const child: ChildProcess = spawn(process.execPath, [...profile, "--import", "tsx", join(repoRoot, "apps/shim/src/main.ts")], {
    cwd: repoRoot,
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  // Two sources into one file: neither may end it (the first to end would cut the other off); stop() does.
  child.stdout?.pipe(logFile, { end: false });
  child.stderr?.pipe(logFile, { end: false });
  let stopping = false;
  // "close" comes once the shim's output has all been read; the empty write's callback, once it is in
  // the file, so a report quoting the end of shim.log quotes its last words.
  const exited = new Promise<PartExit>((resolve) =>
    child.once("close", (code: number | null, signal: NodeJS.Signals | null) => {
      logFile.write("", () => {
        resolve({ name: "shim", code, signal, logFile: shimLog });
      });
    }),
  );
  // Only an exit nobody asked for is a death; the one stop() causes is not.
  const died = new Promise<PartExit>((resolve) => {
    void exited.then((exit) => {
      if (!stopping) resolve(exit);
    });
  });

  const stop = async (): Promise<void> => {
    stopping = true;
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM");
      // Unref'd: once the shim has exited, this grace timer must not hold `local up` open for 15 s more.
      const done = await Promise.race([exited.then(() => true), sleep(15_000, undefined, { ref: false }).then(() => false)]);
      if (!done) child.kill("SIGKILL");
    }
    await exited;
    logFile.end();
  };
  return { child, died, stop };
}

/** Polls /readyz until it answers 200; stops the shim and throws if it exits or is not ready in time. */
async function waitUntilReady(child: ChildProcess, port: number, shimLog: string, stop: () => Promise<void>): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    if (child.exitCode !== null) {
      await stop();
      throw new Error(`the shim exited with status ${child.exitCode} during start-up; see ${shimLog}`);
    }
    const ready = await fetch(`http://127.0.0.1:${port}/readyz`).then((r) => r.status === 200, () => false);
    if (ready) return;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`the shim was not ready within ${READY_TIMEOUT_MS / 1000} s; see ${shimLog}`);
    }
    await sleep(250);
  }
}

function stringEnv(env: NodeJS.ProcessEnv): Record<string, string> {
  return Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined));
}
