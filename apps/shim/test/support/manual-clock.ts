/**
 * A Clock the test advances by hand, so backoff, lease and refresh delays are observed without sleeping.
 * Timers due by the new time fire in order of their due time; `settle` lets the promise chains they start
 * run to their next wait.
 */
import type { Clock } from "../../src/clock.ts";

interface Timer {
  readonly at: number;
  readonly fn: () => void;
  live: boolean;
}

export class ManualClock implements Clock {
  #now: number;
  #timers: Timer[] = [];

  constructor(start = 0) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  setTimer(fn: () => void, ms: number): () => void {
    const timer: Timer = { at: this.#now + Math.max(0, ms), fn, live: true };
    this.#timers.push(timer);
    return () => { timer.live = false; };
  }

  /** Delays of the timers still pending, from now, in the order they were set. */
  pending(): number[] {
    return this.#timers.filter((t) => t.live).map((t) => t.at - this.#now);
  }

  /** Moves time on by `ms` and fires every timer due by then (synchronously). */
  advance(ms: number): void {
    this.#now += ms;
    const due = this.#timers.filter((t) => t.live && t.at <= this.#now).sort((a, b) => a.at - b.at);
    this.#timers = this.#timers.filter((t) => t.live && t.at > this.#now);
    for (const t of due) t.fn();
  }

  /** `advance`, then `settle`. */
  async tick(ms: number): Promise<void> {
    this.advance(ms);
    await settle();
  }
}

/** Lets pending promise continuations (and I/O callbacks) run: a few turns of the event loop. */
export async function settle(turns = 5): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}
