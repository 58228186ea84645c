import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { openSync, closeSync } from "node:fs";

/** How a process ended: its exit code, or the signal that ended it. */
export interface ProcessExit {
  readonly name: string;
  /** null when a signal ended it. */
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** Where its stdout and stderr went. */
  readonly logFile: string;
}

/**
 * A child process started as the leader of its own process group (detached), with stdout and stderr
 * appended to a log file. Stopping it signals the whole group, so nothing it forked is left behind.
 */
export class ProcessGroup {
  readonly exited: Promise<number | null>;
  /** Resolves once the leader has exited, with its code or signal. */
  readonly ended: Promise<ProcessExit>;
  private exitCode: number | null | undefined = undefined;

  private constructor(
    readonly name: string,
    private readonly child: ChildProcess,
    readonly pid: number,
    readonly logFile: string,
  ) {
    this.ended = new Promise((resolve) => {
      child.on("exit", (code, signal) => {
        this.exitCode = code ?? (signal === null ? null : -1);
        live.delete(this);
        resolve({ name, code, signal, logFile });
      });
    });
    this.exited = this.ended.then(() => this.exitCode ?? null);
    live.add(this);
    installExitHook();
  }

  /** Starts `command args…` in a new process group, logging to `logFile`. */
  static start(name: string, command: string, args: readonly string[], logFile: string): ProcessGroup {
    const fd = openSync(logFile, "a");
    try {
      const child = spawn(command, args, { detached: true, stdio: ["ignore", fd, fd] });
      if (child.pid === undefined) throw new Error(`could not start ${name} (${command})`);
      // The runner must not wait for the control plane: stop() or the exit hook end it.
      child.unref();
      return new ProcessGroup(name, child, child.pid, logFile);
    } finally {
      closeSync(fd);
    }
  }

  /** True until the leader exits. */
  get running(): boolean {
    return this.exitCode === undefined;
  }

  /** SIGTERM to the group, SIGKILL after `graceMs`; resolves once the leader has exited. */
  async stop(graceMs = 5000): Promise<void> {
    // The child is unref'd (see start): were it left so, a leader that needs the SIGKILL would let the
    // event loop empty between the kill and its exit event, and a caller awaiting stop() at top level
    // would die with "unsettled top-level await" (exit 13). Waiting for it is now the point.
    this.child.ref();
    signalGroup(this.pid, "SIGTERM");
    const timer = setTimeout(() => {
      signalGroup(this.pid, "SIGKILL");
    }, graceMs);
    try {
      await this.exited;
    } finally {
      clearTimeout(timer);
    }
    // Anything the leader forked and left in its group goes too.
    signalGroup(this.pid, "SIGKILL");
  }
}

function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // ESRCH: the group is already gone.
  }
}

const live = new Set<ProcessGroup>();
let hookInstalled = false;

/**
 * Kills every group still running when this process exits (normally or through process.exit), so an
 * aborted test run leaves nothing behind. 'exit' handlers must be synchronous: process.kill is.
 */
function installExitHook(): void {
  if (hookInstalled) return;
  hookInstalled = true;
  process.on("exit", () => {
    for (const group of live) signalGroup(group.pid, "SIGKILL");
  });
}

/**
 * Starts a detached watchdog that kills the given process groups (and removes `dataDir`) once the process
 * `parentPid` is gone, covering the case the exit hook cannot: the parent killed by SIGKILL or a signal it
 * does not handle. It polls once a second and costs nothing else.
 */
export function startWatchdog(parentPid: number, groups: readonly number[], dataDir: string): ChildProcess {
  const kills = groups.map((g) => `kill -KILL -${g} 2>/dev/null`).join("; ");
  const script = `while kill -0 ${parentPid} 2>/dev/null; do sleep 1; done; ${kills}; rm -rf -- "$1"`;
  const child = spawn("sh", ["-c", script, "edgeca-watchdog", dataDir], { detached: true, stdio: "ignore" });
  child.unref();
  return child;
}
