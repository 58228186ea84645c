import "reflect-metadata";
import { createPublicKey, webcrypto } from "node:crypto";
import { BasicConstraintsExtension, KeyUsageFlags, KeyUsagesExtension, X509CertificateGenerator, type X509Certificate } from "@peculiar/x509";
import { OID, parseCertificateDer, type ParsedCertificate } from "@edgeca/shared";
import { beforeAll, describe, expect, it } from "vitest";
import { leafSignedBy } from "./leaf-signature.ts";

// Keys made at test time. Each issuer signs a leaf the way the signer does; the leaf is then altered a byte
// at a time to show that the check reads the signature over exactly the leaf's TBSCertificate.
const P256 = { generate: { name: "ECDSA", namedCurve: "P-256" }, sign: { name: "ECDSA", hash: "SHA-256" } } as const;
const P384 = { generate: { name: "ECDSA", namedCurve: "P-384" }, sign: { name: "ECDSA", hash: "SHA-384" } } as const;
const RSA = { generate: { name: "RSASSA-PKCS1-v1_5", modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" }, sign: { name: "RSASSA-PKCS1-v1_5" } } as const;

interface Issuer {
  readonly cert: X509Certificate;
  readonly keys: webcrypto.CryptoKeyPair;
  readonly parsed: ParsedCertificate;
}

async function issuer(name: string, alg: typeof P256 | typeof P384 | typeof RSA): Promise<Issuer> {
  const keys = (await webcrypto.subtle.generateKey(alg.generate, true, ["sign", "verify"]));
  const extensions = [new BasicConstraintsExtension(true, undefined, true), new KeyUsagesExtension(KeyUsageFlags.keyCertSign, true)];
  const cert = await X509CertificateGenerator.createSelfSigned({ name, keys, signingAlgorithm: alg.sign, extensions });
  return { cert, keys, parsed: parseCertificateDer(new Uint8Array(cert.rawData)) };
}

async function leafDer(by: Issuer, alg: typeof P256 | typeof P384 | typeof RSA, issuerName = by.cert.subject): Promise<Uint8Array> {
  const subject = (await webcrypto.subtle.generateKey(P256.generate, true, ["sign", "verify"]));
  const cert = await X509CertificateGenerator.create({
    serialNumber: "0a0b0c0d",
    subject: "",
    issuer: issuerName,
    publicKey: subject.publicKey,
    signingKey: by.keys.privateKey,
    signingAlgorithm: alg.sign,
    extensions: [new BasicConstraintsExtension(false, undefined, true)],
  });
  return new Uint8Array(cert.rawData);
}

const keyOf = (i: Issuer) => createPublicKey({ key: Buffer.from(i.parsed.spki), format: "der", type: "spki" });

let p256: Issuer;
let p384: Issuer;
let rsa: Issuer;

beforeAll(async () => {
  [p256, p384, rsa] = await Promise.all([issuer("CN=p256 issuing", P256), issuer("CN=p384 issuing", P384), issuer("CN=rsa issuing", RSA)]);
});

describe("leafSignedBy", () => {
  it("accepts a leaf signed by its issuer with ECDSA P-256, P-384 and RSA", async () => {
    for (const [i, alg] of [[p256, P256], [p384, P384], [rsa, RSA]] as const) {
      expect(leafSignedBy(parseCertificateDer(await leafDer(i, alg)), i.parsed, keyOf(i))).toBe(true);
    }
  });

  it("refuses a leaf whose signature or signed bytes were altered", async () => {
    for (const [i, alg] of [[p256, P256], [rsa, RSA]] as const) {
      const der = await leafDer(i, alg);
      const parsed = parseCertificateDer(der);
      // One bit of the signature value.
      const badSignature = der.slice();
      badSignature[der.length - 5] = (badSignature[der.length - 5] ?? 0) ^ 0x01;
      expect(leafSignedBy(parseCertificateDer(badSignature), i.parsed, keyOf(i))).toBe(false);
      // One byte of the serial number, inside the TBSCertificate.
      const serialAt = Buffer.from(der).indexOf(Buffer.from([0x0a, 0x0b, 0x0c, 0x0d]));
      expect(serialAt).toBeGreaterThan(0);
      const badTbs = der.slice();
      badTbs[serialAt] = 0x0b;
      expect(leafSignedBy(parseCertificateDer(badTbs), i.parsed, keyOf(i))).toBe(false);
      expect(leafSignedBy(parsed, i.parsed, keyOf(i))).toBe(true);
    }
  });

  it("refuses a leaf signed by the issuer's key that names another issuer, and a leaf of another issuer", async () => {
    expect(leafSignedBy(parseCertificateDer(await leafDer(p256, P256, "CN=someone else")), p256.parsed, keyOf(p256))).toBe(false);
    const other = await issuer("CN=p256 issuing", P256);
    expect(leafSignedBy(parseCertificateDer(await leafDer(other, P256)), p256.parsed, keyOf(p256))).toBe(false);
  });

  it("refuses an algorithm that does not fit the issuer's key, and one the signer never writes", async () => {
    const rsaLeaf = parseCertificateDer(await leafDer(rsa, RSA));
    expect(leafSignedBy({ ...rsaLeaf, signatureAlgorithm: OID.ecdsaWithSha256 }, rsa.parsed, keyOf(rsa))).toBe(false);
    expect(leafSignedBy({ ...rsaLeaf, signatureAlgorithm: OID.rsaPss }, rsa.parsed, keyOf(rsa))).toBe(false);
    const ecLeaf = parseCertificateDer(await leafDer(p256, P256));
    expect(leafSignedBy({ ...ecLeaf, signatureAlgorithm: OID.sha256WithRsa }, p256.parsed, keyOf(p256))).toBe(false);
  });
});
