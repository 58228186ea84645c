import { describe, expect, it } from "vitest";
import { parseCsrPem } from "@edgeca/shared";
import { fx, signAsPlain, signRequest } from "../test/support/client.ts";
import type { TestCsrs } from "../test/support/fixtures.ts";

async function answer(csr: keyof TestCsrs): Promise<{ status: number; code: string; detail: string }> {
  const res = await signAsPlain(signRequest(fx.csrs[csr]));
  const problem = await res.json<{ code: string; detail: string }>();
  return { status: res.status, code: problem.code, detail: problem.detail };
}

describe("POST /v1/sign: public keys relying parties could not read", () => {
  it("workerd's WebCrypto imports a compressed point, so proof of possession alone would let it through", async () => {
    const csr = parseCsrPem(fx.csrs.compressedP256);
    const key = await crypto.subtle.importKey("spki", Uint8Array.from(csr.spki), { name: "ECDSA", namedCurve: "P-256" }, false, ["verify"]);
    expect(key.type).toBe("public");
  });

  it.each(["compressedP256", "compressedP384"] as const)("refuses %s with 400 naming the uncompressed form", async (csr) => {
    const { status, code, detail } = await answer(csr);
    expect({ status, code }).toEqual({ status: 400, code: "invalid_request" });
    expect(detail).toMatch(/^csr: malformed public key: EC public key must be an uncompressed point \(0x04 ‖ X ‖ Y\), found a compressed point \(0x0[23]\)/);
    expect(detail).toContain("Go's crypto/x509 refuses it");
  });

  it("refuses a point off the curve with 400 saying the key does not import, not that the proof failed", async () => {
    const { status, code, detail } = await answer("offCurveP256");
    expect({ status, code }).toEqual({ status: 400, code: "invalid_request" });
    expect(detail).toMatch(/^csr: subjectPublicKey: WebCrypto cannot import this P-256 key \(is the point on the curve\?\)/);
  });

  it("refuses an RSA key without NULL parameters with 400 (RFC 3279 §2.3.1; Go refuses such a certificate)", async () => {
    const { status, code, detail } = await answer("rsaWithoutNullParameters");
    expect({ status, code }).toEqual({ status: 400, code: "invalid_request" });
    expect(detail).toContain("rsaEncryption parameters must be NULL (RFC 3279 §2.3.1), found none");
  });

  it("still refuses a valid key that did not sign the request as a failed proof of possession", async () => {
    const { status, detail } = await answer("badSignature");
    expect(status).toBe(400);
    expect(detail).toBe("csr: proof-of-possession signature does not verify");
  });
});

describe("POST /v1/sign: DER the signer reads but never copies", () => {
  it.each([
    ["twoOctetBoolean", "basicConstraints cA: a DER BOOLEAN is one octet, 0x00 or 0xFF; found 2 octets"],
    ["explicitCaFalse", "basicConstraints cA: FALSE is the DEFAULT and DER forbids encoding it (X.690 §11.5)"],
    ["explicitCriticalFalse", "extension critical: FALSE is the DEFAULT and DER forbids encoding it (X.690 §11.5)"],
  ] as const)("refuses %s with 400 naming the rule", async (csr, rule) => {
    const { status, code, detail } = await answer(csr);
    expect({ status, code }).toEqual({ status: 400, code: "invalid_request" });
    expect(detail).toBe(`csr: CSR: ${rule}`);
  });
});
