/**
 * The life of `edgeca local up` in the foreground: start the stack, print "ready", run until a signal,
 * the parent's exit or the death of a part, then stop everything that is left.
 */
import { BinaryBuildError, ControlPlaneError } from "@edgeca/testenv";
import { watchParent } from "../parent-watch.ts";
import { startLocalStack } from "./local-stack.ts";
import type { LocalStack, LocalStackOptions } from "./local-stack.ts";
import { describePartExit } from "./part-exit.ts";
import type { PartExit } from "./part-exit.ts";

/** Exit statuses of `local up` (2, a usage error, is the command's). */
export const LOCAL_UP_EXIT = { stopped: 0, startFailed: 1, partDied: 3 } as const;

type Outcome = { readonly kind: "stop"; readonly reason: string } | { readonly kind: "died"; readonly exit: PartExit };

/** Runs the stack until stopped; resolves with the exit status. */
export async function runLocalUp(settings: Omit<LocalStackOptions, "log">): Promise<number> {
  const log = (line: string): void => {
    process.stderr.write(`edgeca local up: ${line}\n`);
  };
  // Listen before starting, so a signal during start-up still stops what has started.
  let reason: string | undefined;
  let requestStop: (why: string) => void = () => undefined;
  const stopRequested = new Promise<string>((resolve) => {
    requestStop = (why) => {
      reason ??= why;
      resolve(reason);
    };
  });
  const onSignal = (signal: NodeJS.Signals): void => {
    requestStop(`${signal} received`);
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  const before = { SIGINT: process.listeners("SIGINT"), SIGTERM: process.listeners("SIGTERM") };
  try {
    let stack: LocalStack;
    try {
      stack = await startLocalStack({ ...settings, log });
    } catch (error) {
      // The build or start-up failure already says which step failed and quotes the logs.
      if (error instanceof BinaryBuildError || error instanceof ControlPlaneError) {
        log(`failed: ${error.message}`);
        return LOCAL_UP_EXIT.startFailed;
      }
      throw error;
    }
    // Miniflare (the signer part) adds SIGINT/SIGTERM listeners that call process.exit at once, which
    // would skip the orderly stop. This command owns the process: it takes those signals back;
    // Miniflare's "exit" hook stays as the safety net for workerd.
    for (const name of ["SIGINT", "SIGTERM"] as const) {
      for (const listener of process.listeners(name)) if (!before[name].includes(listener)) process.off(name, listener);
    }
    return await runUntilStopped(stack, reason === undefined ? { stopRequested, requestStop } : undefined, log);
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}

/** Prints "ready" (unless a stop came during start-up), waits, reports why it stops, stops. */
async function runUntilStopped(
  stack: LocalStack,
  running: { readonly stopRequested: Promise<string>; readonly requestStop: (why: string) => void } | undefined,
  log: (line: string) => void,
): Promise<number> {
  let outcome: Outcome = { kind: "stop", reason: "a signal came during start-up" };
  try {
    if (running !== undefined) {
      if (stack.clusters.length === 0) log(`kubeconfig: ${stack.kubeconfigPath}`);
      for (const cluster of stack.clusters) log(`${cluster.name}: kubeconfig ${cluster.kubeconfigPath}, trust domain ${cluster.trustDomain}`);
      process.stdout.write("ready\n");
      // A pending promise does not hold the event loop open, and the control plane's processes are
      // unref'd: the parent watch's timer keeps the process alive until stopped.
      const unwatch = watchParent(() => {
        running.requestStop("the parent process exited (npm does not forward SIGTERM)");
      });
      outcome = await Promise.race([
        running.stopRequested.then((reason): Outcome => ({ kind: "stop", reason })),
        stack.failed.then((exit): Outcome => ({ kind: "died", exit })),
      ]);
      unwatch();
    }
    // Read the dead part's log now: stopping removes the control plane's data directory with its logs.
    log(outcome.kind === "died" ? await describePartExit(outcome.exit) : `${outcome.reason}, stopping`);
  } finally {
    await stack.stop();
  }
  if (outcome.kind === "died") {
    log(`stopped: ${outcome.exit.name} had died; exiting with status ${LOCAL_UP_EXIT.partDied}`);
    return LOCAL_UP_EXIT.partDied;
  }
  log("stopped");
  return LOCAL_UP_EXIT.stopped;
}
