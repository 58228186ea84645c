/**
 * A test file's own stack: a control plane of its own, the E2EStack on it and, if asked, a first shim that
 * leads and is ready before the file's first test. Own, not the run's shared control plane, because a shim
 * here leads the Lease edgeca-system/edgeca-shim and signs example.com/foo: two files doing that in one
 * cluster would sign each other's CSRs with the wrong root, and a file run alone must find the same cluster
 * as in the whole suite. Stopped after the file's tests.
 */
import { startControlPlane, type ControlPlane } from "@edgeca/testenv";
import { afterAll, beforeAll } from "vitest";
import { until } from "../support/until.ts";
import { E2EStack, type RunningShim } from "./harness.ts";

export interface OwnStack {
  readonly cp: ControlPlane;
  readonly stack: E2EStack;
  /** The first shim (only with `options.shim`). */
  readonly shim: RunningShim;
}

export interface OwnStackOptions {
  /** The POD_NAME of a first shim, started once the stack is up and awaited until it leads and is ready. */
  readonly shim?: string;
  /** Runs after the stack is up, before the first shim (to reconfigure the signer, say). */
  readonly prepare?: (stack: E2EStack) => Promise<void>;
}

/** Registers the file's beforeAll/afterAll; the returned object's fields are there once beforeAll ran. */
export function useOwnStack(options: OwnStackOptions = {}): OwnStack {
  let cp: ControlPlane | undefined;
  let stack: E2EStack | undefined;
  let shim: RunningShim | undefined;
  beforeAll(async () => {
    cp = await startControlPlane();
    stack = await E2EStack.start(cp);
    await options.prepare?.(stack);
    if (options.shim === undefined) return;
    const first = await stack.startShim(options.shim);
    shim = first;
    const ready = await until(() => first.shim.isLeader() && first.shim.notReadyReason() === undefined, Boolean, 30_000);
    if (!ready) throw new Error(`shim ${options.shim} did not lead and become ready in 30 s: ${first.shim.notReadyReason() ?? "not the leader"}`);
  }, 240_000);
  afterAll(async () => {
    await shim?.shim.stop();
    await stack?.stop();
    await cp?.stop();
  });
  const started = <T>(value: T | undefined, what: string): T => {
    if (value === undefined) throw new Error(`${what} did not start (see the file's beforeAll)`);
    return value;
  };
  return {
    get cp() { return started(cp, "the control plane"); },
    get stack() { return started(stack, "the stack"); },
    get shim() { return started(shim, options.shim === undefined ? "no first shim was asked for: the shim" : `shim ${options.shim}`); },
  };
}
