/**
 * A de-duplicating work queue with per-key backoff, with client-go's workqueue semantics
 * (k8s.io/client-go/util/workqueue): a key is queued at most once; a key added while a worker processes it
 * is queued again only when that worker calls `done`, so one key is never processed by two workers at once.
 */
import { ItemBackoff, type BackoffOptions } from "./backoff.ts";
import type { Clock } from "./clock.ts";

export class WorkQueue {
  readonly #queue: string[] = [];
  /** Keys waiting in #queue or to be re-queued after processing. */
  readonly #dirty = new Set<string>();
  readonly #processing = new Set<string>();
  /** Delayed adds, by key: only the earliest pending timer per key is kept. */
  readonly #delayed = new Map<string, { at: number; cancel: () => void }>();
  readonly #waiters: ((key: string | undefined) => void)[] = [];
  readonly #backoff: ItemBackoff;
  readonly #clock: Clock;
  readonly #onDepth: (depth: number) => void;
  #shutDown = false;

  constructor(options: { clock: Clock; backoff?: BackoffOptions; onDepth?: (depth: number) => void }) {
    this.#clock = options.clock;
    this.#backoff = new ItemBackoff(options.backoff);
    this.#onDepth = options.onDepth ?? (() => undefined);
  }

  /** Number of keys waiting to be processed now (not counting delayed ones). */
  get length(): number {
    return this.#queue.length;
  }

  /** Queues `key` unless it is already waiting. */
  add(key: string): void {
    if (this.#shutDown || this.#dirty.has(key)) return;
    this.#dirty.add(key);
    if (this.#processing.has(key)) return;
    const waiter = this.#waiters.shift();
    if (waiter !== undefined) {
      this.#dirty.delete(key);
      this.#processing.add(key);
      waiter(key);
      return;
    }
    this.#queue.push(key);
    this.#onDepth(this.#queue.length);
  }

  /** Queues `key` after `ms`; an earlier pending delayed add of the same key wins. */
  addAfter(key: string, ms: number): void {
    if (this.#shutDown) return;
    if (ms <= 0) {
      this.add(key);
      return;
    }
    const at = this.#clock.now() + ms;
    const pending = this.#delayed.get(key);
    if (pending !== undefined) {
      if (pending.at <= at) return;
      pending.cancel();
    }
    const cancel = this.#clock.setTimer(() => {
      this.#delayed.delete(key);
      this.add(key);
    }, ms);
    this.#delayed.set(key, { at, cancel });
  }

  /**
   * Queues `key` after its next backoff delay (or `atLeastMs`, when longer: a signer's Retry-After).
   * Returns the delay chosen.
   */
  addRateLimited(key: string, atLeastMs = 0): number {
    const delay = Math.max(this.#backoff.next(key), atLeastMs);
    this.addAfter(key, delay);
    return delay;
  }

  /** Failures of `key` since it was last forgotten. */
  retries(key: string): number {
    return this.#backoff.failures(key);
  }

  /** Ends the backoff history of `key`: its next failure starts from the base delay again. */
  forget(key: string): void {
    this.#backoff.forget(key);
  }

  /** Waits for the next key; resolves `undefined` once the queue is shut down. Call `done` when finished. */
  get(): Promise<string | undefined> {
    if (this.#shutDown) return Promise.resolve(undefined);
    const key = this.#queue.shift();
    if (key !== undefined) {
      this.#dirty.delete(key);
      this.#processing.add(key);
      this.#onDepth(this.#queue.length);
      return Promise.resolve(key);
    }
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /** Marks `key` processed; if it was added meanwhile it is queued again now. */
  done(key: string): void {
    this.#processing.delete(key);
    if (this.#dirty.has(key)) {
      this.#dirty.delete(key);
      this.add(key);
    }
  }

  /** Stops handing out keys: pending and future `get` calls resolve `undefined`; delayed adds are cancelled. */
  shutDown(): void {
    this.#shutDown = true;
    this.#queue.length = 0;
    this.#dirty.clear();
    this.#onDepth(0);
    for (const { cancel } of this.#delayed.values()) cancel();
    this.#delayed.clear();
    for (const waiter of this.#waiters.splice(0)) waiter(undefined);
  }
}
