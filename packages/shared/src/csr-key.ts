/**
 * The CSR's public key and proof-of-possession signature, checked with WebCrypto (runtime-neutral:
 * `crypto.subtle` exists in workerd, Node ≥ 20 and browsers).
 */
import { bufferSource } from "./bytes.ts";
import { DerError, DerReader, Tag } from "./der.ts";
import { unsignedIntegerOf } from "./der-values.ts";
import { ecdsaDerToP1363 } from "./ecdsa-signature.ts";
import { OID } from "./oid.ts";
import { CsrError, type ParsedCsr } from "./csr.ts";

/** The key of a CSR, as far as policy cares. */
export type CsrKey =
  | { readonly kind: "ec"; readonly curve: "P-256" | "P-384" | "P-521" | "unknown" }
  | { readonly kind: "rsa"; readonly bits: number; readonly exponent: number }
  | { readonly kind: "unknown" };

/** Hash of a signature algorithm edgeca accepts for proof of possession; SHA-1 and others are undefined. */
export type SignatureHash = "SHA-256" | "SHA-384" | "SHA-512";

const CURVES: Record<string, "P-256" | "P-384" | "P-521"> = { [OID.p256]: "P-256", [OID.p384]: "P-384", [OID.p521]: "P-521" };
const CURVE_BYTES = { "P-256": 32, "P-384": 48, "P-521": 66 } as const;

