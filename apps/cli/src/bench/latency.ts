/** Per-call latencies of an operation, recorded only while a measurement runs, and their percentiles. */

export class LatencyRecorder {
  readonly #samples: number[] = [];
  recording = false;

  /** `op`, timed into this recorder whenever `recording` is on. */
  wrap<T>(op: () => Promise<T>): () => Promise<T> {
    return async () => {
      const start = performance.now();
      const result = await op();
      if (this.recording) this.#samples.push(performance.now() - start);
      return result;
    };
  }

  /** The `p`-th percentile in milliseconds (nearest rank), 0 without samples. */
  percentile(p: number): number {
    if (this.#samples.length === 0) return 0;
    const sorted = [...this.#samples].sort((a, b) => a - b);
    const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
    return sorted[rank - 1] ?? 0;
  }

  get count(): number {
    return this.#samples.length;
  }
}
