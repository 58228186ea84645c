import { describe, expect, it } from "vitest";
import { fromHex } from "./bytes.ts";
import { der, DerReader, Tag, valueOf } from "./der.ts";
import { CsrError, parseCsrPem } from "./csr.ts";
import { csrKey, verifyCsrSignature } from "./csr-key.ts";
import { OID } from "./oid.ts";
import { encodePem } from "./pem.ts";
import { compressedEcSpki, craftCsr, extensionElement, sanExtension, spkiWithKey, spkiWithParameters } from "../test/crafted-csr.ts";

const ec = async (namedCurve: "P-256" | "P-384") => crypto.subtle.generateKey({ name: "ECDSA", namedCurve }, true, ["sign", "verify"]);
const rsa = async () =>
  crypto.subtle.generateKey({ name: "RSASSA-PKCS1-v1_5", modulusLength: 2048, publicExponent: Uint8Array.of(1, 0, 1), hash: "SHA-256" }, true, ["sign", "verify"]);
const boolean = (...octets: number[]) => der(Tag.BOOLEAN, Uint8Array.from(octets));
const basicConstraints = (...content: Uint8Array[]) => extensionElement(OID.basicConstraints, der(Tag.SEQUENCE, ...content), boolean(0xff));
const san = sanExtension(["spiffe://cluster.local/ns/default/sa/web"]);

describe("the CSR's EC public key (RFC 5480 §2.2)", () => {
  it.each(["P-256", "P-384"] as const)("refuses a compressed %s point, which WebCrypto would import", async (curve) => {
    const keys = await ec(curve);
    const csr = parseCsrPem(await craftCsr({ keys, spki: await compressedEcSpki(keys.publicKey), hash: curve === "P-256" ? "SHA-256" : "SHA-384" }));
    // The proof of possession alone would pass: Node's WebCrypto imports the compressed form.
    expect(await verifyCsrSignature(csr, { kind: "ec", curve }, curve === "P-256" ? "SHA-256" : "SHA-384")).toBe(true);
    expect(() => csrKey(csr)).toThrow(/EC public key must be an uncompressed point \(0x04 ‖ X ‖ Y\), found a compressed point \(0x0[23]\)/);
  });

  it("refuses an uncompressed point of the wrong length, naming the length the curve needs", async () => {
    const keys = await ec("P-256");
    const raw = new Uint8Array(await crypto.subtle.exportKey("raw", keys.publicKey));
    const short = await spkiWithKey(keys.publicKey, raw.subarray(0, 64));
    const csr = parseCsrPem(await craftCsr({ keys, spki: short }));
    expect(() => csrKey(csr)).toThrow(/P-256 point is 65 bytes \(0x04 ‖ X ‖ Y\), found 64/);
  });

  it("accepts the uncompressed form", async () => {
    const keys = await ec("P-384");
    expect(csrKey(parseCsrPem(await craftCsr({ keys, hash: "SHA-384" })))).toEqual({ kind: "ec", curve: "P-384" });
  });
});

describe("the CSR's RSA public key (RFC 3279 §2.3.1)", () => {
  it("refuses an rsaEncryption AlgorithmIdentifier without NULL parameters, which Go's crypto/x509 refuses", async () => {
    const keys = await rsa();
    const pem = await craftCsr({ keys, spki: await spkiWithParameters(keys.publicKey, new Uint8Array(0)) });
    expect(() => parseCsrPem(pem)).toThrow(/subjectPKInfo algorithm: rsaEncryption parameters must be NULL \(RFC 3279 §2.3.1\), found none/);
  });

  it("refuses a modulus that is not a minimal positive INTEGER", async () => {
    const keys = await rsa();
    const csr = parseCsrPem(await craftCsr({ keys }));
    // RSAPublicKey ::= SEQUENCE { modulus INTEGER, publicExponent INTEGER }: one more leading 0x00 is not minimal.
    const fields = DerReader.inside(csr.publicKey, new DerReader(csr.publicKey).expect(Tag.SEQUENCE, "RSAPublicKey"));
    const modulus = valueOf(csr.publicKey, fields.expect(Tag.INTEGER, "modulus"));
    const exponent = valueOf(csr.publicKey, fields.expect(Tag.INTEGER, "exponent"));
    const key = der(Tag.SEQUENCE, der(Tag.INTEGER, Uint8Array.of(0), modulus), der(Tag.INTEGER, exponent));
    const spki = await spkiWithKey(keys.publicKey, key);
    const crafted = parseCsrPem(await craftCsr({ keys, spki }));
    expect(() => csrKey(crafted)).toThrow(/RSA modulus: non-minimal INTEGER/);
  });
});

describe("DER the signer reads but never copies (X.690 §11.1, §11.5)", () => {
  it.each([
    ["a two-octet BOOLEAN", [san, basicConstraints(boolean(0xff, 0xff))], /basicConstraints cA: a DER BOOLEAN is one octet, 0x00 or 0xFF; found 2 octets/],
    ["a BOOLEAN TRUE other than 0xFF", [san, basicConstraints(boolean(0x01))], /basicConstraints cA: a DER BOOLEAN is one octet, 0x00 or 0xFF; found 0x01/],
    ["an explicit cA FALSE", [san, basicConstraints(boolean(0x00))], /basicConstraints cA: FALSE is the DEFAULT and DER forbids encoding it/],
    ["an explicit critical FALSE", [extensionElement(OID.subjectAltName, der(Tag.SEQUENCE, der(0x86, new TextEncoder().encode("spiffe://a/ns/b/sa/c"))), boolean(0x00))], /extension critical: FALSE is the DEFAULT and DER forbids encoding it/],
    ["a critical flag of two octets", [extensionElement(OID.subjectAltName, der(Tag.SEQUENCE, der(0x86, new TextEncoder().encode("spiffe://a/ns/b/sa/c"))), boolean(0xff, 0x00))], /extension critical: a DER BOOLEAN is one octet/],
    ["data after basicConstraints' fields", [san, basicConstraints(der(Tag.INTEGER, Uint8Array.of(0)), der(Tag.NULL))], /basicConstraints: unexpected trailing data/],
  ])("refuses %s", async (_, extensions, message) => {
    const pem = await craftCsr({ keys: await ec("P-256"), extensions });
    expect(() => parseCsrPem(pem)).toThrow(CsrError);
    expect(() => parseCsrPem(pem)).toThrow(message);
  });

  it("still reads cA TRUE and a pathLenConstraint", async () => {
    const pem = await craftCsr({ keys: await ec("P-256"), extensions: [san, basicConstraints(boolean(0xff), der(Tag.INTEGER, Uint8Array.of(0)))] });
    expect(parseCsrPem(pem).requestsCa).toBe(true);
  });

  it("refuses NULL parameters with contents in the signature algorithm (X.690 §8.8.2)", async () => {
    const pem = await craftCsr({ keys: await ec("P-256") });
    const csr = parseCsrPem(pem);
    const algorithm = der(Tag.SEQUENCE, der(Tag.OID, fromHex(OID.ecdsaWithSha256)), der(Tag.NULL, Uint8Array.of(0)));
    const bad = der(Tag.SEQUENCE, csr.info, algorithm, der(Tag.BIT_STRING, Uint8Array.of(0), csr.signature));
    expect(() => parseCsrPem(encodePem(bad, "CERTIFICATE REQUEST"))).toThrow(/signatureAlgorithm parameters: NULL has no contents/);
  });
});
