/**
 * Test and demo helper: runs `edgeca` as its own process (`node --import tsx apps/cli/src/main.ts`),
 * the way an operator runs it, so exit statuses, output and signal handling are the real ones.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";

/** apps/cli/src/main.ts */
export const CLI_MAIN = fileURLToPath(new URL("../main.ts", import.meta.url));
/** The repository root, where `npm run edgeca` runs. */
export const REPO_ROOT = fileURLToPath(new URL("../../../../", import.meta.url));

export interface CliResult {
  readonly status: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Starts `edgeca <args>` in the background with the current Node (tsx loader). */
export function spawnCli(args: readonly string[], options: { env?: NodeJS.ProcessEnv } = {}): ChildProcess {
  return spawn(process.execPath, ["--import", "tsx", CLI_MAIN, ...args], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...options.env },
    stdio: ["ignore", "pipe", "pipe"],
  });
}

/** Runs `edgeca <args>` to completion (bounded by `timeoutMs`, default 60 s) and collects its output. */
export function runCli(args: readonly string[], options: { timeoutMs?: number } = {}): Promise<CliResult> {
  return collectProcess(spawnCli(args), options.timeoutMs ?? 60_000);
}

/** Waits for `child` to end (SIGKILL after `timeoutMs`) and collects its status and output. */
export function collectProcess(child: ChildProcess, timeoutMs: number): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    let stdout = "";
    let stderr = "";
    child.stdout?.setEncoding("utf8").on("data", (s: string) => (stdout += s));
    child.stderr?.setEncoding("utf8").on("data", (s: string) => (stderr += s));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on("close", (status, signal) => {
      clearTimeout(timer);
      resolve({ status, signal, stdout, stderr });
    });
  });
}
