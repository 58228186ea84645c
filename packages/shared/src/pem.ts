/**
 * Strict PEM framing (RFC 7468 §3, "strict" grammar with two documented allowances).
 *
 * Accepted:
 * - ASCII whitespace (space, tab, CR, LF) before the first and after the last block, and between blocks
 *   of a chain — nothing else: no explanatory text, no RFC 1421 headers;
 * - base64 lines of 1–76 characters ending in LF or CRLF (RFC 7468 writers use 64; 76 admits MIME-style
 *   writers), canonical base64 with padding only at the end;
 * - a single DER element per block: trailing bytes after it are refused (cf. `@peculiar/x509`'s reader,
 *   which ignores them, docs/facts.md "@peculiar/x509").
 * Every failure is a `PemError` whose message names what was wrong. The reader is a single linear scan
 * (no backtracking regular expression), so its cost is proportional to the input.
 */
import { asciiScratch, asciiString, base64Digit, base64Size, writeBase64 } from "./bytes.ts";
import { DerError, DerReader } from "./der.ts";
import { MalformedInputError } from "./malformed-input-error.ts";

/** Malformed PEM. Callers map it to a 400 `invalid_request`. */
export class PemError extends MalformedInputError {
  override readonly name = "PemError";
}

/** Largest PEM text accepted by default (well above a 4096-bit RSA chain, below the 64 KiB body limit). */
export const MAX_PEM_CHARS = 48 * 1024;

const MAX_LINE = 76;
const LABEL = /^[A-Z0-9]+(?: [A-Z0-9]+)*$/;

function isSpace(code: number): boolean {
  return code === 0x20 || code === 0x09 || code === 0x0d || code === 0x0a;
}

function skipSpace(text: string, at: number): number {
  while (at < text.length && isSpace(text.charCodeAt(at))) at++;
  return at;
}

/** Reads the end of a line at `at` (LF or CRLF); returns the index after it, or -1. */
function lineEnd(text: string, at: number): number {
  if (text.charCodeAt(at) === 0x0a) return at + 1;
  if (text.charCodeAt(at) === 0x0d && text.charCodeAt(at + 1) === 0x0a) return at + 2;
  return -1;
}

interface Block {
  readonly label: string;
  readonly der: Uint8Array;
  /** Index just after the END line (and its line ending, if any). */
  readonly end: number;
}

/** Reads one block starting exactly at `at`; `n` numbers it in messages. */
function readBlock(text: string, at: number, n: number): Block {
  const where = n > 0 ? `block ${n}` : "PEM block";
  if (!text.startsWith("-----BEGIN ", at)) throw new PemError(`${where}: expected "-----BEGIN " (strict RFC 7468 framing, nothing before the block)`);
  const labelStart = at + 11;
  const labelEnd = text.indexOf("-----", labelStart);
  if (labelEnd < 0 || labelEnd - labelStart > 64) throw new PemError(`${where}: malformed BEGIN line`);
  const label = text.slice(labelStart, labelEnd);
  if (!LABEL.test(label)) throw new PemError(`${where}: malformed label`);
  let pos = lineEnd(text, labelEnd + 5);
  if (pos < 0) throw new PemError(`${where}: BEGIN line must end with a line break`);
  // One pass over the body checks each line's layout and decodes its characters as canonical base64
  // (RFC 4648 §4: padding only at the end, zero padding bits), so one text maps to one byte string.
  const out = new Uint8Array(Math.floor(((text.length - pos) * 3) / 4));
  let o = 0;
  let group = 0;
  let digits = 0;
  let pad = 0;
  let canonical = true;
  let lines = 0;
  for (;;) {
    if (text.startsWith("-----END ", pos)) break;
    const start = pos;
    // Whole groups of four digits first, three bytes at a time: what the loop below does for them, with
    // nothing to track (no digits pending, no padding seen). Anything else is left to that loop.
    if (digits === 0 && pad === 0) {
      const limit = Math.min(text.length, start + MAX_LINE);
      while (pos + 4 <= limit) {
        const a = base64Digit(text.charCodeAt(pos));
        const b = base64Digit(text.charCodeAt(pos + 1));
        const c = base64Digit(text.charCodeAt(pos + 2));
        const d = base64Digit(text.charCodeAt(pos + 3));
        if ((a | b | c | d) < 0) break;
        const n = (a << 18) | (b << 12) | (c << 6) | d;
        out[o] = n >> 16;
        out[o + 1] = (n >> 8) & 0xff;
        out[o + 2] = n & 0xff;
        o += 3;
        pos += 4;
      }
    }
    while (pos < text.length && pos - start <= MAX_LINE) {
      const c = text.charCodeAt(pos);
      const d = base64Digit(c);
      if (d >= 0) {
        if (pad > 0) canonical = false;
        group = (group << 6) | d;
        if (++digits === 4) {
          out[o] = group >> 16;
          out[o + 1] = (group >> 8) & 0xff;
          out[o + 2] = group & 0xff;
          o += 3;
          digits = 0;
          group = 0;
        }
      } else if (c === 0x3d) {
        pad++;
      } else {
        break;
      }
      pos++;
    }
    if (pos === start) throw new PemError(`${label} ${where}: line ${lines + 1} of the body is not base64 (headers and blank lines are not allowed)`);
    if (pos - start > MAX_LINE) throw new PemError(`${label} ${where}: body line longer than ${MAX_LINE} characters`);
    lines++;
    pos = lineEnd(text, pos);
    if (pos < 0) throw new PemError(`${label} ${where}: invalid character in the base64 body`);
  }
  if (lines === 0) throw new PemError(`${label} ${where}: empty body`);
  // The last group: complete, or 2 digits + "==" (4 padding bits) or 3 digits + "=" (2 padding bits).
  if (pad === 0 && digits !== 0) canonical = false;
  if (pad === 2 && digits === 2 && (group & 0xf) === 0) out[o++] = group >> 4;
  else if (pad === 1 && digits === 3 && (group & 0x3) === 0) {
    out[o] = group >> 10;
    out[o + 1] = (group >> 2) & 0xff;
    o += 2;
  } else if (pad !== 0) canonical = false;
  if (!canonical) throw new PemError(`${label} block: invalid base64`);
  // "-----END " was seen at `pos`; the label and the closing dashes are compared in place.
  const labelAt = pos + 9;
  if (!text.startsWith(label, labelAt) || !text.startsWith("-----", labelAt + label.length)) {
    throw new PemError(`${label} ${where}: END line does not match "-----END ${label}-----"`);
  }
  pos = labelAt + label.length + 5;
  const after = lineEnd(text, pos);
  return { label, der: checkDer(out.subarray(0, o), label), end: after < 0 ? pos : after };
}

