/**
 * Per-key exponential backoff, like client-go's ItemExponentialFailureRateLimiter: the n-th failure of a key
 * waits base·2ⁿ⁻¹, capped. istiod waits only 60 s for a certificate (docs/facts.md "istiod in RA mode"), so the
 * defaults start at 200 ms and cap at 5 s: a signer that is back within a minute is reached within seconds.
 */
export interface BackoffOptions {
  /** Delay after the first failure, in ms. */
  readonly baseMs: number;
  /** Upper bound of any delay, in ms. */
  readonly maxMs: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { baseMs: 200, maxMs: 5_000 };

export class ItemBackoff {
  readonly #failures = new Map<string, number>();
  readonly #options: BackoffOptions;

  constructor(options: BackoffOptions = DEFAULT_BACKOFF) {
    if (!(options.baseMs > 0) || !(options.maxMs >= options.baseMs)) {
      throw new RangeError(`backoff needs 0 < baseMs <= maxMs, got baseMs=${options.baseMs} maxMs=${options.maxMs}`);
    }
    this.#options = options;
  }

  /** Records one more failure of `key` and returns how long to wait before the next attempt. */
  next(key: string): number {
    const n = (this.#failures.get(key) ?? 0) + 1;
    this.#failures.set(key, n);
    // 2^(n-1) overflows to Infinity for large n, which Math.min caps; no special case needed.
    return Math.min(this.#options.maxMs, this.#options.baseMs * 2 ** (n - 1));
  }

  /** How many failures `key` has had since it was last forgotten. */
  failures(key: string): number {
    return this.#failures.get(key) ?? 0;
  }

  /** Clears the history of `key` (after a success, or when it is gone). */
  forget(key: string): void {
    this.#failures.delete(key);
  }
}
