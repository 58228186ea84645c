import { describe, expect, it } from "vitest";
import { fromBase64 } from "./bytes.ts";
import { CsrError, parseCsrDer, parseCsrPem } from "./csr.ts";
import { csrKey, csrSignatureHash, verifyCsrSignature } from "./csr-key.ts";
import { OID } from "./oid.ts";
import { encodePem } from "./pem.ts";
import { makeCsr } from "../test/library-csr.ts";

describe("parseCsrPem", () => {
  it("reads an Istio-shaped P-256 CSR and verifies its proof of possession", async () => {
    const csr = parseCsrPem(await makeCsr({ uris: ["spiffe://cluster.local/ns/default/sa/web"] }));
    expect(csr.names.uri).toEqual(["spiffe://cluster.local/ns/default/sa/web"]);
    expect(csr.names.dns).toEqual([]);
    expect(csr.requestsCa).toBe(false);
    const key = csrKey(csr);
    expect(key).toEqual({ kind: "ec", curve: "P-256" });
    const hash = csrSignatureHash(csr);
    expect(hash).toBe("SHA-256");
    if (hash === undefined) return;
    expect(await verifyCsrSignature(csr, key, hash)).toBe(true);
  });

  it("reads an RSA-2048 key's size and exponent", async () => {
    const csr = parseCsrPem(await makeCsr({ key: "RSA-2048", dns: ["istiod.istio-system.svc"] }));
    expect(csrKey(csr)).toEqual({ kind: "rsa", bits: 2048, exponent: 65537 });
    expect(csr.names.dns).toEqual(["istiod.istio-system.svc"]);
    expect(await verifyCsrSignature(csr, csrKey(csr), "SHA-256")).toBe(true);
  });

  it("reports a CA request", async () => {
    expect(parseCsrPem(await makeCsr({ ca: true })).requestsCa).toBe(true);
  });

  it("fails proof of possession when the signed bytes change", async () => {
    const pem = await makeCsr({ uris: ["spiffe://cluster.local/ns/a/sa/b"] });
    const csr = parseCsrPem(pem);
    const der = Uint8Array.from(csr.der);
    // Change the URI's last character ("b" → "c"): still well-formed DER and a valid key, no longer what was signed.
    const at = new TextDecoder("latin1").decode(der).indexOf("/sa/b") + 4;
    der[at] = 0x63;
    const tampered = parseCsrDer(der);
    expect(tampered.names.uri).toEqual(["spiffe://cluster.local/ns/a/sa/c"]);
    expect(await verifyCsrSignature(tampered, csrKey(tampered), "SHA-256")).toBe(false);
  });

  it("says the key is unusable when WebCrypto refuses the point, rather than that the proof failed", async () => {
    const csr = parseCsrPem(await makeCsr({ uris: ["spiffe://cluster.local/ns/a/sa/b"] }));
    const der = Uint8Array.from(csr.der);
    // Flip the last bit of Y: the point leaves the curve.
    const end = csr.publicKey.byteOffset - csr.der.byteOffset + csr.publicKey.length - 1;
    der[end] = (der[end] ?? 0) ^ 0x01;
    const offCurve = parseCsrDer(der);
    await expect(verifyCsrSignature(offCurve, csrKey(offCurve), "SHA-256")).rejects.toThrow(/WebCrypto cannot import this P-256 key \(is the point on the curve\?\)/);
  });

  it("refuses bytes after the CSR's DER element", async () => {
    const csr = parseCsrPem(await makeCsr());
    const grown = new Uint8Array(csr.der.length + 2);
    grown.set(csr.der);
    expect(() => parseCsrDer(grown)).toThrow(CsrError);
    expect(() => parseCsrDer(grown)).toThrow(/trailing/);
  });

  it("names the field that is wrong", () => {
    const notCsr = fromBase64("MAMCAQU="); // SEQUENCE { INTEGER 5 }
    expect(() => parseCsrPem(encodePem(notCsr, "CERTIFICATE REQUEST"))).toThrow(/CSR: certificationRequestInfo: expected tag 0x30/);
  });

  it("lists requested extensions without interpreting unknown ones", async () => {
    const csr = parseCsrPem(await makeCsr({ uris: ["spiffe://td/ns/a/sa/b"], ca: true }));
    expect(csr.requestedExtensions).toEqual([OID.subjectAltName, OID.basicConstraints]);
  });
});
