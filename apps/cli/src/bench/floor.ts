/**
 * The floor: the cryptography an issuance cannot avoid, with nothing else — import the CSR's public key,
 * verify the CSR's self-signature, make one signature with the CA key over certificate-sized bytes
 * (WebCrypto, as the signer uses). The CSR is parsed once outside the loop; no DER is built.
 */
import { createPrivateKey, webcrypto } from "node:crypto";
import { csrKey, csrSignatureHash, ecdsaDerToP1363, parseCsrPem, toArrayBuffer } from "@edgeca/shared";

type KeyParams = { name: "ECDSA"; namedCurve: string } | { name: "RSASSA-PKCS1-v1_5"; hash: string };

/** WebCrypto import parameters and signature parameters of a PKCS#8 CA key, read with Node's key parser. */
function caParams(pem: string): { importParams: KeyParams; signParams: { name: string; hash?: string } } {
  const key = createPrivateKey(pem);
  const details = key.asymmetricKeyDetails ?? {};
  if (key.asymmetricKeyType === "ec") {
    const curve = details.namedCurve === "secp384r1" ? "P-384" : "P-256";
    return { importParams: { name: "ECDSA", namedCurve: curve }, signParams: { name: "ECDSA", hash: curve === "P-384" ? "SHA-384" : "SHA-256" } };
  }
  return { importParams: { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" }, signParams: { name: "RSASSA-PKCS1-v1_5" } };
}

const CURVE_BYTES: Readonly<Record<string, number>> = { "P-256": 32, "P-384": 48, "P-521": 66 };

/** Prepares one floor operation for `csrPem`, signing with the CA key `caKeyPem` (PKCS#8). */
export async function floorOperation(csrPem: string, caKeyPem: string): Promise<() => Promise<void>> {
  const subtle = webcrypto.subtle;
  const csr = parseCsrPem(csrPem);
  const key = csrKey(csr);
  const hash = csrSignatureHash(csr) ?? "SHA-256";
  const spki = toArrayBuffer(csr.spki);
  const info = toArrayBuffer(csr.info);
  const importParams =
    key.kind === "ec" ? { name: "ECDSA", namedCurve: key.curve } : { name: "RSASSA-PKCS1-v1_5", hash };
  const verifyParams = key.kind === "ec" ? { name: "ECDSA", hash } : { name: "RSASSA-PKCS1-v1_5" };
  const signature = toArrayBuffer(key.kind === "ec" ? ecdsaDerToP1363(csr.signature, CURVE_BYTES[key.curve] ?? 32) : csr.signature);
  const ca = caParams(caKeyPem);
  const der = createPrivateKey(caKeyPem).export({ format: "der", type: "pkcs8" });
  const caKey = await subtle.importKey("pkcs8", der, ca.importParams, false, ["sign"]);
  // About the size of a workload certificate's TBSCertificate.
  const tbs = new Uint8Array(450).fill(0x5a);
  return async () => {
    const pub = await subtle.importKey("spki", spki, importParams, false, ["verify"]);
    if (!(await subtle.verify(verifyParams, pub, signature, info))) throw new Error("floor: the CSR's signature does not verify");
    await subtle.sign(ca.signParams, caKey, tbs);
  };
}
