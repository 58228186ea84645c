/**
 * Reads a client's request body at the edge, counting as it arrives (a chunked body declares no length),
 * so a body over the edge's limit is refused before anything reaches the Worker, and the Worker gets
 * every body with a Content-Length. Chunks are kept as they came: no copy for the usual one-chunk CSR.
 */
import type { IncomingMessage } from "node:http";

/** The whole body as it arrived, or how far it got. */
export type BodyRead =
  | { readonly kind: "complete"; readonly chunks: readonly Buffer[]; readonly bytes: number }
  | { readonly kind: "too-large"; readonly bytes: number }
  | { readonly kind: "aborted" };

/** Reads `req` to its end, unless it passes `limit` bytes (then stops reading and says so). */
export function readRequestBody(req: IncomingMessage, limit: number): Promise<BodyRead> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let bytes = 0;
    const onData = (chunk: Buffer): void => {
      bytes += chunk.length;
      if (bytes > limit) {
        done({ kind: "too-large", bytes });
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = (): void => {
      done({ kind: "complete", chunks, bytes });
    };
    const onAbort = (): void => {
      done({ kind: "aborted" });
    };
    const done = (result: BodyRead): void => {
      req.off("data", onData).off("end", onEnd).off("error", onAbort).off("close", onClose);
      if (result.kind === "too-large") req.pause();
      resolve(result);
    };
    // "close" before "end" is a client that went away mid-body.
    const onClose = (): void => {
      if (!req.complete) onAbort();
    };
    req.on("data", onData).on("end", onEnd).on("error", onAbort).on("close", onClose);
  });
}
