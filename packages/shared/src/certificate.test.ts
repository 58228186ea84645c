import "reflect-metadata";
import { BasicConstraintsExtension, X509CertificateGenerator } from "@peculiar/x509";
import { describe, expect, it } from "vitest";
import { parseCertificateDer } from "./certificate.ts";

// ecdsa-with-SHA256 (1.2.840.10045.4.3.2) as DER: in a certificate once inside the TBSCertificate, once after it.
const ECDSA_SHA256 = Buffer.from([0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02]);

async function selfSigned(): Promise<Uint8Array> {
  const keys = await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, ["sign", "verify"]);
  const cert = await X509CertificateGenerator.createSelfSigned({ name: "CN=test", keys, signingAlgorithm: { name: "ECDSA", hash: "SHA-256" }, extensions: [new BasicConstraintsExtension(true, undefined, true)] });
  return new Uint8Array(cert.rawData);
}

describe("parseCertificateDer", () => {
  it("reads a certificate whose two signature algorithms are the same", async () => {
    const parsed = parseCertificateDer(await selfSigned());
    expect(parsed.isCa).toBe(true);
    expect(Buffer.from(parsed.issuer).equals(Buffer.from(parsed.subject))).toBe(true);
  });

  it("refuses one whose inner and outer signature algorithms differ (RFC 5280 §4.1.1.2)", async () => {
    const der = await selfSigned();
    const outer = Buffer.from(der).lastIndexOf(ECDSA_SHA256);
    expect(outer).toBeGreaterThan(Buffer.from(der).indexOf(ECDSA_SHA256));
    const altered = der.slice();
    // The outer one becomes ecdsa-with-SHA384.
    altered[outer + ECDSA_SHA256.length - 1] = 0x03;
    expect(() => parseCertificateDer(altered)).toThrow(/the tbsCertificate's signature algorithm is not the certificate's signatureAlgorithm/);
  });
});
