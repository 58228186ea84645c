/**
 * Writes to a PodCertificateRequest's `/status` subresource (certificates.k8s.io/v1beta1, Kubernetes 1.35):
 * exactly one terminal condition — `Issued` with the chain, notBefore, beginRefreshAt and notAfter, or
 * `Denied` / `Failed` with nothing else — as kube-apiserver's ValidatePodCertificateRequestStatusUpdate
 * requires (no other condition type is accepted; a terminal status is immutable). Conflicts (409) re-read
 * and re-check; NotFound (404) means the kubelet or the cleaner deleted it. The calls go over the shim's
 * JSON client (apiserver-client.ts), as the CSR status writes do: faults are `ApiserverHttp<status>` or
 * `ApiserverUnreachable` (kube-error.ts).
 */
import type { KubeConfig, V1beta1PodCertificateRequest, V1Condition } from "@kubernetes/client-node";
import type { PodSignResponse } from "@edgeca/shared";
import { ApiserverClient } from "./apiserver-client.ts";
import type { WriteOutcome } from "./csr-status.ts";
import { kubeStatus } from "./kube-error.ts";

const MAX_CONFLICTS = 5;
const TERMINAL = new Set(["Issued", "Denied", "Failed"]);
const PCRS = "/apis/certificates.k8s.io/v1beta1/namespaces";

/** The two calls `writePcrStatus` makes; client-node's CertificatesV1beta1Api has them too. */
export interface PcrStatusApi {
  replaceNamespacedPodCertificateRequestStatus(param: { name: string; namespace: string; body: V1beta1PodCertificateRequest }): Promise<V1beta1PodCertificateRequest>;
  readNamespacedPodCertificateRequest(param: { name: string; namespace: string }): Promise<V1beta1PodCertificateRequest>;
}

/** The status calls over the shim's JSON client (apiserver-client.ts): plain JSON both ways. */
export function pcrStatusApi(kubeConfig: KubeConfig): PcrStatusApi {
  const client = ApiserverClient.for(kubeConfig);
  const path = (namespace: string, name: string): string => `${PCRS}/${encodeURIComponent(namespace)}/podcertificaterequests/${encodeURIComponent(name)}`;
  return {
    replaceNamespacedPodCertificateRequestStatus: ({ name, namespace, body }) => client.json("PUT", `${path(namespace, name)}/status`, body),
    readNamespacedPodCertificateRequest: ({ name, namespace }) => client.json("GET", path(namespace, name)),
  };
}

/** True once the request is issued, denied or failed: nothing may be written any more. */
export function isPcrFinished(pcr: V1beta1PodCertificateRequest): boolean {
  if ((pcr.status?.certificateChain ?? "") !== "") return true;
  return (pcr.status?.conditions ?? []).some((c) => TERMINAL.has(c.type) && c.status === "True");
}

/** True when the request waits for the signer (there is no approval step for pod certificates). */
export function needsPodSigning(pcr: V1beta1PodCertificateRequest): boolean {
  return !isPcrFinished(pcr);
}

/** The cache key of a PodCertificateRequest: `namespace/name`. */
export function pcrKey(pcr: V1beta1PodCertificateRequest): string | undefined {
  const { namespace, name } = pcr.metadata ?? {};
  return namespace === undefined || name === undefined ? undefined : `${namespace}/${name}`;
}

/** Applies `change` to the freshest copy and replaces the status, as csr-status.ts `writeStatus` does for CSRs. */
export async function writePcrStatus(
  api: PcrStatusApi,
  pcr: V1beta1PodCertificateRequest,
  change: (fresh: V1beta1PodCertificateRequest) => V1beta1PodCertificateRequest | undefined,
): Promise<{ outcome: WriteOutcome; pcr?: V1beta1PodCertificateRequest }> {
  const name = pcr.metadata?.name ?? "";
  const namespace = pcr.metadata?.namespace ?? "";
  let current = pcr;
  for (let attempt = 0; ; attempt++) {
    const next = change(structuredClone(current));
    if (next === undefined) return { outcome: "skipped", pcr: current };
    try {
      return { outcome: "written", pcr: await api.replaceNamespacedPodCertificateRequestStatus({ name, namespace, body: next }) };
    } catch (error) {
      const status = kubeStatus(error);
      if (status === 404) return { outcome: "gone" };
      if (status !== 409 || attempt + 1 >= MAX_CONFLICTS) throw error;
    }
    try {
      current = await api.readNamespacedPodCertificateRequest({ name, namespace });
    } catch (error) {
      if (kubeStatus(error) === 404) return { outcome: "gone" };
      throw error;
    }
  }
}

function condition(type: "Issued" | "Denied" | "Failed", reason: string, message: string, now: Date, pcr: V1beta1PodCertificateRequest): V1Condition {
  const generation = pcr.metadata?.generation;
  // metav1.Condition: reason is a CamelCase identifier, message at most 32 768 characters.
  return { type, status: "True", reason, message: message.slice(0, 32_768), lastTransitionTime: now, ...(generation === undefined ? {} : { observedGeneration: generation }) };
}

/** The change that issues `answer` (the signer's, verified), unless the request finished meanwhile. */
export function setPcrIssued(answer: PodSignResponse, now: Date): (pcr: V1beta1PodCertificateRequest) => V1beta1PodCertificateRequest | undefined {
  return (pcr) => {
    if (isPcrFinished(pcr)) return undefined;
    pcr.status = {
      conditions: [condition("Issued", "Issued", "issued by edgeca", now, pcr)],
      certificateChain: answer.certificateChain,
      notBefore: new Date(answer.notBefore),
      beginRefreshAt: new Date(answer.beginRefreshAt),
      notAfter: new Date(answer.notAfter),
    };
    return pcr;
  };
}

/** The change that denies (the signer's policy refused) or fails (it cannot issue) the request; no other field is set. */
export function setPcrRefused(type: "Denied" | "Failed", reason: string, message: string, now: Date): (pcr: V1beta1PodCertificateRequest) => V1beta1PodCertificateRequest | undefined {
  return (pcr) => {
    if (isPcrFinished(pcr)) return undefined;
    pcr.status = { conditions: [condition(type, reason, message, now, pcr)] };
    return pcr;
  };
}
