/** Reads a request body up to a byte limit, counting while reading (a Content-Length can lie or be absent). */
import { MAX_BODY_BYTES } from "@edgeca/shared";
import { InvalidRequestError, PayloadTooLargeError, UnsupportedMediaTypeError } from "./errors.ts";

/** Checks the media type is JSON (`application/json`, optionally with parameters). */
export function requireJson(contentType: string | null): void {
  const type = contentType?.split(";")[0]?.trim().toLowerCase();
  if (type !== "application/json") {
    throw new UnsupportedMediaTypeError(`Content-Type must be application/json, got ${contentType === null ? "none" : JSON.stringify(contentType)}`);
  }
}

/** The body as UTF-8 text, refusing more than `limit` bytes. */
export async function readLimitedText(request: Request, limit = MAX_BODY_BYTES): Promise<string> {
  const declared = request.headers.get("content-length");
  if (declared !== null && Number(declared) > limit) {
    throw new PayloadTooLargeError(`body of ${declared} bytes is over the limit of ${limit}`);
  }
  const body = request.body;
  if (body === null) return "";
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const chunk: { done: boolean; value?: unknown } = await reader.read();
    if (chunk.done) break;
    const value = chunk.value;
    // Request bodies are byte streams; anything else is a runtime fault, not the client's.
    if (!(value instanceof Uint8Array)) throw new TypeError("request body chunk is not bytes");
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel();
      throw new PayloadTooLargeError(`body is over the limit of ${limit} bytes`);
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    bytes.set(c, at);
    at += c.byteLength;
  }
  try {
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    throw new InvalidRequestError("body is not valid UTF-8");
  }
}
