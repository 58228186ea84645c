/**
 * Runs a benchmark that starts processes so that Ctrl-C (SIGINT), SIGTERM, or npm going away (npm does not
 * pass SIGTERM on) aborts it through its signal: it then stops everything it started before this returns
 * (or rejects). Without this, Node's default for SIGINT would exit at once and leave only the exit hooks.
 */
import { watchParent } from "../parent-watch.ts";

export async function untilInterrupted<T>(run: (signal: AbortSignal) => Promise<T>, log: (line: string) => void): Promise<T> {
  const controller = new AbortController();
  const abort = (why: string): void => {
    if (controller.signal.aborted) return;
    log(`${why}: stopping everything the benchmark started`);
    controller.abort(new Error(`benchmark interrupted (${why})`));
  };
  const onSigint = (): void => {
    abort("SIGINT");
  };
  const onSigterm = (): void => {
    abort("SIGTERM");
  };
  process.on("SIGINT", onSigint);
  process.on("SIGTERM", onSigterm);
  const unwatch = watchParent(() => {
    abort("parent process gone");
  });
  try {
    return await run(controller.signal);
  } finally {
    unwatch();
    process.off("SIGINT", onSigint);
    process.off("SIGTERM", onSigterm);
  }
}
