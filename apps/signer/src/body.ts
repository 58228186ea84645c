/**
 * Reads a request body up to a byte limit, counting while reading (a Content-Length can lie or be absent),
 * and parses it as JSON with a schema: 415/413/400 as for every sign route.
 */
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

/** A zod schema as `readJsonBody` uses it. */
export interface BodySchema<T> {
  safeParse(json: unknown): { success: true; data: T } | { success: false; error: { issues: readonly SchemaIssue[] } };
}
interface SchemaIssue {
  readonly path: readonly PropertyKey[];
  readonly message: string;
}

/** Up to five schema issues, each by its path (`(body)` for the whole). */
export function describeIssues(issues: readonly SchemaIssue[]): string {
  return issues
    .slice(0, 5)
    .map((i) => `${i.path.map(String).join(".") || "(body)"}: ${i.message}`)
    .join("; ");
}

/** Reads a JSON body of at most `limit` bytes and parses it with `schema` (`what` names it in a 400). */
export async function readJsonBody<T>(raw: Request, schema: BodySchema<T>, what: string, limit = MAX_BODY_BYTES): Promise<T> {
  requireJson(raw.headers.get("content-type"));
  const text = await readLimitedText(raw, limit);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    // V8's message says where parsing stopped ("Unexpected end of JSON input", "Unexpected token …").
    throw new InvalidRequestError(`body is not valid JSON: ${error instanceof Error ? error.message.slice(0, 200) : "parse failed"}`);
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) throw new InvalidRequestError(`body does not match the ${what} schema: ${describeIssues(parsed.error.issues)}`);
  return parsed.data;
}
