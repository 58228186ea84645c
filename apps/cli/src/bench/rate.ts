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

/**
 * Measures two operations in alternating slices (`rounds` of each, a first), so that load from other
 * processes falls on both alike and their ratio stays meaningful on a shared machine. The bounds are
 * split evenly between the slices.
 */
export async function measurePair(
  a: () => Promise<unknown>,
  b: () => Promise<unknown>,
  options: RateOptions & { readonly rounds: number },
): Promise<[Rate, Rate]> {
  const rounds = Math.max(1, options.rounds);
  const slice: RateOptions = {
    count: Math.max(1, Math.floor(options.count / rounds)),
    seconds: options.seconds / rounds,
    concurrency: options.concurrency,
  };
  const totals: [{ ops: number; seconds: number }, { ops: number; seconds: number }] = [
    { ops: 0, seconds: 0 },
    { ops: 0, seconds: 0 },
  ];
  for (let i = 0; i < (options.warmup ?? 0); i += 1) {
    await a();
    await b();
  }
  for (let round = 0; round < rounds; round += 1) {
    for (const [total, op] of [[totals[0], a], [totals[1], b]] as const) {
      const rate = await measureRate(op, slice);
      total.ops += rate.ops;
      total.seconds += rate.seconds;
    }
  }
  const [ta, tb] = totals;
  const toRate = (t: { ops: number; seconds: number }): Rate => ({ ops: t.ops, seconds: t.seconds, perSecond: t.seconds > 0 ? t.ops / t.seconds : 0 });
  return [toRate(ta), toRate(tb)];
}
