import { describe, expect, it } from "vitest";
import { decodePem } from "./pem.ts";
import { parseCsrDer } from "./csr.ts";
import { encodeOid, OID } from "./oid.ts";
import { makeCsr } from "../test/library-csr.ts";

/** Where `part` first occurs in `bytes` (the test fails if nowhere). */
function indexOf(bytes: Uint8Array, part: Uint8Array): number {
  outer: for (let i = 0; i + part.length <= bytes.length; i++) {
    for (let j = 0; j < part.length; j++) if (bytes[i + j] !== part[j]) continue outer;
    return i;
  }
  throw new Error("part not found");
}

/** A P-256 CSR's DER with one octet changed (lengths unchanged, so only the field read changes). */
async function changed(at: (der: Uint8Array) => number, octet: number): Promise<Uint8Array> {
  const der = decodePem(await makeCsr({ uris: ["spiffe://cluster.local/ns/default/sa/web"] }), "CERTIFICATE REQUEST");
  const copy = der.slice();
  copy[at(copy)] = octet;
  return copy;
}

const ecPublicKey = encodeOid("1.2.840.10045.2.1");
const p256 = encodeOid("1.2.840.10045.3.1.7");

describe("parseCsrDer fields read in place", () => {
  it("returns a known OID as its OID constant and any other OID as the hex of its octets", async () => {
    const other = await changed((der) => indexOf(der, p256) + p256.length - 1, 0x08);
    const csr = parseCsrDer(other);
    expect(csr.keyAlgorithm).toBe(OID.ecPublicKey);
    expect(csr.curve).toBe("2a8648ce3d030108");
    expect(csr.signatureAlgorithm).toBe(OID.ecdsaWithSha256);
    expect(csr.requestedExtensions).toEqual([OID.subjectAltName]);
  });

  it.each([
    ["a subidentifier starting 0x80", (der: Uint8Array) => indexOf(der, ecPublicKey) + 1, 0x80, "CSR: subjectPKInfo algorithm OID: OBJECT IDENTIFIER subidentifier not minimal"],
    ["an OID ending inside a subidentifier", (der: Uint8Array) => indexOf(der, p256) + p256.length - 1, 0x87, "CSR: EC key named curve: OBJECT IDENTIFIER ends inside a subidentifier"],
    ["a version other than v1", (der: Uint8Array) => indexOf(der, Uint8Array.of(0x02, 0x01, 0x00)) + 2, 0x01, "CSR: version: only v1 (0) is defined"],
    ["a signature with unused bits", (der: Uint8Array) => signatureBitStringAt(der) + 2, 0x01, "CSR: signature: BIT STRING with unused bits"],
  ])("refuses %s, naming the field", async (_, at, octet, message) => {
    const der = await changed(at, octet);
    expect(() => parseCsrDer(der)).toThrow(message);
  });
});

/** Offset of the signature BIT STRING's tag: the last element of the outer SEQUENCE (short length form). */
function signatureBitStringAt(der: Uint8Array): number {
  for (let i = der.length - 2; i > 0; i--) if (der[i] === 0x03 && i + 2 + (der[i + 1] ?? 0) === der.length) return i;
  throw new Error("no signature BIT STRING");
}
