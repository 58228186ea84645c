/**
 * Whether a leaf certificate was issued and signed by an issuer (docs/shim.md "Verification of answers",
 * check 3): the leaf names the issuer's subject as its issuer (the same DER: the signer copies it) and its
 * signature verifies with the issuer's key over the leaf's TBSCertificate, the exact bytes its fields were
 * read from. The signature algorithm must be one the signer writes (ECDSA or PKCS #1 v1.5 RSA with SHA-2)
 * and fit the issuer's key type. Node's crypto (OpenSSL) checks the signature; no X.509 object is built,
 * which in a burst cost more than the check itself.
 */
import { verify, type KeyObject } from "node:crypto";
import { bytesEqual, SIGNATURE_ALGORITHMS, type ParsedCertificate } from "@edgeca/shared";

/** True when `leaf` is issued by `issuer` (whose public key is `issuerKey`) and carries a valid signature by it. */
export function leafSignedBy(leaf: ParsedCertificate, issuer: ParsedCertificate, issuerKey: KeyObject): boolean {
  if (!bytesEqual(leaf.issuer, issuer.subject)) return false;
  const algorithm = SIGNATURE_ALGORITHMS[leaf.signatureAlgorithm];
  if (algorithm === undefined || issuerKey.asymmetricKeyType !== algorithm.keyType) return false;
  try {
    // ECDSA signatures are DER (Node's default dsaEncoding), as X.509 carries them.
    return verify(algorithm.hash, leaf.tbs, issuerKey, leaf.signature);
  } catch {
    return false;
  }
}
