/**
 * How a part of the local stack ended on its own. Nothing under `local up` restarts a kube-apiserver,
 * etcd or shim that dies: the stack would look up while a part of it is gone, so `local up` reports
 * the death (which part, how, the end of its log), stops the rest and exits non-zero.
 */
import { readFile } from "node:fs/promises";

export interface PartExit {
  /** etcd, kube-apiserver, signer, shim. */
  readonly name: string;
  /** null when a signal ended it. */
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** Where its output went, if it has a log of its own. */
  readonly logFile: string | undefined;
  /** What else is known, e.g. why the exit status is not. */
  readonly detail?: string;
}

/** "exited with status 2" / "was killed by SIGKILL". */
export function howItEnded(exit: Pick<PartExit, "code" | "signal">): string {
  if (exit.signal !== null) return `was killed by ${exit.signal}`;
  return exit.code === null ? "exited" : `exited with status ${exit.code}`;
}

/**
 * The report for a part that died: one line naming the part and how it ended, then the last `lines`
 * lines of its log (read now: the control plane's logs are removed with its data directory on stop).
 */
export async function describePartExit(exit: PartExit, lines = 20): Promise<string> {
  const detail = exit.detail === undefined ? "" : ` (${exit.detail})`;
  const head = `${exit.name} ${howItEnded(exit)} while the stack was running${detail}; local up restarts nothing, so it stops the rest`;
  if (exit.logFile === undefined) return head;
  let text: string;
  try {
    text = await readFile(exit.logFile, "utf8");
  } catch (error) {
    return `${head}\n--- ${exit.name} log ${exit.logFile}: unreadable (${(error as NodeJS.ErrnoException).code ?? String(error)}) ---`;
  }
  const last = text.trimEnd().split("\n").slice(-lines).join("\n");
  return `${head}\n--- last lines of the ${exit.name} log (${exit.logFile}) ---\n${last}\n--- end of the ${exit.name} log ---`;
}
