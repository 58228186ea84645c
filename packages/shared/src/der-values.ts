/**
 * The primitive values edgeca reads, checked as DER requires (X.690 §8 and §11) rather than as BER
 * allows: BOOLEAN, optional BOOLEAN DEFAULT FALSE, non-negative INTEGER, OBJECT IDENTIFIER. Each refusal
 * names the field and the rule.
 */
import { DerError, type DerReader, Tag, type Tlv } from "./der.ts";

function hexByte(n: number): string {
  return n.toString(16).padStart(2, "0");
}

/**
 * A BOOLEAN's value. DER allows exactly one octet, 0x00 (FALSE) or 0xFF (TRUE) (X.690 §11.1); BER's
 * other encodings are refused so that no two readers can disagree on what a request asked for.
 */
export function booleanOf(bytes: Uint8Array, tlv: Tlv, what: string): boolean {
  const length = tlv.end - tlv.valueStart;
  if (length !== 1) throw new DerError(`${what}: a DER BOOLEAN is one octet, 0x00 or 0xFF; found ${length} octets`);
  const octet = bytes[tlv.valueStart] ?? 0;
  if (octet !== 0x00 && octet !== 0xff) throw new DerError(`${what}: a DER BOOLEAN is one octet, 0x00 or 0xFF; found 0x${hexByte(octet)}`);
  return octet === 0xff;
}

/**
 * Reads an optional `BOOLEAN DEFAULT FALSE` (extension `critical`, basicConstraints `cA`): absent is
 * FALSE, and an encoded FALSE is refused, since DER never encodes a DEFAULT value (X.690 §11.5).
 */
export function readDefaultFalse(reader: DerReader, what: string): boolean {
  const tlv = reader.optional(Tag.BOOLEAN, what);
  if (tlv === undefined) return false;
  if (!booleanOf(reader.bytes, tlv, what)) throw new DerError(`${what}: FALSE is the DEFAULT and DER forbids encoding it (X.690 §11.5)`);
  return true;
}

/**
 * The magnitude of a non-negative INTEGER (a view without the sign octet). DER integers are minimal
 * (X.690 §8.3.2: the first nine bits are never all equal), and a set top bit would make it negative.
 */
export function unsignedIntegerOf(bytes: Uint8Array, tlv: Tlv, what: string): Uint8Array {
  const v = bytes.subarray(tlv.valueStart, tlv.end);
  const first = v[0];
  if (first === undefined) throw new DerError(`${what}: INTEGER with no contents`);
  if (first >= 0x80) throw new DerError(`${what}: negative INTEGER`);
  if (first === 0 && v.length > 1) {
    if ((v[1] ?? 0) < 0x80) throw new DerError(`${what}: non-minimal INTEGER (a leading 0x00 only clears the sign bit)`);
    return v.subarray(1);
  }
  return v;
}

/**
 * Checks OBJECT IDENTIFIER contents in place (no view made): non-empty, each subidentifier minimal (no
 * leading 0x80 octet) and complete (the last octet has bit 8 clear) (X.690 §8.19.2). edgeca compares OIDs
 * as content bytes where they lie, so a malformed OID would otherwise just fail to match.
 */
export function checkOid(bytes: Uint8Array, tlv: Tlv, what: string): void {
  if (tlv.end === tlv.valueStart) throw new DerError(`${what}: empty OBJECT IDENTIFIER`);
  let start = true;
  for (let i = tlv.valueStart; i < tlv.end; i++) {
    const b = bytes[i] ?? 0;
    if (start && b === 0x80) throw new DerError(`${what}: OBJECT IDENTIFIER subidentifier not minimal`);
    start = b < 0x80;
  }
  if (!start) throw new DerError(`${what}: OBJECT IDENTIFIER ends inside a subidentifier`);
}