/** Checks that the decoded body is exactly one DER element. */
function checkDer(der: Uint8Array, label: string): Uint8Array {
  const reader = new DerReader(der);
  try {
    reader.next(`${label} block`);
  } catch (error) {
    throw new PemError(error instanceof DerError ? error.message : `${label} block: not DER`);
  }
  if (!reader.done) throw new PemError(`${label} block: trailing bytes after the DER element`);
  return der;
}

function checkSize(text: string, maxChars: number): void {
  if (text.length > maxChars) throw new PemError(`PEM text is ${text.length} characters, over the limit of ${maxChars}`);
}

/** Decodes text that must be exactly one PEM block with label `label`; returns its DER. */
export function decodePem(text: string, label: string, maxChars = MAX_PEM_CHARS): Uint8Array {
  checkSize(text, maxChars);
  const block = readBlock(text, skipSpace(text, 0), 0);
  if (block.label !== label) throw new PemError(`expected a ${label} PEM block, found ${block.label}`);
  const rest = skipSpace(text, block.end);
  if (rest < text.length) {
    if (text.startsWith("-----BEGIN ", rest)) throw new PemError(`expected exactly one ${label} PEM block, found more`);
    throw new PemError(`unexpected text after the ${label} PEM block (strict RFC 7468 framing)`);
  }
  return block.der;
}

/** Decodes one or more PEM blocks that must all have label `label` (a chain, a bundle); returns their DER in order. */
export function decodePemBlocks(text: string, label = "CERTIFICATE", maxChars = MAX_PEM_CHARS): Uint8Array[] {
  checkSize(text, maxChars);
  const out: Uint8Array[] = [];
  let at = skipSpace(text, 0);
  if (at === text.length) throw new PemError(`no ${label} PEM block`);
  while (at < text.length) {
    if (!text.startsWith("-----BEGIN ", at)) throw new PemError(`unexpected text after ${out.length} ${label} block(s) (strict RFC 7468 framing)`);
    const block = readBlock(text, at, out.length + 1);
    if (block.label !== label) throw new PemError(`block ${out.length + 1}: expected ${label}, found ${block.label}`);
    out.push(block.der);
    at = skipSpace(text, block.end);
  }
  return out;
}

/** The BEGIN and END lines of a label as ASCII codes, made once per label. */
const frames = new Map<string, { readonly begin: Uint8Array; readonly end: Uint8Array }>();

function frameOf(label: string): { readonly begin: Uint8Array; readonly end: Uint8Array } {
  let frame = frames.get(label);
  if (frame === undefined) {
    const ascii = (text: string): Uint8Array => Uint8Array.from(text, (c) => c.charCodeAt(0));
    frame = { begin: ascii(`-----BEGIN ${label}-----\n`), end: ascii(`-----END ${label}-----\n`) };
    // Labels come from code, not from input, so the map stays small.
    frames.set(label, frame);
  }
  return frame;
}

/** Encodes DER as one PEM block: 64-character lines, LF endings, a final LF. */
export function encodePem(der: Uint8Array, label: string): string {
  const { begin, end } = frameOf(label);
  const out = asciiScratch(begin.length + base64Size(der.length, 64) + end.length);
  out.set(begin, 0);
  const at = writeBase64(out, begin.length, der, 64);
  out.set(end, at);
  return asciiString(out, at + end.length);
}

/** Encodes several DER certificates as consecutive CERTIFICATE blocks (nothing after the last). */
export function encodePemChain(ders: readonly Uint8Array[]): string {
  return ders.map((d) => encodePem(d, "CERTIFICATE")).join("");
}
