/**
 * ECDSA signatures travel as DER `Ecdsa-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER }` in X.509
 * (RFC 5480 §2.2 / RFC 3279 §2.2.3) but WebCrypto reads and writes the fixed-width IEEE P1363 form r‖s.
 */
import { DerError, DerReader, headerSize, Tag, writeHeader, type Tlv } from "./der.ts";

/** DER Ecdsa-Sig-Value → r‖s with each half `size` bytes (32 for P-256, 48 for P-384, 66 for P-521). */
export function ecdsaDerToP1363(sig: Uint8Array, size: number): Uint8Array<ArrayBuffer> {
  const top = new DerReader(sig);
  const seq = DerReader.inside(sig, top.expect(Tag.SEQUENCE, "ECDSA signature"));
  top.finish("ECDSA signature");
  const out = new Uint8Array(2 * size);
  // Two plain calls with literal names: no per-call arrays or message strings on this hot path.
  readHalf(sig, seq.expect(Tag.INTEGER, "ECDSA signature r"), "r", out, 0, size);
  readHalf(sig, seq.expect(Tag.INTEGER, "ECDSA signature s"), "s", out, size, size);
  seq.finish("ECDSA signature");
  return out;
}

/** Copies one positive, minimal INTEGER of the signature right-aligned into `out[at, at + size)`. */
function readHalf(sig: Uint8Array, tlv: Tlv, what: "r" | "s", out: Uint8Array, at: number, size: number): void {
  let from = tlv.valueStart;
  const to = tlv.end;
  const first = sig[from] ?? 0;
  if (to === from || first >= 0x80) throw new DerError(`ECDSA signature ${what}: not a positive integer`);
  // DER integers are minimal: a leading zero only to clear the sign bit.
  if (to - from > 1 && first === 0 && (sig[from + 1] ?? 0) < 0x80) throw new DerError(`ECDSA signature ${what}: non-minimal integer`);
  while (to - from > 1 && sig[from] === 0) from++;
  if (to - from > size) throw new DerError(`ECDSA signature ${what}: too long for the curve`);
  out.set(sig.subarray(from, to), at + size - (to - from));
}

/** Where one half of r‖s starts once leading zero octets are skipped, and its INTEGER content size. */
function integerPart(sig: Uint8Array, from: number, to: number): { readonly start: number; readonly size: number } {
  let start = from;
  while (start < to - 1 && sig[start] === 0) start++;
  // X.690 §8.3: a positive INTEGER whose top bit is set takes a leading zero octet.
  return { start, size: to - start + ((sig[start] ?? 0) >= 0x80 ? 1 : 0) };
}

function sequenceContent(r: { readonly size: number }, s: { readonly size: number }): number {
  return headerSize(r.size) + r.size + headerSize(s.size) + s.size;
}

/** Bytes the DER Ecdsa-Sig-Value of the r‖s signature `sig` takes. */
export function ecdsaDerSize(sig: Uint8Array): number {
  const half = sig.length / 2;
  const content = sequenceContent(integerPart(sig, 0, half), integerPart(sig, half, sig.length));
  return headerSize(content) + content;
}

/** Writes the r‖s signature `sig` as a DER Ecdsa-Sig-Value at `at`; returns the offset after it. */
export function writeEcdsaDer(out: Uint8Array, at: number, sig: Uint8Array): number {
  const half = sig.length / 2;
  const r = integerPart(sig, 0, half);
  const s = integerPart(sig, half, sig.length);
  at = writeHeader(out, at, Tag.SEQUENCE, sequenceContent(r, s));
  at = writeInteger(out, at, sig, r, half);
  return writeInteger(out, at, sig, s, sig.length);
}

function writeInteger(out: Uint8Array, at: number, sig: Uint8Array, part: { readonly start: number; readonly size: number }, end: number): number {
  at = writeHeader(out, at, Tag.INTEGER, part.size);
  if (part.size > end - part.start) out[at++] = 0;
  out.set(sig.subarray(part.start, end), at);
  return at + end - part.start;
}

/** r‖s → DER Ecdsa-Sig-Value. */
export function ecdsaP1363ToDer(sig: Uint8Array): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(ecdsaDerSize(sig));
  writeEcdsaDer(out, 0, sig);
  return out;
}
