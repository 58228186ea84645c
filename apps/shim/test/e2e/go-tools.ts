/**
 * helm and promtool for the chart and monitoring tests: the real tools, built from their pinned Go modules
 * by packages/testenv/scripts/ensure-tools.sh (cached by version beside kube-apiserver, under the same build
 * lock; the first build takes minutes and reports progress on stderr).
 */
import { spawn } from "node:child_process";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const script = fileURLToPath(new URL("../../../../packages/testenv/scripts/ensure-tools.sh", import.meta.url));

export type ToolName = "helm" | "promtool";

/** Builds (once) and returns the path of `name`; throws naming the failed step of the build. */
export async function ensureTool(name: ToolName): Promise<string> {
  const child = spawn("bash", [script, name], { stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (c: string) => (stdout += c));
  child.stderr.setEncoding("utf8").on("data", (c: string) => {
    stderr = (stderr + c).slice(-8000);
    process.stderr.write(c);
  });
  const code = await new Promise<number>((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (status) => { resolve(status ?? 1); });
  });
  const path = new RegExp(`^${name.toUpperCase()}=(.+)$`, "m").exec(stdout)?.[1];
  if (code !== 0 || path === undefined) {
    const step = /FAILED step=(\w+)/.exec(stderr)?.[1] ?? "unknown";
    throw new Error(`building ${name} failed at step "${step}" (exit ${code}):\n${stderr}`);
  }
  return path;
}

export interface ToolResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a tool to completion (killed after `timeoutMs`); never throws on a non-zero exit (the tests judge the output). */
export function runTool(path: string, args: readonly string[], options: { env?: NodeJS.ProcessEnv; cwd?: string; input?: string; timeoutMs?: number } = {}): Promise<ToolResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(path, args, { env: options.env ?? process.env, cwd: options.cwd, stdio: ["pipe", "pipe", "pipe"], timeout: options.timeoutMs ?? 120_000 });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (c: string) => (stdout += c));
    child.stderr.setEncoding("utf8").on("data", (c: string) => (stderr += c));
    child.on("error", reject);
    child.on("close", (code, signal) => { resolve({ code: code ?? (signal === null ? 1 : 128), stdout, stderr }); });
    child.stdin.end(options.input ?? "");
  });
}

/** helm with its cache, config and data in a fresh directory (never the user's ~/.config/helm). */
export async function helmRunner(): Promise<(args: readonly string[]) => Promise<ToolResult>> {
  const helm = await ensureTool("helm");
  const home = await mkdtemp(join(tmpdir(), "edgeca-helm-home-"));
  const env = { ...process.env, HELM_CACHE_HOME: join(home, "cache"), HELM_CONFIG_HOME: join(home, "config"), HELM_DATA_HOME: join(home, "data") };
  return (args) => runTool(helm, args, { env });
}
