/**
 * CPU time of processes by pid from /proc/<pid>/stat (utime + stime; Linux), and of this process from
 * process.cpuUsage(), so a run can say what each part cost beside the apiserver.
 */
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";

let ticksPerSecond: number | undefined;

function clockTicks(): number {
  if (ticksPerSecond === undefined) {
    let ticks = 100;
    try {
      const value = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim());
      if (Number.isInteger(value) && value > 0) ticks = value;
    } catch {
      // Without getconf: Linux's USER_HZ is 100 on every common architecture.
    }
    ticksPerSecond = ticks;
  }
  return ticksPerSecond;
}

/** Fields after the `(comm)` of /proc/<pid>/stat: index 0 is field 3 (state). */
function statFields(pid: number): string[] | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, "utf8");
    return text.slice(text.lastIndexOf(")") + 2).split(" ");
  } catch {
    return undefined;
  }
}

/** User + system CPU seconds of `pid` so far; undefined when it is gone. */
export function cpuSecondsOf(pid: number): number | undefined {
  const fields = statFields(pid);
  // utime and stime are fields 14 and 15 of the stat line.
  const utime = Number(fields?.[11]);
  const stime = Number(fields?.[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) return undefined;
  return (utime + stime) / clockTicks();
}

/**
 * User + system CPU seconds so far of this process's threads that `pick` selects by thread id and name
 * (/proc/self/task/<tid>/stat; the main thread's id is the pid and its name "MainThread"; Node names a
 * worker thread after Worker's `name` option, "WorkerThread" without one, cut to the kernel's 15 bytes; the edge names its threads EDGE_THREAD_NAME).
 * Undefined when `pick` selects no thread, so a lookup that misses shows as a missing figure, not as 0 s.
 * A picked thread that ends takes its seconds with it: pick threads that outlive the measurement.
 */
export function ownThreadsCpuSeconds(pick: (tid: number, name: string) => boolean): number | undefined {
  let ticks = 0;
  let picked = 0;
  for (const entry of readdirSync("/proc/self/task")) {
    try {
      const text = readFileSync(`/proc/self/task/${entry}/stat`, "utf8");
      const name = text.slice(text.indexOf("(") + 1, text.lastIndexOf(")"));
      if (!pick(Number(entry), name)) continue;
      const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
      ticks += Number(fields[11]) + Number(fields[12]);
      picked += 1;
    } catch {
      // The thread ended while we looked.
    }
  }
  return picked === 0 ? undefined : ticks / clockTicks();
}

/** This process's user + system CPU seconds so far. */
export function ownCpuSeconds(): number {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1e6;
}

/**
 * Descendants of this process whose command line contains `text` (e.g. "workerd", "apps/shim/src/main.ts"):
 * whatever spawned them in between (Miniflare, a shell) they are found.
 */
export function descendantsMentioning(text: string): number[] {
  const parentOf = new Map<number, number>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    // Field 4, the parent pid.
    const ppid = Number(statFields(Number(entry))?.[1]);
    if (Number.isInteger(ppid)) parentOf.set(Number(entry), ppid);
  }
  const isDescendant = (pid: number): boolean => {
    // Bounded walk up the tree (a pid table has no cycles, but a racing exit could confuse it).
    let current = parentOf.get(pid);
    for (let depth = 0; current !== undefined && current > 1 && depth < 64; depth++) {
      if (current === process.pid) return true;
      current = parentOf.get(current);
    }
    return false;
  };
  const found: number[] = [];
  for (const pid of parentOf.keys()) {
    if (!isDescendant(pid)) continue;
    try {
      if (readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " ").includes(text)) found.push(pid);
    } catch {
      // Exited while we looked.
    }
  }
  return found;
}

/** The CPU seconds of several processes together (those gone are left out). */
export function cpuSecondsOfAll(pids: readonly number[]): number {
  let total = 0;
  for (const pid of pids) total += cpuSecondsOf(pid) ?? 0;
  return total;
}

/** Named CPU meters: `take()` now, `take()` later, `since()` gives the seconds each used in between. */
export class CpuMeter {
  constructor(private readonly parts: ReadonlyMap<string, () => number | undefined>) {}

  take(): Map<string, number> {
    const sample = new Map<string, number>();
    for (const [name, read] of this.parts) {
      const value = read();
      if (value !== undefined) sample.set(name, value);
    }
    return sample;
  }

  since(before: ReadonlyMap<string, number>): Record<string, number> {
    const after = this.take();
    const out: Record<string, number> = {};
    for (const [name, value] of after) {
      const start = before.get(name);
      if (start !== undefined) out[name] = value - start;
    }
    return out;
  }
}
