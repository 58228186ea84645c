import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { BinaryBuildError } from "./errors.ts";

/** Absolute paths of the control plane's executables. */
export interface Binaries {
  readonly etcd: string;
  readonly kubeApiserver: string;
  /** Only when the script was asked for it (`EDGECA_WITH=kube-controller-manager` in `env`). */
  readonly kubeControllerManager?: string;
}

const script = fileURLToPath(new URL("../../scripts/ensure-binaries.sh", import.meta.url));

/**
 * Returns the cached etcd and kube-apiserver, building them from the pinned upstream Go modules the first
 * time (several minutes; progress goes to stderr). Safe to call from several processes at once: the script
 * serializes builders with a lock file. Set EDGECA_BIN_DIR to use another cache directory.
 */
export async function ensureBinaries(
  options: {
    readonly log?: (line: string) => void;
    /** The script's environment (default: this process's), e.g. another EDGECA_BIN_DIR. */
    readonly env?: NodeJS.ProcessEnv;
  } = {},
): Promise<Binaries> {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const child = spawn("bash", [script], { stdio: ["ignore", "pipe", "pipe"], env: options.env ?? process.env });
  let stdout = "";
  let stderrTail = "";
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
  let pending = "";
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
    stderrTail = (stderrTail + chunk).slice(-8000);
    pending += chunk;
    const lines = pending.split("\n");
    pending = lines.pop() ?? "";
    for (const line of lines) log(line);
  });
  const code = await new Promise<number>((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (status) => {
      resolve(status ?? 1);
    });
  });
  if (pending !== "") log(pending);
  if (code !== 0) {
    const step = /FAILED step=(\w+)/.exec(stderrTail)?.[1] ?? "unknown";
    throw new BinaryBuildError(`building the control plane binaries failed at step "${step}":\n${stderrTail}`, step);
  }
  const etcd = /^ETCD=(.+)$/m.exec(stdout)?.[1];
  const kubeApiserver = /^KUBE_APISERVER=(.+)$/m.exec(stdout)?.[1];
  if (etcd === undefined || kubeApiserver === undefined) {
    throw new BinaryBuildError(`ensure-binaries.sh printed no binary paths: ${JSON.stringify(stdout)}`, "unknown");
  }
  const kubeControllerManager = /^KUBE_CONTROLLER_MANAGER=(.+)$/m.exec(stdout)?.[1];
  return { etcd, kubeApiserver, ...(kubeControllerManager === undefined ? {} : { kubeControllerManager }) };
}
