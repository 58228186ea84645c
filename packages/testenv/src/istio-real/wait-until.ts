import { setTimeout as sleep } from "node:timers/promises";

/**
 * Polls `probe` every `intervalMs` until it returns a value (not undefined), at most `timeoutMs`.
 * `alive` is checked first on every round so a crashed process fails at once, not at the deadline.
 * The error thrown on timeout or death is built by `failure` (typically with a log tail).
 */
export async function waitUntil<T>(options: {
  readonly probe: () => Promise<T | undefined>;
  readonly timeoutMs: number;
  readonly intervalMs?: number;
  readonly alive?: () => boolean;
  readonly failure: (why: string) => Error | Promise<Error>;
}): Promise<T> {
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    if (options.alive !== undefined && !options.alive()) throw await options.failure("the process exited");
    const value = await options.probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw await options.failure(`not within ${Math.round(options.timeoutMs / 1000)} s`);
    await sleep(options.intervalMs ?? 250);
  }
}
