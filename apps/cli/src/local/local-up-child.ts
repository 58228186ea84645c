// Helpers for this folder's tests: `edgeca local up` run as the user runs it, as a child process.
import { spawn } from "node:child_process";
import type { ChildProcess, ChildProcessByStdio } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { request } from "node:https";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { processesMentioning } from "@edgeca/testenv";

export const repoRoot = fileURLToPath(new URL("../../../../", import.meta.url));
const main = join(repoRoot, "apps/cli/src/main.ts");

export interface Running {
  readonly child: ChildProcessByStdio<null, Readable, Readable>;
  /** The exit status, or the signal's name when a signal ended it. */
  readonly exited: Promise<number | string | null>;
  stdout: string;
  stderr: string;
}

/** Runs `edgeca local up ARGS` (this Node, the tsx loader); resolves at "ready", at exit, or after 150 s. */
export async function localUp(args: readonly string[]): Promise<{ run: Running; ready: boolean; ms: number }> {
  const started = Date.now();
  const child = spawn(process.execPath, ["--import", "tsx", main, "local", "up", ...args], { cwd: repoRoot, stdio: ["ignore", "pipe", "pipe"] });
  const run: Running = {
    child,
    exited: new Promise((resolve) =>
      child.on("exit", (code, signal) => {
        resolve(code ?? signal);
      }),
    ),
    stdout: "",
    stderr: "",
  };
  child.stderr.setEncoding("utf8").on("data", (c: string) => (run.stderr += c));
  const ready = await new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => {
      resolve(false);
    }, 150_000);
    child.stdout.setEncoding("utf8").on("data", (c: string) => {
      run.stdout += c;
      if (run.stdout.split("\n").includes("ready")) {
        clearTimeout(timer);
        resolve(true);
      }
    });
    void run.exited.then(() => {
      clearTimeout(timer);
      resolve(false);
    });
  });
  return { run, ready, ms: Date.now() - started };
}

/** The exit status of `run`, or "still running after N s" once `ms` have passed. */
export async function exitWithin(run: Running, ms: number): Promise<number | string | null> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<string>((resolve) => {
    timer = setTimeout(() => {
      resolve(`still running after ${ms / 1000} s`);
    }, ms);
  });
  try {
    return await Promise.race([run.exited, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** The one live process whose command line contains `text`; throws naming what it found otherwise. */
export function onlyProcessMentioning(text: string): number {
  const pids = processesMentioning(text);
  const [pid] = pids;
  if (pid === undefined || pids.length > 1) throw new Error(`expected one process mentioning ${text}, found [${pids.join(", ")}]`);
  return pid;
}

/** A process as of a moment: the start time tells it from a later process given the same pid. */
export interface ProcessRef {
  readonly pid: number;
  readonly startTime: string;
}

/**
 * After a test, pass or fail: SIGKILL (which also ends a stopped process) `local up`, the processes it had
 * started that still run, and anything else mentioning `stateDir`, so a failed test leaves nothing running.
 */
export function cleanUp(child: ChildProcess, started: readonly ProcessRef[], stateDir: string): void {
  child.kill("SIGKILL");
  const pids = [...started.filter(isRunning).map((p) => p.pid), ...processesMentioning(stateDir)];
  for (const pid of pids) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // It exited meanwhile.
    }
  }
}

/** Every live descendant of `pid` (children, theirs, …), read from /proc (Linux). */
export function descendantsOf(pid: number): ProcessRef[] {
  const children = new Map<number, ProcessRef[]>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = statOf(Number(entry));
    if (stat === undefined || stat.state === "Z") continue;
    children.set(stat.ppid, [...(children.get(stat.ppid) ?? []), { pid: Number(entry), startTime: stat.startTime }]);
  }
  const found: ProcessRef[] = [];
  const queue = [pid];
  for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
    for (const child of children.get(next) ?? []) {
      found.push(child);
      queue.push(child.pid);
    }
  }
  return found;
}

/** The pids of those of `processes` still running after up to `ms` (an unreaped zombie is not). */
export async function stillRunning(processes: readonly ProcessRef[], ms = 3000): Promise<number[]> {
  const deadline = Date.now() + ms;
  for (;;) {
    const left = processes.filter(isRunning).map((p) => p.pid);
    if (left.length === 0 || Date.now() > deadline) return left;
    await sleep(100);
  }
}

function isRunning(process: ProcessRef): boolean {
  const stat = statOf(process.pid);
  return stat !== undefined && stat.state !== "Z" && stat.startTime === process.startTime;
}

function statOf(pid: number): { readonly state: string; readonly ppid: number; readonly startTime: string } | undefined {
  try {
    // "PID (COMM) STATE PPID … STARTTIME(field 22) …"; COMM may hold spaces and ")", so split after the last ")".
    const text = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
    return { state: fields[0] ?? "", ppid: Number(fields[1]), startTime: fields[19] ?? "" };
  } catch {
    return undefined;
  }
}

/** The status of GET `url` over mTLS with the client identity `local up` gave the shim in `stateDir/signer`. */
export async function signerStatus(stateDir: string, path: string): Promise<number> {
  const dir = join(stateDir, "signer");
  const url = `${readFileSync(join(stateDir, "signer-url"), "utf8").trim()}${path}`;
  const tls = {
    ca: readFileSync(join(dir, "edge-ca-cert.pem"), "utf8"),
    cert: readFileSync(join(dir, "client-cert.pem"), "utf8"),
    key: readFileSync(join(dir, "client-key.pem"), "utf8"),
  };
  return await new Promise((resolve, reject) => {
    const req = request(url, { ...tls, timeout: 10_000 }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on("timeout", () => req.destroy(new Error(`GET ${url}: no answer within 10 s`)));
    req.on("error", reject);
    req.end();
  });
}

/** Resolves true once `stderr()` matches `pattern`, false after `ms`. */
export async function stderrShows(stderr: () => string, pattern: RegExp, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!pattern.test(stderr())) {
    if (Date.now() > deadline) return false;
    await sleep(200);
  }
  return true;
}
