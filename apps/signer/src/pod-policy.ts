/**
 * The pod-certificate profile's policy (docs/certificate-profile.md "Pod certificates"): a
 * PodCertificateRequest's spec, which kube-apiserver validated and the NodeRestriction admission plugin
 * tied to the requesting node, its pod and ServiceAccount. The SPIFFE ID is built from the spec's namespace
 * and ServiceAccount only; nothing the requester could choose (annotations) reaches the certificate.
 * Checked in order: enabled for the signer name, requestor is the spec's node, no unverified annotations,
 * names, key type, proof of possession.
 */
import {
  CsrError,
  csrKey,
  fromBase64,
  isDnsLabel,
  isDnsSubdomain,
  MalformedInputError,
  parseSpkiDer,
  podSpiffeId,
  POD_REASON_INVALID_USER_ANNOTATIONS,
  POD_REASON_UNSUPPORTED_KEY_TYPE,
  problemOf,
  verifyPodProof,
  type ClusterConfig,
  type CsrKey,
  type ParsedSpki,
  type PodSignRequest,
} from "@edgeca/shared";
import { InvalidRequestError, PolicyDeniedError } from "./errors.ts";
import { keyTypeOf, type SignFacts } from "./sign-facts.ts";

/** 422 with the PodCertificateRequest `Denied` reason the API names for it (`reason` in the problem). */
export class PodDeniedError extends PolicyDeniedError {
  constructor(
    message: string,
    readonly reason: string,
  ) {
    super(message);
  }

  override toResponse(): Response {
    return new Response(JSON.stringify({ ...problemOf(this.code, this.message), reason: this.reason }), {
      status: this.status,
      headers: { "content-type": "application/problem+json", "cache-control": "no-store" },
    });
  }
}

/** What the pod profile admits into the certificate. */
export interface PodApproved {
  readonly spiffeId: string;
  readonly spki: ParsedSpki;
  readonly key: CsrKey;
  /** Seconds: the smaller of the request's maxExpirationSeconds and the cluster's maximum. */
  readonly lifetimeSeconds: number;
}

function decode(value: string, field: string): Uint8Array {
  try {
    return fromBase64(value);
  } catch (error) {
    throw new InvalidRequestError(`${field}: ${error instanceof Error ? error.message : "not base64"}`, { cause: error });
  }
}

function readKey(request: PodSignRequest): { spki: ParsedSpki; key: CsrKey } {
  // parseSpkiDer's messages already start "pkixPublicKey: "; only the key's own faults need the prefix.
  const spki = asInvalidRequest(() => parseSpkiDer(decode(request.pkixPublicKey, "pkixPublicKey")), "");
  return { spki, key: asInvalidRequest(() => csrKey(spki), "pkixPublicKey: malformed public key: ") };
}

/** Malformed input as 400 naming it; anything else (a bug) propagates as itself. */
function asInvalidRequest<T>(read: () => T, prefix: string): T {
  try {
    return read();
  } catch (error) {
    if (error instanceof MalformedInputError) throw new InvalidRequestError(`${prefix}${error.message}`, { cause: error });
    throw error;
  }
}

function checkKeyType(key: CsrKey): void {
  if (key.kind === "ec" && (key.curve === "P-256" || key.curve === "P-384")) return;
  if (key.kind === "rsa" && key.bits >= 2048 && key.bits <= 4096 && key.exponent === 65537) return;
  const what = key.kind === "rsa" && key.bits >= 2048 && key.bits <= 4096 ? `RSA-${key.bits} with public exponent ${key.exponent} (only 65537)` : key.kind === "ec" || key.kind === "rsa" ? keyTypeOf(key) : "Ed25519 (or another algorithm)";
  throw new PodDeniedError(`key type ${what} is not supported; use ECDSA P-256 (keyType ECDSAP256), ECDSA P-384, RSA 3072 or RSA 4096`, POD_REASON_UNSUPPORTED_KEY_TYPE);
}

/** Applies the pod profile of `cluster` to a request, proof of possession included. */
export async function screenPod(request: PodSignRequest, cluster: ClusterConfig, facts?: SignFacts): Promise<PodApproved> {
  const pods = cluster.podCertificates;
  if (pods?.signerNames.includes(request.signerName) !== true) {
    throw new PolicyDeniedError(`pod certificates are not enabled for signer name "${request.signerName}" in cluster "${cluster.name}" (podCertificates.signerNames)`);
  }
  const node = `system:node:${request.nodeName}`;
  if (request.requestor.username !== node) {
    throw new PolicyDeniedError(`requestor "${request.requestor.username}" is not the node the request names ("${node}")`);
  }
  const annotations = request.unverifiedUserAnnotationKeys ?? [];
  if (annotations.length > 0) {
    throw new PodDeniedError(`unverifiedUserAnnotations are not supported by this signer; found ${annotations.slice(0, 5).map((k) => JSON.stringify(k)).join(", ")}`, POD_REASON_INVALID_USER_ANNOTATIONS);
  }
  if (!isDnsLabel(request.namespace)) throw new InvalidRequestError(`namespace "${request.namespace}" is not a DNS label`);
  if (!isDnsSubdomain(request.serviceAccountName)) throw new InvalidRequestError(`serviceAccountName "${request.serviceAccountName}" is not a DNS subdomain`);
  const spiffeId = podSpiffeId(cluster.policy.trustDomain, request.namespace, request.serviceAccountName);
  if (facts !== undefined) facts.spiffeId = spiffeId;
  const { spki, key } = readKey(request);
  if (facts !== undefined) facts.keyType = keyTypeOf(key);
  checkKeyType(key);
  let proven;
  try {
    proven = await verifyPodProof(spki, key, request.podUID, decode(request.proofOfPossession, "proofOfPossession"));
  } catch (error) {
    if (error instanceof CsrError) throw new InvalidRequestError(error.message, { cause: error });
    throw error;
  }
  if (!proven) throw new InvalidRequestError("proofOfPossession: the signature over the pod UID does not verify with pkixPublicKey");
  return { spiffeId, spki, key, lifetimeSeconds: Math.min(request.maxExpirationSeconds, pods.maxLifetimeSeconds) };
}
