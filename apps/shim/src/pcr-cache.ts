/**
 * The shim's view of the PodCertificateRequests for its signer names: the same list+watch loop as for CSRs
 * (csr-cache.ts), over `certificates.k8s.io/v1beta1` podcertificaterequests in every namespace, with
 * `fieldSelector=spec.signerName=<name>` (a field label kube-apiserver supports for this kind), keyed by
 * `namespace/name`. Only where the API is served: `podCertificateRequestsServed` asks discovery.
 */
import { CertificatesV1beta1Api, type KubeConfig, type V1beta1PodCertificateRequest } from "@kubernetes/client-node";
import { hasSignerShape, WatchCache, type CsrCacheOptions, type WatchedResource } from "./csr-cache.ts";
import { kubeStatus } from "./kube-error.ts";
import { pcrKey } from "./pcr-status.ts";

/** PodCertificateRequests (certificates.k8s.io/v1beta1, Kubernetes 1.35 with the PodCertificateRequest gate). */
export function pcrResource(): WatchedResource<V1beta1PodCertificateRequest> {
  return {
    kind: "PodCertificateRequests",
    watchPath: "/apis/certificates.k8s.io/v1beta1/podcertificaterequests",
    keyOf: pcrKey,
    is: (obj): obj is V1beta1PodCertificateRequest => hasSignerShape(obj),
  };
}

/** The PodCertificateRequest cache. */
export class PcrCache extends WatchCache<V1beta1PodCertificateRequest> {
  constructor(options: CsrCacheOptions) {
    super(options, pcrResource());
  }
}

/** Whether kube-apiserver serves certificates.k8s.io/v1beta1 podcertificaterequests (discovery; 404: not). */
export async function podCertificateRequestsServed(kubeConfig: KubeConfig): Promise<boolean> {
  try {
    const resources = await kubeConfig.makeApiClient(CertificatesV1beta1Api).getAPIResources();
    return resources.resources.some((r) => r.name === "podcertificaterequests");
  } catch (error) {
    if (kubeStatus(error) === 404) return false;
    throw error;
  }
}
