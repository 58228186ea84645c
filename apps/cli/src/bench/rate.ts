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
  /**
   * CPU time of this thread (the event loop's: where Node's WebCrypto and all JavaScript run) per
   * operation, in µs. CPU time does not count the time other processes hold the cores, so on a shared
   * machine it moves far less than throughput does.
   */
  readonly mainCpuMicros: number;
  /** CPU time of the whole process (thread pool and GC helpers included) per operation, in µs. */
  readonly processCpuMicros: number;
}

interface Totals {
  ops: number;
  seconds: number;
  mainCpu: number;
  processCpu: number;
}

const micros = (u: NodeJS.CpuUsage): number => u.user + u.system;

function rateOf(t: Totals): Rate {
  const per = (x: number): number => (t.ops > 0 ? x / t.ops : 0);
  return { ops: t.ops, seconds: t.seconds, perSecond: t.seconds > 0 ? t.ops / t.seconds : 0, mainCpuMicros: per(t.mainCpu), processCpuMicros: per(t.processCpu) };
}

/** Runs `op` under `options` and returns operations per second over the timed part. */
export async function measureRate(op: () => Promise<unknown>, options: RateOptions): Promise<Rate> {
  for (let i = 0; i < (options.warmup ?? 0); i += 1) await op();
  const main = process.threadCpuUsage();
  const all = process.cpuUsage();
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
  return rateOf({ ops: done, seconds, mainCpu: micros(process.threadCpuUsage(main)), processCpu: micros(process.cpuUsage(all)) });
}

/**
 * Measures two operations in alternating slices (`rounds` of each, a first), so that load from other
 * processes falls on both alike and their ratio stays meaningful on a shared machine. The bounds are
 * split evenly between the slices.
 */
export async function measurePair(
  a: () => Promise<unknown>,
  b: () => Promise<unknown>,
  options: RateOptions & {
    readonly rounds: number;
    /** Bounds of `a` only, when they differ from `b`'s (e.g. `a` carries several items per operation). */
    readonly first?: { readonly count: number; readonly concurrency: number };
  },
): Promise<[Rate, Rate]> {
  const rounds = Math.max(1, options.rounds);
  const sliceOf = (count: number, concurrency: number): RateOptions => ({ count: Math.max(1, Math.floor(count / rounds)), seconds: options.seconds / rounds, concurrency });
  const slices = [sliceOf(options.first?.count ?? options.count, options.first?.concurrency ?? options.concurrency), sliceOf(options.count, options.concurrency)] as const;
  const totals: [Totals, Totals] = [
    { ops: 0, seconds: 0, mainCpu: 0, processCpu: 0 },
    { ops: 0, seconds: 0, mainCpu: 0, processCpu: 0 },
  ];
  for (let i = 0; i < (options.warmup ?? 0); i += 1) {
    await a();
    await b();
  }
  for (let round = 0; round < rounds; round += 1) {
    for (const [total, op, slice] of [[totals[0], a, slices[0]], [totals[1], b, slices[1]]] as const) {
      const rate = await measureRate(op, slice);
      total.ops += rate.ops;
      total.seconds += rate.seconds;
      total.mainCpu += rate.mainCpuMicros * rate.ops;
      total.processCpu += rate.processCpuMicros * rate.ops;
    }
  }
  return [rateOf(totals[0]), rateOf(totals[1])];
}

/**
 * Untimed calls of each of `ops` in turn, one at a time, until `count` calls of each or `seconds` have
 * passed (bounded both ways, like every loop here): to reach the JIT's steady state before timing.
 */
export async function warmUp(ops: readonly (() => Promise<unknown>)[], bounds: { readonly count: number; readonly seconds: number }): Promise<void> {
  const deadline = performance.now() + bounds.seconds * 1000;
  for (let i = 0; i < bounds.count && performance.now() < deadline; i += 1) {
    for (const op of ops) await op();
  }
}
