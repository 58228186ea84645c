/**
 * The bench's one retry layer for Kubernetes requests (BenchKubeClient itself never retries): an answer of
 * 429 or 5xx, and a connection broken before any answer (ECONNRESET, EPIPE: e.g. a kept-alive connection
 * the apiserver closed just as it was reused), are tried again after a short pause, at most MAX_TRIES
 * times in all, each retry reported to `onRetry` (the burst counts them in its result). Watches are not
 * retried here: the collector reopens its watch itself.
 */
import type { BenchKubeAnswer } from "./bench-kube-client.ts";

/** Tries per request (bounded: a run never retries forever). */
export const MAX_TRIES = 5;

/** A broken connection: worth another try. */
function isConnectionReset(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === "ECONNRESET" || code === "EPIPE";
}

/**
 * Runs `call` until it succeeds: 429, 5xx and a broken connection are retried (bounded, after a short
 * pause), `passThrough` statuses are handed back like a success, anything else throws with the
 * apiserver's message, prefixed with `what`.
 */
export async function withRetries(
  call: () => Promise<BenchKubeAnswer>,
  what: string,
  onRetry: () => void = () => undefined,
  passThrough: readonly number[] = [],
): Promise<BenchKubeAnswer> {
  for (let attempt = 1; ; attempt++) {
    let answer: BenchKubeAnswer;
    try {
      answer = await call();
    } catch (error) {
      if (!isConnectionReset(error) || attempt >= MAX_TRIES) throw error;
      onRetry();
      await new Promise((resolve) => setTimeout(resolve, 50 * attempt));
      continue;
    }
    if ((answer.status >= 200 && answer.status < 300) || passThrough.includes(answer.status)) return answer;
    const transient = answer.status === 429 || answer.status >= 500;
    if (!transient || attempt >= MAX_TRIES) throw new Error(`${what}: HTTP ${answer.status}: ${answer.text.slice(0, 300)}`);
    onRetry();
    await new Promise((resolve) => setTimeout(resolve, 50 * attempt));
  }
}
