/** Polling, for tests that watch real processes and real apiservers. */
import { setTimeout as sleep } from "node:timers/promises";

/** Probes every `intervalMs` until `ok` holds or `timeoutMs` passes; returns the last value seen (the caller judges it). */
export async function until<T>(probe: () => T | Promise<T>, ok: (value: T) => boolean, timeoutMs = 15_000, intervalMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (ok(value) || Date.now() > deadline) return value;
    await sleep(intervalMs);
  }
}
