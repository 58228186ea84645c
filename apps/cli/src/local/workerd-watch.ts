/**
 * Watches the workerd processes Miniflare runs for the signer part. Miniflare restarts a workerd that
 * crashes (on the same sockets, so the signer keeps serving) but says nothing, and it keeps the process
 * to itself, so its exit status cannot be read here: the watch sees the pid go and a new one come, from
 * /proc (Linux), once a second.
 */
import { readdirSync, readFileSync } from "node:fs";

/** How long a restart may take before the workerd is taken for dead. */
export const RESTART_GRACE_MS = 15_000;

export interface WorkerdWatch {
  /** Resolves if a workerd went and none came back within the grace; stays pending otherwise. */
  readonly gone: Promise<{ readonly pid: number }>;
  /** Ends the watch (before stopping the signer, whose workerd then exits on purpose). */
  stop(): void;
}

/** The pids of this process's workerd children. */
export function workerdChildren(): Set<number> {
  const found = new Set<number>();
  let entries: string[];
  try {
    entries = readdirSync("/proc");
  } catch {
    return found; // no /proc (not Linux): nothing to watch
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      // "PID (COMM) STATE PPID …": a zombie (state Z) has exited already.
      const [state, ppid] = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (Number(ppid) === process.pid && state !== "Z" && stat.includes("(workerd)")) found.add(Number(entry));
    } catch {
      // The process exited while we looked.
    }
  }
  return found;
}

/** Watches `pids` (the signer's workerd processes); logs every exit and restart. */
export function watchWorkerd(pids: ReadonlySet<number>, log: (line: string) => void, intervalMs = 1000): WorkerdWatch {
  let known = new Set(pids);
  let missingSince: { readonly pid: number; readonly at: number } | undefined;
  let reportGone: (gone: { readonly pid: number }) => void = () => undefined;
  const gone = new Promise<{ readonly pid: number }>((resolve) => {
    reportGone = resolve;
  });
  const timer = setInterval(() => {
    const now = workerdChildren();
    const lost = [...known].filter((pid) => !now.has(pid));
    const fresh = [...now].filter((pid) => !known.has(pid));
    for (const pid of lost) log(`signer: workerd (pid ${pid}) exited; Miniflare restarts it`);
    if (lost.length > 0) missingSince ??= { pid: lost[0] ?? 0, at: Date.now() };
    for (const pid of fresh) log(`signer: workerd restarted by Miniflare (pid ${pid}); the signer serves again`);
    if (fresh.length > 0 && now.size >= pids.size) missingSince = undefined;
    known = now;
    if (missingSince !== undefined && Date.now() - missingSince.at > RESTART_GRACE_MS) {
      clearInterval(timer);
      reportGone({ pid: missingSince.pid });
    }
  }, intervalMs);
  // The watch must not keep `local up` alive: the parent watch does that while it runs.
  timer.unref();
  return {
    gone,
    stop() {
      clearInterval(timer);
    },
  };
}
