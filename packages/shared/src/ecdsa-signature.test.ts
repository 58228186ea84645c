import { describe, expect, it } from "vitest";
import { toHex } from "./bytes.ts";
import { der, DerReader, derUnsignedInteger, headerSize, Tag } from "./der.ts";
import { ecdsaDerSize, ecdsaDerToP1363, ecdsaP1363ToDer, writeEcdsaDer } from "./ecdsa-signature.ts";

/** The DER Ecdsa-Sig-Value built element by element, as a reference for the one-array writer. */
function reference(sig: Uint8Array): Uint8Array {
  const half = sig.length / 2;
  return der(Tag.SEQUENCE, derUnsignedInteger(sig.subarray(0, half)), derUnsignedInteger(sig.subarray(half)));
}

describe("ECDSA signature forms", () => {
  it("writes the same DER as element-by-element encoding, and reads it back, for random and edge-case halves", () => {
    const cases: Uint8Array[] = [];
    for (const size of [32, 48, 66]) {
      for (let i = 0; i < 50; i++) cases.push(crypto.getRandomValues(new Uint8Array(2 * size)));
      const edge = new Uint8Array(2 * size);
      edge[size - 1] = 1; // r = 1: all leading zeros stripped
      edge[size] = 0x80; // s with the top bit set: a sign octet
      cases.push(edge);
      const zeros = new Uint8Array(2 * size);
      zeros.fill(0xff, size + 2); // s with two leading zero octets, then the top bit set
      cases.push(zeros);
    }
    for (const sig of cases) {
      const out = ecdsaP1363ToDer(sig);
      expect(toHex(out)).toBe(toHex(reference(sig)));
      expect(ecdsaDerSize(sig)).toBe(out.length);
      expect(toHex(ecdsaDerToP1363(out, sig.length / 2))).toBe(toHex(sig));
    }
  });

  it("writes in place at an offset and returns the offset after the element", () => {
    const sig = crypto.getRandomValues(new Uint8Array(64));
    const out = new Uint8Array(100);
    const end = writeEcdsaDer(out, 7, sig);
    expect(end).toBe(7 + ecdsaDerSize(sig));
    expect(toHex(out.subarray(7, end))).toBe(toHex(reference(sig)));
  });

  it("uses the long length form for P-521 signatures", () => {
    const sig = new Uint8Array(132).fill(0xff);
    const out = ecdsaP1363ToDer(sig);
    expect(out[1]).toBe(0x81);
    const tlv = new DerReader(out).next("signature");
    expect(tlv.end).toBe(out.length);
    expect(headerSize(tlv.end - tlv.valueStart)).toBe(3);
  });
});