// WebCrypto algorithm parameters, made once rather than per call: Node normalizes every dictionary it is
// given, and the same objects each time keep that path cheap.
const EC_IMPORT = {
  "P-256": { name: "ECDSA", namedCurve: "P-256" },
  "P-384": { name: "ECDSA", namedCurve: "P-384" },
  "P-521": { name: "ECDSA", namedCurve: "P-521" },
} as const;
const ECDSA_VERIFY = {
  "SHA-256": { name: "ECDSA", hash: "SHA-256" },
  "SHA-384": { name: "ECDSA", hash: "SHA-384" },
  "SHA-512": { name: "ECDSA", hash: "SHA-512" },
} as const;
const RSA_IMPORT = {
  "SHA-256": { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" },
  "SHA-384": { name: "RSASSA-PKCS1-v1_5", hash: "SHA-384" },
  "SHA-512": { name: "RSASSA-PKCS1-v1_5", hash: "SHA-512" },
} as const;
const RSA_VERIFY = { name: "RSASSA-PKCS1-v1_5" } as const;

/**
 * The SubjectPublicKeyInfo is copied into the certificate verbatim, so its point must be one every
 * relying party reads. RFC 5480 §2.2 makes the uncompressed form (0x04 ‖ X ‖ Y) mandatory to support and
 * the compressed one (0x02/0x03 ‖ X) optional; Go's crypto/x509 refuses a compressed point ("invalid
 * uncompressed public key"), while WebCrypto in Node and in workerd imports it (both tested), so proof of
 * possession would not catch it.
 */
function checkEcPoint(point: Uint8Array, curve: "P-256" | "P-384" | "P-521"): void {
  const first = point[0];
  if (first === 0x02 || first === 0x03) {
    throw new DerError(`EC public key must be an uncompressed point (0x04 ‖ X ‖ Y), found a compressed point (0x0${first}): RFC 5480 §2.2 makes compression optional and Go's crypto/x509 refuses it`);
  }
  const size = 1 + 2 * CURVE_BYTES[curve];
  if (first !== 0x04) throw new DerError(`EC public key must be an uncompressed point (0x04 ‖ X ‖ Y), found first octet 0x${(first ?? 0).toString(16).padStart(2, "0")}`);
  if (point.length !== size) throw new DerError(`EC public key: an uncompressed ${curve} point is ${size} bytes (0x04 ‖ X ‖ Y), found ${point.length}`);
}

/**
 * Describes the CSR's key: curve for EC; modulus bits and exponent for RSA (RFC 3279 §2.3.1). Throws
 * `DerError` for a key no relying party could read (see `checkEcPoint`; RSA integers must be DER).
 */
export function csrKey(csr: Pick<ParsedCsr, "keyAlgorithm" | "curve" | "publicKey">): CsrKey {
  if (csr.keyAlgorithm === OID.ecPublicKey) {
    const curve = CURVES[csr.curve ?? ""];
    if (curve === undefined) return { kind: "ec", curve: "unknown" };
    checkEcPoint(csr.publicKey, curve);
    return { kind: "ec", curve };
  }
  if (csr.keyAlgorithm !== OID.rsaEncryption) return { kind: "unknown" };
  const key = csr.publicKey;
  const top = new DerReader(key);
  const seq = DerReader.inside(key, top.expect(Tag.SEQUENCE, "RSAPublicKey"));
  top.finish("RSAPublicKey");
  const n = unsignedIntegerOf(key, seq.expect(Tag.INTEGER, "RSA modulus"), "RSA modulus");
  const e = unsignedIntegerOf(key, seq.expect(Tag.INTEGER, "RSA exponent"), "RSA exponent");
  seq.finish("RSAPublicKey");
  const lead = n[0] ?? 0;
  const bits = n.length === 0 ? 0 : (n.length - 1) * 8 + (32 - Math.clz32(lead));
  let exponent = 0;
  if (e.length > 6) throw new DerError("RSA exponent too large");
  for (const b of e) exponent = exponent * 256 + b;
  return { kind: "rsa", bits, exponent };
}

/** The hash of the CSR's signature algorithm when it is ECDSA or RSA PKCS#1 v1.5 with SHA-2; else undefined. */
export function csrSignatureHash(csr: ParsedCsr): SignatureHash | undefined {
  if (csr.keyAlgorithm === OID.ecPublicKey && !csr.signatureParameters) {
    if (csr.signatureAlgorithm === OID.ecdsaWithSha256) return "SHA-256";
    if (csr.signatureAlgorithm === OID.ecdsaWithSha384) return "SHA-384";
    if (csr.signatureAlgorithm === OID.ecdsaWithSha512) return "SHA-512";
  }
  if (csr.keyAlgorithm === OID.rsaEncryption && !csr.signatureParameters) {
    if (csr.signatureAlgorithm === OID.sha256WithRsa) return "SHA-256";
    if (csr.signatureAlgorithm === OID.sha384WithRsa) return "SHA-384";
    if (csr.signatureAlgorithm === OID.sha512WithRsa) return "SHA-512";
  }
  return undefined;
}

/**
 * Verifies the CSR's self-signature (proof of possession, RFC 2986 §3) with `hash`. Resolves false for a
 * signature that does not verify or cannot be decoded; rejects with `CsrError` when WebCrypto refuses the
 * key itself (an EC point off its curve, say), which is a malformed key rather than a failed proof.
 */
export async function verifyCsrSignature(csr: ParsedCsr, key: CsrKey, hash: SignatureHash): Promise<boolean> {
  let signature: Uint8Array<ArrayBuffer>;
  let algorithm: EcKeyImportParams | RsaHashedImportParams;
  let verify: EcdsaParams | Algorithm;
  if (key.kind === "ec" && key.curve !== "unknown") {
    try {
      signature = ecdsaDerToP1363(csr.signature, CURVE_BYTES[key.curve]);
    } catch {
      return false;
    }
    algorithm = EC_IMPORT[key.curve];
    verify = ECDSA_VERIFY[hash];
  } else if (key.kind === "rsa") {
    signature = bufferSource(csr.signature);
    algorithm = RSA_IMPORT[hash];
    verify = RSA_VERIFY;
  } else {
    return false;
  }
  let pub: CryptoKey;
  try {
    pub = await crypto.subtle.importKey("spki", bufferSource(csr.spki), algorithm, false, ["verify"]);
  } catch (error) {
    const what = key.kind === "ec" ? `${key.curve} key (is the point on the curve?)` : "RSA key";
    throw new CsrError(`subjectPublicKey: WebCrypto cannot import this ${what}: ${error instanceof Error ? error.message : "import failed"}`, { cause: error });
  }
  try {
    return await crypto.subtle.verify(verify, pub, signature, bufferSource(csr.info));
  } catch {
    // A signature WebCrypto cannot even check is a failed proof, not a signer fault.
    return false;
  }
}
