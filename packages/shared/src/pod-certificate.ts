/**
 * Pod certificates (KEP-4317, `certificates.k8s.io/v1beta1` PodCertificateRequest, Kubernetes 1.35): the
 * API's facts and edgeca's pod-certificate profile, in one place for the signer and the shim
 * (docs/certificate-profile.md "Pod certificates").
 *
 * Sources: k8s.io/api certificates/v1beta1 types.go (the spec fields, the proof of possession) and
 * kubernetes pkg/apis/certificates/validation (ValidatePodCertificateRequestCreate / …StatusUpdate: the
 * lifetime, notBefore and beginRefreshAt rules kube-apiserver enforces on the status write).
 */
import * as z from "zod";
import { signerNameProblem } from "./signer-name.ts";

// config.ts imports this file, so the signer-name schema is built here rather than imported from there.
const SignerName = z.string().superRefine((name, ctx) => {
  const problem = signerNameProblem(name);
  if (problem !== undefined) ctx.addIssue({ code: "custom", message: problem });
});

/** `spec.maxExpirationSeconds` bounds (certificates.MinMaxExpirationSeconds / MaxMaxExpirationSeconds). */
export const POD_MIN_EXPIRATION_SECONDS = 3600;
export const POD_MAX_EXPIRATION_SECONDS = 7_862_400;
/** The apiserver's default `spec.maxExpirationSeconds`. */
export const POD_DEFAULT_EXPIRATION_SECONDS = 86_400;
/** status.notBefore must be within 5 minutes of the apiserver's clock when written: backdate far less. */
export const POD_BACKDATE_SECONDS = 60;
/** status.beginRefreshAt must lie in [notBefore + 10 min, notAfter − 10 min]. */
export const POD_REFRESH_MARGIN_SECONDS = 600;

/** Condition reasons the API names (types.go): a key type the signer does not support must be denied so. */
export const POD_REASON_UNSUPPORTED_KEY_TYPE = "UnsupportedKeyType";
export const POD_REASON_INVALID_USER_ANNOTATIONS = "InvalidUnverifiedUserAnnotations";

/** A cluster's pod-certificate policy in EDGECA_CONFIG (`clusters[].podCertificates`); absent: off. */
export const PodCertificatesConfig = z.object({
  /** Signer names whose PodCertificateRequests may be signed (each also in the cluster's `signerNames`). */
  signerNames: z.array(SignerName).min(1),
  /** Upper clamp of a pod certificate's lifetime; the request's maxExpirationSeconds clamps further. */
  maxLifetimeSeconds: z.number().int().min(POD_MIN_EXPIRATION_SECONDS).max(POD_MAX_EXPIRATION_SECONDS).default(POD_DEFAULT_EXPIRATION_SECONDS),
});
export type PodCertificatesConfig = z.infer<typeof PodCertificatesConfig>;

const uid = z.string().min(1).max(128);
const base64 = z.string().min(1).max(8192).regex(/^[A-Za-z0-9+/]+={0,2}$/, "must be standard base64");

/**
 * `POST /v1/sign-pod` body: the PodCertificateRequest's spec as kube-apiserver stored it (after its own
 * validation and the NodeRestriction admission plugin), and the node that asked.
 */
export const PodSignRequest = z.object({
  signerName: z.string().min(1).max(571),
  namespace: z.string().min(1).max(63),
  podName: z.string().min(1).max(253),
  podUID: uid,
  serviceAccountName: z.string().min(1).max(253),
  serviceAccountUID: uid,
  nodeName: z.string().min(1).max(253),
  nodeUID: uid,
  /** `spec.pkixPublicKey`: a DER SubjectPublicKeyInfo, base64. */
  pkixPublicKey: base64,
  /** `spec.proofOfPossession`: the key's signature over the ASCII pod UID, base64. */
  proofOfPossession: base64,
  maxExpirationSeconds: z.number().int().min(POD_MIN_EXPIRATION_SECONDS).max(POD_MAX_EXPIRATION_SECONDS),
  /** Keys of `spec.unverifiedUserAnnotations` (values are not sent: edgeca recognises none). */
  unverifiedUserAnnotationKeys: z.array(z.string().max(317)).max(64).optional(),
  /** The creator: the node `system:node:<nodeName>` (the PCR does not record it; see docs/shim.md). */
  requestor: z.object({ username: z.string().min(1).max(1024) }),
  object: z.object({ name: z.string().min(1).max(253), uid: z.string().max(128).optional() }).optional(),
});
export type PodSignRequest = z.infer<typeof PodSignRequest>;

/** `POST /v1/sign-pod` 200 answer: the `/v1/sign` answer plus the refresh hint the PCR status needs. */
export const PodSignResponse = z.object({
  certificateChain: z.string().min(1),
  serialNumber: z.string().regex(/^[0-9a-f]+$/),
  notBefore: z.iso.datetime({ offset: true }),
  notAfter: z.iso.datetime({ offset: true }),
  beginRefreshAt: z.iso.datetime({ offset: true }),
});
export type PodSignResponse = z.infer<typeof PodSignResponse>;

/** The SPIFFE ID of a pod certificate: bound to the spec's namespace and ServiceAccount, nothing else. */
export function podSpiffeId(trustDomain: string, namespace: string, serviceAccountName: string): string {
  return `spiffe://${trustDomain}/ns/${namespace}/sa/${serviceAccountName}`;
}

/** When the kubelet should start refreshing: half-way through the lifetime (within the API's margins). */
export function beginRefreshAtFor(notBefore: Date, notAfter: Date): Date {
  const half = notBefore.getTime() + Math.floor((notAfter.getTime() - notBefore.getTime()) / 2000) * 1000;
  const earliest = notBefore.getTime() + POD_REFRESH_MARGIN_SECONDS * 1000;
  const latest = notAfter.getTime() - POD_REFRESH_MARGIN_SECONDS * 1000;
  return new Date(Math.min(Math.max(half, earliest), latest));
}
