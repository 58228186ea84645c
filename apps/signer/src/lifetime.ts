/**
 * Validity of a leaf, as kube-controller-manager computes it (pkg/controller/certificates/signer):
 * lifetime = expirationSeconds (or the default) clamped to [600 s, maximum]; NotBefore backdated 5 min
 * for clock skew; NotAfter never beyond the issuing chain's NotAfter.
 */
import { POD_BACKDATE_SECONDS, POD_MIN_EXPIRATION_SECONDS, type PolicyConfig } from "@edgeca/shared";

/** certificates.k8s.io/v1: `spec.expirationSeconds` minimum. */
export const MIN_LIFETIME_SECONDS = 600;
/** Clock-skew allowance on NotBefore. */
export const BACKDATE_SECONDS = 300;

/** A leaf's validity window. */
export interface Validity {
  readonly notBefore: Date;
  readonly notAfter: Date;
}

/** Computes the validity window at `nowMs` for a requested lifetime under `policy`, truncated to `issuerNotAfter`. */
export function validityFor(nowMs: number, requested: number | undefined, policy: PolicyConfig, issuerNotAfter: Date): Validity {
  // X.509 times have whole seconds; round down so NotBefore is never in the future.
  const now = Math.floor(nowMs / 1000) * 1000;
  const lifetime = Math.min(Math.max(requested ?? policy.defaultLifetimeSeconds, MIN_LIFETIME_SECONDS), policy.maxLifetimeSeconds);
  const notAfter = Math.min(now + lifetime * 1000, issuerNotAfter.getTime());
  return { notBefore: new Date(now - BACKDATE_SECONDS * 1000), notAfter: new Date(notAfter) };
}

/**
 * A pod certificate's validity (docs/certificate-profile.md "Pod certificates"): kube-apiserver requires
 * NotAfter − NotBefore ≤ spec.maxExpirationSeconds and ≥ 1 h, and status.notBefore within 5 min of its
 * clock, so the backdate is short and counted inside the lifetime. Undefined when the issuing chain ends
 * too soon for the 1-hour minimum.
 */
export function podValidityFor(nowMs: number, lifetimeSeconds: number, issuerNotAfter: Date): Validity | undefined {
  const now = Math.floor(nowMs / 1000) * 1000;
  const notBefore = now - POD_BACKDATE_SECONDS * 1000;
  const notAfter = Math.min(notBefore + lifetimeSeconds * 1000, Math.floor(issuerNotAfter.getTime() / 1000) * 1000);
  if (notAfter - notBefore < POD_MIN_EXPIRATION_SECONDS * 1000) return undefined;
  return { notBefore: new Date(notBefore), notAfter: new Date(notAfter) };
}
