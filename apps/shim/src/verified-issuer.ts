/**
 * The part of an answer's chain above the leaf, verified once per trust bundle. Every answer of a signer
 * carries the same intermediate(s), so parsing them and checking their signatures up to a root again for
 * each certificate is work repeated thousands of times in a burst. The verification is kept by the exact
 * DER of the certificates above the leaf and the root set in force (the array TrustBundle holds, replaced
 * when the bundle changes): a different intermediate or a changed bundle is verified afresh. Only successes
 * are kept; a bounded number per root set.
 */
import type { KeyObject } from "node:crypto";
import type { ChainCertificate } from "./verify-answer.ts";

/** The leaf's issuer (certificate 2 of the chain), verified up to a root, with its public key. */
export interface VerifiedIssuer {
  readonly issuer: ChainCertificate;
  readonly issuerKey: KeyObject;
}

const MAX_PER_ROOT_SET = 16;
const verified = new WeakMap<readonly ChainCertificate[], Map<string, VerifiedIssuer>>();

/**
 * The verified issuer of the chain whose certificates above the leaf are `upperDers`, from the cache or by
 * `verify` (which parses them and throws on the first failed check; its result is cached).
 */
export function verifiedIssuer(upperDers: readonly Uint8Array[], roots: readonly ChainCertificate[], verify: () => VerifiedIssuer): VerifiedIssuer {
  let byChain = verified.get(roots);
  if (byChain === undefined) {
    byChain = new Map();
    verified.set(roots, byChain);
  }
  // The exact bytes, one certificate after another, each prefixed by its length: no two chains share a key.
  const key = upperDers.map((der) => `${der.length}:${Buffer.from(der.buffer, der.byteOffset, der.byteLength).toString("latin1")}`).join("");
  const hit = byChain.get(key);
  if (hit !== undefined) return hit;
  const fresh = verify();
  if (byChain.size >= MAX_PER_ROOT_SET) byChain.clear();
  byChain.set(key, fresh);
  return fresh;
}
