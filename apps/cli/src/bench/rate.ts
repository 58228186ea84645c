/** Throughput of an async operation, bounded both in count and in time (never an open-ended loop). */

export interface RateOptions {
  /** Upper bound of operations. */
  readonly count: number;
  /** Upper bound of wall time in seconds; the run stops at whichever bound comes first. */
  readonly seconds: number;
  /** Operations in flight at once (1: one at a time). */
  readonly concurrency: number;
  /** Untimed operations first (JIT, key caches). */
  readonly warmup?: number;
}

export interface Rate {
  readonly ops: number;
  readonly seconds: number;
  readonly perSecond: number;
}

/** Runs `op` under `options` and returns operations per second over the timed part. */
export async function measureRate(op: () => Promise<unknown>, options: RateOptions): Promise<Rate> {
  for (let i = 0; i < (options.warmup ?? 0); i += 1) await op();
  const start = performance.now();
  const deadline = start + options.seconds * 1000;
  let started = 0;
  let done = 0;
  const worker = async (): Promise<void> => {
    while (started < options.count && performance.now() < deadline) {
      started += 1;
      await op();
      done += 1;
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, options.concurrency) }, worker));
  const seconds = (performance.now() - start) / 1000;
  return { ops: done, seconds, perSecond: seconds > 0 ? done / seconds : 0 };
}
