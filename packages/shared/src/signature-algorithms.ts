/**
 * The certificate signature algorithms edgeca writes and checks, by OID (hex of the value, as
 * `ParsedCertificate.signatureAlgorithm`): ECDSA (RFC 5758 §3.2) and RSA PKCS #1 v1.5 (RFC 4055 / RFC 8017)
 * with SHA-2. The signer checks chains with it through WebCrypto, the shim a leaf through node:crypto; the
 * hash names are WebCrypto's, which Node's crypto also accepts.
 */
import { OID } from "./oid.ts";

export interface SignatureAlgorithm {
  /** The key type that signs with it: WebCrypto ECDSA / RSASSA-PKCS1-v1_5, Node's `ec` / `rsa`. */
  readonly keyType: "ec" | "rsa";
  readonly hash: "SHA-256" | "SHA-384" | "SHA-512";
}

export const SIGNATURE_ALGORITHMS: Readonly<Record<string, SignatureAlgorithm>> = {
  [OID.ecdsaWithSha256]: { keyType: "ec", hash: "SHA-256" },
  [OID.ecdsaWithSha384]: { keyType: "ec", hash: "SHA-384" },
  [OID.ecdsaWithSha512]: { keyType: "ec", hash: "SHA-512" },
  [OID.sha256WithRsa]: { keyType: "rsa", hash: "SHA-256" },
  [OID.sha384WithRsa]: { keyType: "rsa", hash: "SHA-384" },
  [OID.sha512WithRsa]: { keyType: "rsa", hash: "SHA-512" },
};
