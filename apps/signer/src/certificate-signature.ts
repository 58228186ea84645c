/**
 * Signature algorithms for certificates this signer writes and checks (RFC 5758 §3.2 for ECDSA,
 * RFC 4055 / RFC 8017 for RSA PKCS #1 v1.5), and verification of one certificate by its issuer's key.
 */
import { bytesEqual, der, ecdsaDerToP1363, OID, type ParsedCertificate, SIGNATURE_ALGORITHMS, Tag, toArrayBuffer, fromHex } from "@edgeca/shared";

/** WebCrypto algorithm parameters, typed structurally so the code compiles for workerd and for Node. */
export interface CryptoParams {
  readonly name: string;
  readonly namedCurve?: string;
  readonly hash?: string;
}

/** How a CA key signs: WebCrypto parameters and the DER AlgorithmIdentifier that names them. */
export interface SigningAlgorithm {
  readonly importParams: CryptoParams;
  readonly signParams: CryptoParams | string;
  /** DER `AlgorithmIdentifier` element. */
  readonly identifier: Uint8Array;
  /** Bytes per ECDSA half-signature, or 0 for RSA. */
  readonly ecdsaSize: number;
}

const ecdsa = (curve: "P-256" | "P-384", hash: "SHA-256" | "SHA-384", oid: string, size: number): SigningAlgorithm => ({
  importParams: { name: "ECDSA", namedCurve: curve },
  signParams: { name: "ECDSA", hash },
  // RFC 5758 §3.2: the parameters field MUST be absent for ecdsa-with-SHA*.
  identifier: der(Tag.SEQUENCE, der(Tag.OID, fromHex(oid))),
  ecdsaSize: size,
});

/** The algorithm a CA with this key signs with: P-256 → ecdsa-with-SHA256, P-384 → SHA384, RSA → sha256WithRSAEncryption. */
export function signingAlgorithmFor(cert: ParsedCertificate): SigningAlgorithm | undefined {
  if (cert.keyAlgorithm === OID.ecPublicKey && cert.curve === OID.p256) return ecdsa("P-256", "SHA-256", OID.ecdsaWithSha256, 32);
  if (cert.keyAlgorithm === OID.ecPublicKey && cert.curve === OID.p384) return ecdsa("P-384", "SHA-384", OID.ecdsaWithSha384, 48);
  if (cert.keyAlgorithm === OID.rsaEncryption) {
    return {
      importParams: { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" },
      signParams: "RSASSA-PKCS1-v1_5",
      // RFC 4055 §5: the parameters field MUST be NULL for sha256WithRSAEncryption.
      identifier: der(Tag.SEQUENCE, der(Tag.OID, fromHex(OID.sha256WithRsa)), der(Tag.NULL)),
      ecdsaSize: 0,
    };
  }
  return undefined;
}


/** Whether `cert` names `issuer` as its issuer and carries a valid signature by `issuer`'s key. */
export async function isSignedBy(cert: ParsedCertificate, issuer: ParsedCertificate): Promise<boolean> {
  if (!bytesEqual(cert.issuer, issuer.subject)) return false;
  const alg = SIGNATURE_ALGORITHMS[cert.signatureAlgorithm];
  if (alg === undefined) return false;
  try {
    if (alg.keyType === "ec") {
      const curve = issuer.curve === OID.p256 ? "P-256" : issuer.curve === OID.p384 ? "P-384" : issuer.curve === OID.p521 ? "P-521" : undefined;
      if (curve === undefined || issuer.keyAlgorithm !== OID.ecPublicKey) return false;
      const size = curve === "P-256" ? 32 : curve === "P-384" ? 48 : 66;
      const key = await crypto.subtle.importKey("spki", toArrayBuffer(issuer.spki), { name: "ECDSA", namedCurve: curve }, false, ["verify"]);
      const sig = ecdsaDerToP1363(cert.signature, size);
      return await crypto.subtle.verify({ name: "ECDSA", hash: alg.hash }, key, toArrayBuffer(sig), toArrayBuffer(cert.tbs));
    }
    if (issuer.keyAlgorithm !== OID.rsaEncryption) return false;
    const key = await crypto.subtle.importKey("spki", toArrayBuffer(issuer.spki), { name: "RSASSA-PKCS1-v1_5", hash: alg.hash }, false, ["verify"]);
    return await crypto.subtle.verify("RSASSA-PKCS1-v1_5", key, toArrayBuffer(cert.signature), toArrayBuffer(cert.tbs));
  } catch {
    return false;
  }
}
