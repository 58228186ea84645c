/**
 * The proof of possession of a PodCertificateRequest as Kubernetes 1.35 defines it (k8s.io/api
 * certificates/v1beta1 `spec.proofOfPossession`): the key's signature over the ASCII bytes of the pod UID —
 * ECDSA as crypto/ecdsa.SignASN1 over SHA-256(uid), RSASSA-PSS as crypto/rsa.SignPSS with SHA-256 and nil
 * options, Ed25519 over the UID itself. kube-apiserver checks it on create; the signer checks it again, so
 * its verdict does not rest on the cluster alone.
 */
import { bufferSource } from "./bytes.ts";
import { CsrError, type ParsedSpki } from "./csr.ts";
import type { CsrKey } from "./csr-key.ts";
import { ecdsaDerToP1363 } from "./ecdsa-signature.ts";

const CURVE_BYTES = { "P-256": 32, "P-384": 48, "P-521": 66 } as const;

/**
 * Salt lengths to try for RSA-PSS: Go's SignPSS with nil options uses the longest salt the key allows
 * (PSSSaltLengthAuto), and its VerifyPSS accepts any; WebCrypto needs the length, so the maximum is tried,
 * then the hash length (what a FIPS-only signer uses).
 */
function pssSaltLengths(bits: number): number[] {
  const emLen = Math.ceil((bits - 1) / 8);
  return [emLen - 32 - 2, 32];
}

/**
 * Whether `signature` proves possession of the key for `podUid`. Rejects with `CsrError` when WebCrypto
 * refuses the key itself (a malformed key, not a failed proof).
 */
export async function verifyPodProof(spki: ParsedSpki, key: CsrKey, podUid: string, signature: Uint8Array): Promise<boolean> {
  const message = bufferSource(new TextEncoder().encode(podUid));
  if (key.kind === "ec" && key.curve !== "unknown") {
    let p1363: Uint8Array<ArrayBuffer>;
    try {
      p1363 = ecdsaDerToP1363(signature, CURVE_BYTES[key.curve]);
    } catch {
      return false;
    }
    const pub = await importKey(spki, { name: "ECDSA", namedCurve: key.curve });
    return await verifyOrFalse({ name: "ECDSA", hash: "SHA-256" }, pub, p1363, message);
  }
  if (key.kind === "rsa") {
    const pub = await importKey(spki, { name: "RSA-PSS", hash: "SHA-256" });
    for (const saltLength of pssSaltLengths(key.bits)) {
      if (await verifyOrFalse({ name: "RSA-PSS", saltLength }, pub, bufferSource(signature), message)) return true;
    }
    return false;
  }
  return false;
}

async function importKey(spki: ParsedSpki, algorithm: EcKeyImportParams | RsaHashedImportParams): Promise<CryptoKey> {
  try {
    return await crypto.subtle.importKey("spki", bufferSource(spki.spki), algorithm, false, ["verify"]);
  } catch (error) {
    throw new CsrError(`pkixPublicKey: WebCrypto cannot import this key: ${error instanceof Error ? error.message : "import failed"}`, { cause: error });
  }
}

async function verifyOrFalse(algorithm: EcdsaParams | RsaPssParams, key: CryptoKey, signature: Uint8Array<ArrayBuffer>, message: Uint8Array<ArrayBuffer>): Promise<boolean> {
  try {
    return await crypto.subtle.verify(algorithm, key, signature, message);
  } catch {
    return false;
  }
}
