/**
 * The real istiod (`pilot-discovery`) and `pilot-agent`, built by scripts/ensure-istio.sh from the pinned
 * istio.io/istio commit in go/istio and cached beside etcd and kube-apiserver.
 */
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { BinaryBuildError } from "../control-plane/index.ts";

export interface IstioBinaries {
  readonly pilotDiscovery: string;
  readonly pilotAgent: string;
  /** The istio.io/istio module version they were built from (a commit pseudo-version). */
  readonly module: string;
}

const script = fileURLToPath(new URL("../../scripts/ensure-istio.sh", import.meta.url));

/**
 * Returns the cached binaries, building them the first time (about 15 min on 2 cores; progress lines go
 * to `log`, stderr by default). Concurrent callers wait for one build (the script's lock file). Throws a
 * BinaryBuildError naming the failed step (toolchain, download, compile, link, verify).
 */
export async function ensureIstioBinaries(
  options: { readonly log?: (line: string) => void; readonly env?: NodeJS.ProcessEnv } = {},
): Promise<IstioBinaries> {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const child = spawn("bash", [script], { stdio: ["ignore", "pipe", "pipe"], env: options.env ?? process.env });
  let stdout = "";
  let stderrTail = "";
  let pending = "";
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
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
    throw new BinaryBuildError(`building istiod and pilot-agent failed at step "${step}":\n${stderrTail}`, step);
  }
  const pilotDiscovery = /^PILOT_DISCOVERY=(.+)$/m.exec(stdout)?.[1];
  const pilotAgent = /^PILOT_AGENT=(.+)$/m.exec(stdout)?.[1];
  const module = /^ISTIO_MODULE=(.+)$/m.exec(stdout)?.[1];
  if (pilotDiscovery === undefined || pilotAgent === undefined || module === undefined) {
    throw new BinaryBuildError(`ensure-istio.sh printed no binary paths: ${JSON.stringify(stdout)}`, "unknown");
  }
  return { pilotDiscovery, pilotAgent, module };
}
