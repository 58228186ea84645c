/**
 * ECDSA signatures travel as DER `Ecdsa-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER }` in X.509
 * (RFC 5480 §2.2 / RFC 3279 §2.2.3) but WebCrypto reads and writes the fixed-width IEEE P1363 form r‖s.
 */
import { concatBytes, der, DerError, DerReader, derUnsignedInteger, Tag, valueOf } from "./der.ts";

/** DER Ecdsa-Sig-Value → r‖s with each half `size` bytes (32 for P-256, 48 for P-384, 66 for P-521). */
export function ecdsaDerToP1363(sig: Uint8Array, size: number): Uint8Array {
  const top = new DerReader(sig);
  const seq = DerReader.inside(sig, top.expect(Tag.SEQUENCE, "ECDSA signature"));
  top.finish("ECDSA signature");
  const out = new Uint8Array(2 * size);
  for (const [i, what] of [[0, "r"], [1, "s"]] as const) {
    let v = valueOf(sig, seq.expect(Tag.INTEGER, `ECDSA signature ${what}`));
    if (v.length === 0 || (v[0] ?? 0) >= 0x80) throw new DerError(`ECDSA signature ${what}: not a positive integer`);
    // DER integers are minimal: a leading zero only to clear the sign bit.
    if (v.length > 1 && v[0] === 0 && (v[1] ?? 0) < 0x80) throw new DerError(`ECDSA signature ${what}: non-minimal integer`);
    while (v.length > 1 && v[0] === 0) v = v.subarray(1);
    if (v.length > size) throw new DerError(`ECDSA signature ${what}: too long for the curve`);
    out.set(v, i * size + size - v.length);
  }
  seq.finish("ECDSA signature");
  return out;
}

/** r‖s → DER Ecdsa-Sig-Value. */
export function ecdsaP1363ToDer(sig: Uint8Array): Uint8Array {
  const half = sig.length / 2;
  return der(Tag.SEQUENCE, concatBytes(derUnsignedInteger(sig.subarray(0, half)), derUnsignedInteger(sig.subarray(half))));
}
