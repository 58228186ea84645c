/**
 * A small, strict DER reader and writer (X.690 §10). It reads only what edgeca needs (CSRs, certificates,
 * ECDSA signatures) and refuses everything DER forbids: indefinite lengths, non-minimal lengths,
 * high tag numbers, values running past their parent. Nothing recurses on input, so nesting depth is
 * bounded by the code that walks a known structure; `checkDerLimits` bounds size and depth up front for
 * anything else. A general ASN.1 library was measured at ≈ 0.55 ms to parse one CSR here, more than the
 * whole signature budget, which is why this exists.
 */

import { MalformedInputError } from "./malformed-input-error.ts";

/** Malformed or over-limit DER. The message names what was wrong; callers map it to a 400. */
export class DerError extends MalformedInputError {
  override readonly name = "DerError";
}

/** Tags used by edgeca (universal class unless noted). */
export const Tag = {
  BOOLEAN: 0x01,
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  NULL: 0x05,
  OID: 0x06,
  UTF8_STRING: 0x0c,
  PRINTABLE_STRING: 0x13,
  IA5_STRING: 0x16,
  UTC_TIME: 0x17,
  GENERALIZED_TIME: 0x18,
  SEQUENCE: 0x30,
  SET: 0x31,
} as const;

/** One tag-length-value inside a byte array: `bytes.subarray(start, end)` is the whole element. */
export interface Tlv {
  readonly tag: number;
  readonly start: number;
  readonly valueStart: number;
  readonly end: number;
}

/** Tag and value offset of the element `readHeader` read last (no object per element on the hot paths). */
const header = { tag: 0, valueStart: 0 };

/**
 * Reads the tag and DER length of the element at `start` inside `[start, end)`: fills `header`, returns
 * the offset after the element. Every DER rule of the reader is checked here.
 */
function readHeader(bytes: Uint8Array, start: number, end: number, what: string): number {
  if (start >= end) throw new DerError(`${what}: missing`);
  const tag = bytes[start] ?? 0;
  // High tag numbers (low five bits all set) never occur in the structures edgeca reads.
  if ((tag & 0x1f) === 0x1f) throw new DerError(`${what}: unsupported high tag number`);
  if (start + 1 >= end) throw new DerError(`${what}: truncated length`);
  const first = bytes[start + 1] ?? 0;
  let length: number;
  let valueStart: number;
  if (first < 0x80) {
    length = first;
    valueStart = start + 2;
  } else {
    const count = first & 0x7f;
    // 0x80 is BER's indefinite length, forbidden in DER; more than 3 length octets means ≥ 16 MiB.
    if (count === 0) throw new DerError(`${what}: indefinite length`);
    if (count > 3) throw new DerError(`${what}: length too large`);
    if (start + 2 + count > end) throw new DerError(`${what}: truncated length`);
    length = 0;
    for (let i = 0; i < count; i++) length = length * 256 + (bytes[start + 2 + i] ?? 0);
    // X.690 §10.1: the definite form uses the minimum number of octets.
    if (length < 0x80 || (bytes[start + 2] ?? 0) === 0) throw new DerError(`${what}: non-minimal length`);
    valueStart = start + 2 + count;
  }
  const stop = valueStart + length;
  if (stop > end) throw new DerError(`${what}: value runs past its container`);
  header.tag = tag;
  header.valueStart = valueStart;
  return stop;
}

/** Reads a run of consecutive TLVs in `bytes[start, end)`. */
export class DerReader {
  // Plain fields, no parameter properties: the package stays loadable by Node's type stripping.
  readonly bytes: Uint8Array;
  private readonly end: number;
  private pos: number;

  constructor(bytes: Uint8Array, start = 0, end = bytes.length) {
    this.bytes = bytes;
    this.end = end;
    this.pos = start;
  }

  /** A reader over the contents of a constructed element. */
  static inside(bytes: Uint8Array, tlv: Tlv): DerReader {
    return new DerReader(bytes, tlv.valueStart, tlv.end);
  }

  get done(): boolean {
    return this.pos >= this.end;
  }

  /** The tag of the next element, or undefined at the end. */
  peekTag(): number | undefined {
    return this.done ? undefined : this.bytes[this.pos];
  }

  /** Reads the next element, whatever its tag. */
  next(what: string): Tlv {
    const start = this.pos;
    const stop = readHeader(this.bytes, start, this.end, what);
    this.pos = stop;
    return { tag: header.tag, start, valueStart: header.valueStart, end: stop };
  }

  /** Reads the next element and checks its tag. */
  expect(tag: number, what: string): Tlv {
    const tlv = this.next(what);
    if (tlv.tag !== tag) throw new DerError(`${what}: expected tag 0x${hexByte(tag)}, found 0x${hexByte(tlv.tag)}`);
    return tlv;
  }

  /** Reads the next element only if it has this tag. */
  optional(tag: number, what: string): Tlv | undefined {
    return this.peekTag() === tag ? this.expect(tag, what) : undefined;
  }

