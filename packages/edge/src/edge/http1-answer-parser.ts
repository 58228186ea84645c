/**
 * Reads one HTTP/1.1 answer (RFC 9112) from the bytes of a connection: status line, header fields, and a
 * body framed by Content-Length, chunked transfer coding, or the end of the connection. Interim 1xx
 * answers are skipped. Enough for the answers workerd gives; anything malformed is an error, never a guess.
 */

/** A complete answer; `reusable` says whether the connection may carry another request. */
export interface ParsedAnswer {
  readonly status: number;
  readonly rawHeaders: readonly string[];
  readonly body: Buffer;
  readonly reusable: boolean;
  /** Bytes after the answer (there should be none: requests are not pipelined). */
  readonly rest: Buffer;
}

/** The answer is not valid HTTP/1.1; the message says where. */
export class AnswerSyntaxError extends Error {
  override readonly name = "AnswerSyntaxError";
}

const MAX_HEAD_BYTES = 64 * 1024;
const MAX_BODY_BYTES = 32 * 1024 * 1024;
const CRLF = Buffer.from("\r\n");
const HEAD_END = Buffer.from("\r\n\r\n");

interface Head {
  readonly status: number;
  readonly rawHeaders: string[];
  readonly framing: { readonly kind: "length"; readonly length: number } | { readonly kind: "chunked" } | { readonly kind: "close" } | { readonly kind: "none" };
  readonly close: boolean;
}

function parseHead(text: string, method: string): Head {
  const lines = text.split("\r\n");
  const match = /^HTTP\/1\.[01] (\d{3})(?: .*)?$/.exec(lines[0] ?? "");
  if (match === null) throw new AnswerSyntaxError(`bad status line ${JSON.stringify((lines[0] ?? "").slice(0, 80))}`);
  const status = Number(match[1]);
  const rawHeaders: string[] = [];
  let length: number | undefined;
  let chunked = false;
  let close = /^HTTP\/1\.0/.test(lines[0] ?? "");
  for (const line of lines.slice(1)) {
    const at = line.indexOf(":");
    if (at <= 0) throw new AnswerSyntaxError(`bad header line ${JSON.stringify(line.slice(0, 80))}`);
    const name = line.slice(0, at);
    const value = line.slice(at + 1).trim();
    rawHeaders.push(name, value);
    const lower = name.toLowerCase();
    if (lower === "content-length") {
      if (!/^\d{1,15}$/.test(value) || (length !== undefined && length !== Number(value))) throw new AnswerSyntaxError(`bad content-length ${JSON.stringify(value)}`);
      length = Number(value);
    } else if (lower === "transfer-encoding") {
      chunked = value.toLowerCase().split(",").map((t) => t.trim()).at(-1) === "chunked";
    } else if (lower === "connection") {
      close = value.toLowerCase().split(",").some((t) => t.trim() === "close");
    }
  }
  const bodiless = method === "HEAD" || status === 204 || status === 304 || (status >= 100 && status < 200);
  const framing: Head["framing"] = bodiless ? { kind: "none" } : chunked ? { kind: "chunked" } : length !== undefined ? { kind: "length", length } : { kind: "close" };
  if (framing.kind === "length" && framing.length > MAX_BODY_BYTES) throw new AnswerSyntaxError(`answer body of ${framing.length} bytes is over ${MAX_BODY_BYTES}`);
  return { status, rawHeaders, framing, close: close || framing.kind === "close" };
}

/** Decodes a chunked body from `buf` at `from`; undefined while incomplete. */
function dechunk(buf: Buffer, from: number): { body: Buffer; end: number } | undefined {
  const parts: Buffer[] = [];
  let at = from;
  let size = 0;
  for (;;) {
    const eol = buf.indexOf(CRLF, at);
    if (eol < 0) return undefined;
    const sizeText = buf.toString("latin1", at, eol).split(";")[0]?.trim() ?? "";
    if (!/^[0-9a-fA-F]{1,8}$/.test(sizeText)) throw new AnswerSyntaxError(`bad chunk size ${JSON.stringify(sizeText.slice(0, 20))}`);
    const n = parseInt(sizeText, 16);
    if (n === 0) {
      // "0" CRLF, then trailer fields (dropped), then an empty line: the first CRLF CRLF from here ends it.
      const end = buf.indexOf(HEAD_END, eol);
      if (end < 0) return undefined;
      return { body: Buffer.concat(parts, size), end: end + 4 };
    }
    size += n;
    if (size > MAX_BODY_BYTES) throw new AnswerSyntaxError(`chunked answer body over ${MAX_BODY_BYTES} bytes`);
    if (eol + 2 + n + 2 > buf.length) return undefined;
    parts.push(buf.subarray(eol + 2, eol + 2 + n));
    at = eol + 2 + n + 2;
  }
}

/**
 * Tries to read one answer from `buf` (everything received so far). Undefined: more bytes are needed;
 * with `ended` (the connection closed) an answer framed by the close is complete, anything else fails.
 */
export function parseAnswer(buf: Buffer, method: string, ended: boolean): ParsedAnswer | undefined {
  let start = 0;
  for (;;) {
    const headEnd = buf.indexOf(HEAD_END, start);
    if (headEnd < 0) {
      if (buf.length - start > MAX_HEAD_BYTES) throw new AnswerSyntaxError(`answer head over ${MAX_HEAD_BYTES} bytes`);
      if (ended) throw new AnswerSyntaxError("connection closed before a complete answer head");
      return undefined;
    }
    const head = parseHead(buf.toString("latin1", start, headEnd), method);
    const bodyStart = headEnd + 4;
    if (head.status >= 100 && head.status < 200) {
      start = bodyStart;
      continue;
    }
    const done = (body: Buffer, end: number): ParsedAnswer => ({ status: head.status, rawHeaders: head.rawHeaders, body, reusable: !head.close, rest: buf.subarray(end) });
    switch (head.framing.kind) {
      case "none":
        return done(Buffer.alloc(0), bodyStart);
      case "length": {
        const end = bodyStart + head.framing.length;
        if (buf.length >= end) return done(buf.subarray(bodyStart, end), end);
        if (ended) throw new AnswerSyntaxError(`connection closed after ${buf.length - bodyStart} of ${head.framing.length} body bytes`);
        return undefined;
      }
      case "chunked": {
        const decoded = dechunk(buf, bodyStart);
        if (decoded !== undefined) return done(decoded.body, decoded.end);
        if (ended) throw new AnswerSyntaxError("connection closed inside a chunked body");
        return undefined;
      }
      case "close":
        if (buf.length - bodyStart > MAX_BODY_BYTES) throw new AnswerSyntaxError(`answer body over ${MAX_BODY_BYTES} bytes`);
        return ended ? done(buf.subarray(bodyStart), buf.length) : undefined;
    }
  }
}
