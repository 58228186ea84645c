/**
 * The CSR's public key and proof-of-possession signature, checked with WebCrypto (runtime-neutral:
 * `crypto.subtle` exists in workerd, Node ≥ 20 and browsers).
 */
import { bufferSource } from "./bytes.ts";
import { DerError, DerReader, Tag, valueOf } from "./der.ts";
import { ecdsaDerToP1363 } from "./ecdsa-signature.ts";
import { OID } from "./oid.ts";
import type { ParsedCsr } from "./csr.ts";

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

/** Describes the CSR's key: curve for EC; modulus bits and exponent for RSA (RFC 3279 §2.3.1). */
export function csrKey(csr: ParsedCsr): CsrKey {
  if (csr.keyAlgorithm === OID.ecPublicKey) return { kind: "ec", curve: CURVES[csr.curve ?? ""] ?? "unknown" };
  if (csr.keyAlgorithm !== OID.rsaEncryption) return { kind: "unknown" };
  const key = csr.publicKey;
  const top = new DerReader(key);
  const seq = DerReader.inside(key, top.expect(Tag.SEQUENCE, "RSAPublicKey"));
  top.finish("RSAPublicKey");
  let n = valueOf(key, seq.expect(Tag.INTEGER, "RSA modulus"));
  const e = valueOf(key, seq.expect(Tag.INTEGER, "RSA exponent"));
  seq.finish("RSAPublicKey");
  while (n.length > 1 && n[0] === 0) n = n.subarray(1);
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
 * signature that does not verify or cannot be decoded, or a key WebCrypto refuses.
 */
export async function verifyCsrSignature(csr: ParsedCsr, key: CsrKey, hash: SignatureHash): Promise<boolean> {
  try {
    if (key.kind === "ec" && key.curve !== "unknown") {
      const sig = ecdsaDerToP1363(csr.signature, CURVE_BYTES[key.curve]);
      const pub = await crypto.subtle.importKey("spki", bufferSource(csr.spki), EC_IMPORT[key.curve], false, ["verify"]);
      return await crypto.subtle.verify(ECDSA_VERIFY[hash], pub, sig, bufferSource(csr.info));
    }
    if (key.kind === "rsa") {
      const pub = await crypto.subtle.importKey("spki", bufferSource(csr.spki), RSA_IMPORT[hash], false, ["verify"]);
      return await crypto.subtle.verify(RSA_VERIFY, pub, bufferSource(csr.signature), bufferSource(csr.info));
    }
    return false;
  } catch {
    // A malformed signature or key is a failed proof, not a signer fault.
    return false;
  }
}