  /** Fails when anything is left: trailing bytes are never ignored. */
  finish(what: string): void {
    if (!this.done) throw new DerError(`${what}: unexpected trailing data`);
  }
}

function hexByte(n: number): string {
  return n.toString(16).padStart(2, "0");
}

/** The value bytes of an element (a view, not a copy). */
export function valueOf(bytes: Uint8Array, tlv: Tlv): Uint8Array {
  return bytes.subarray(tlv.valueStart, tlv.end);
}

/** The whole element, header included (a view, not a copy). */
export function elementOf(bytes: Uint8Array, tlv: Tlv): Uint8Array {
  return bytes.subarray(tlv.start, tlv.end);
}

/** Bounds applied before any structure is interpreted. */
export interface DerLimits {
  /** Largest accepted encoding, in bytes. */
  readonly maxBytes: number;
  /** Deepest accepted nesting of constructed elements (the outermost element is depth 1). */
  readonly maxDepth: number;
}

/** Limits for a CSR: large enough for RSA-4096 with a few SANs, far below the body limit. */
export const CSR_LIMITS: DerLimits = { maxBytes: 16 * 1024, maxDepth: 16 };
/** Limits for a certificate in configuration. */
export const CERTIFICATE_LIMITS: DerLimits = { maxBytes: 16 * 1024, maxDepth: 16 };

/**
 * Checks that `bytes` is exactly one DER element (no trailing bytes), within `limits`, and that every
 * constructed element inside it is a well-formed run of TLVs that fills it exactly. Iterative, so a
 * hostile nesting cannot exhaust the stack (cf. asn1js #131), and it allocates nothing per element.
 */
export function checkDerLimits(bytes: Uint8Array, limits: DerLimits, what: string): void {
  if (bytes.length > limits.maxBytes) throw new DerError(`${what}: ${bytes.length} bytes, over the limit of ${limits.maxBytes}`);
  const rootEnd = readHeader(bytes, 0, bytes.length, what);
  if (rootEnd !== bytes.length) throw new DerError(`${what}: unexpected trailing data`);
  if ((header.tag & 0x20) === 0) return;
  // One linear scan in document order; `ends[d]` is where the open constructed element at depth d stops.
  if (openEnds.length <= limits.maxDepth) openEnds = new Int32Array(limits.maxDepth + 1);
  const ends = openEnds;
  let depth = 1;
  ends[1] = rootEnd;
  let pos = header.valueStart;
  while (depth > 0) {
    if (pos === ends[depth]) {
      depth--;
      continue;
    }
    const stop = readHeader(bytes, pos, ends[depth] ?? 0, what);
    if ((header.tag & 0x20) !== 0) {
      if (depth + 1 > limits.maxDepth) throw new DerError(`${what}: nesting deeper than ${limits.maxDepth}`);
      ends[++depth] = stop;
      pos = header.valueStart;
    } else {
      pos = stop;
    }
  }
}

/** The open elements' ends for `checkDerLimits`, reused: it is synchronous, so no two calls overlap. */
let openEnds = new Int32Array(17);

// ---- writing ----

/** Bytes taken by the tag and the DER length octets of an element whose value is `length` bytes. */
export function headerSize(length: number): number {
  return length < 0x80 ? 2 : length < 0x100 ? 3 : length < 0x10000 ? 4 : 5;
}

/**
 * Writes a tag and the minimal DER length (X.690 §10.1) of a `length`-byte value at `at`; returns the
 * offset of the value. Builders size a whole structure first and write it into one array with this,
 * instead of allocating an array per element.
 */
export function writeHeader(out: Uint8Array, at: number, tag: number, length: number): number {
  out[at++] = tag;
  if (length < 0x80) {
    out[at++] = length;
    return at;
  }
  if (length >= 0x10000) {
    out[at++] = 0x83;
    out[at++] = length >> 16;
  } else if (length >= 0x100) {
    out[at++] = 0x82;
  } else {
    out[at++] = 0x81;
    out[at++] = length;
    return at;
  }
  out[at++] = (length >> 8) & 0xff;
  out[at++] = length & 0xff;
  return at;
}

/** One element from a tag and its content parts (concatenated). */
export function der(tag: number, ...parts: readonly Uint8Array[]): Uint8Array<ArrayBuffer> {
  let size = 0;
  for (const p of parts) size += p.length;
  const out = new Uint8Array(headerSize(size) + size);
  let at = writeHeader(out, 0, tag, size);
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Concatenates byte arrays. */
export function concatBytes(...parts: readonly Uint8Array[]): Uint8Array {
  let size = 0;
  for (const p of parts) size += p.length;
  const out = new Uint8Array(size);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** A positive INTEGER from unsigned big-endian magnitude bytes (leading zeros stripped, sign octet added). */
export function derUnsignedInteger(magnitude: Uint8Array): Uint8Array {
  let i = 0;
  while (i < magnitude.length - 1 && magnitude[i] === 0) i++;
  const m = magnitude.subarray(i);
  return (m[0] ?? 0) >= 0x80 ? der(Tag.INTEGER, Uint8Array.of(0), m) : der(Tag.INTEGER, m);
}
