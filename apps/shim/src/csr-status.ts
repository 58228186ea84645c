/**
 * Writes to a CSR's `/status` subresource (certificates.k8s.io/v1): the certificate, or a Failed condition.
 * Conflicts (409) re-read the object and re-check it; NotFound (404) means the requester deleted the CSR
 * (istiod does after 60 s, docs/facts.md "istiod in RA mode") and is not an error.
 */
/* eslint-disable @typescript-eslint/no-misused-spread -- @kubernetes/client-node models are data-only classes (a static attribute map, no instance methods); the API serialises object literals and spread copies identically. */
import type { KubeConfig, V1CertificateSigningRequest, V1CertificateSigningRequestCondition } from "@kubernetes/client-node";
import { ApiserverClient } from "./apiserver-client.ts";
import { kubeStatus } from "./kube-error.ts";

export type WriteOutcome = "written" | "gone" | "skipped";

const MAX_CONFLICTS = 5;
const CSRS = "/apis/certificates.k8s.io/v1/certificatesigningrequests";

/** The two calls `writeStatus` makes; client-node's CertificatesV1Api has them too. */
export interface CsrStatusApi {
  replaceCertificateSigningRequestStatus(param: { name: string; body: V1CertificateSigningRequest }): Promise<V1CertificateSigningRequest>;
  readCertificateSigningRequest(param: { name: string }): Promise<V1CertificateSigningRequest>;
}

/** The status calls over the shim's JSON client (apiserver-client.ts): plain JSON both ways. */
export function csrStatusApi(kubeConfig: KubeConfig): CsrStatusApi {
  const client = ApiserverClient.for(kubeConfig);
  const path = (name: string): string => `${CSRS}/${encodeURIComponent(name)}`;
  return {
    replaceCertificateSigningRequestStatus: ({ name, body }) => client.json("PUT", `${path(name)}/status`, body),
    readCertificateSigningRequest: ({ name }) => client.json("GET", path(name)),
  };
}

/** True when the CSR has a condition of `type` with status True. */
export function hasCondition(csr: V1CertificateSigningRequest, type: string): boolean {
  return (csr.status?.conditions ?? []).some((c) => c.type === type && c.status === "True");
}

/** True when the CSR already carries a certificate. */
export function isIssued(csr: V1CertificateSigningRequest): boolean {
  return (csr.status?.certificate ?? "") !== "";
}

/** True when nothing may be written any more: issued, Failed or Denied. */
export function isFinished(csr: V1CertificateSigningRequest): boolean {
  return isIssued(csr) || hasCondition(csr, "Failed") || hasCondition(csr, "Denied");
}

/** True when the CSR waits for a signature: approved and not finished. */
export function needsSigning(csr: V1CertificateSigningRequest): boolean {
  return hasCondition(csr, "Approved") && !isFinished(csr);
}

/**
 * Applies `change` to the freshest copy of the CSR and replaces its status; `change` returns undefined when
 * there is nothing (more) to write. The copy is shallow: `change` assigns new values (a new `status`) and
 * never mutates the nested objects of its argument, which the cached CSR shares. Resolves the outcome and the freshest object: the one the apiserver
 * returned when written, the copy `change` declined when skipped. Other apiserver faults are thrown as they
 * come (the caller names the side).
 */
export async function writeStatus(
  api: CsrStatusApi,
  csr: V1CertificateSigningRequest,
  change: (fresh: V1CertificateSigningRequest) => V1CertificateSigningRequest | undefined,
): Promise<{ outcome: WriteOutcome; csr?: V1CertificateSigningRequest }> {
  const name = csr.metadata?.name ?? "";
  let current = csr;
  for (let attempt = 0; ; attempt++) {
    // A copy of the top level: the changes below replace `status` with a new object and never touch the
    // nested objects they share with `current` (a deep clone of the whole CSR per write was measurable).
    const next = change({ ...current });
    if (next === undefined) return { outcome: "skipped", csr: current };
    try {
      const written = await api.replaceCertificateSigningRequestStatus({ name, body: next });
      return { outcome: "written", csr: written };
    } catch (error) {
      const status = kubeStatus(error);
      if (status === 404) return { outcome: "gone" };
      if (status !== 409 || attempt + 1 >= MAX_CONFLICTS) throw error;
    }
    try {
      current = await api.readCertificateSigningRequest({ name });
    } catch (error) {
      if (kubeStatus(error) === 404) return { outcome: "gone" };
      throw error;
    }
  }
}

/** The change that sets `status.certificate` to `chainPem`, unless the CSR is finished meanwhile. */
export function setCertificate(chainPem: string): (csr: V1CertificateSigningRequest) => V1CertificateSigningRequest | undefined {
  return (csr) => {
    if (isFinished(csr)) return undefined;
    // status.certificate is []byte in the API, base64 in JSON.
    csr.status = { ...csr.status, certificate: Buffer.from(chainPem, "utf8").toString("base64") };
    return csr;
  };
}

/** The change that appends a Failed condition (one per CSR; conditions are never removed). */
export function setFailed(reason: string, message: string, now: Date): (csr: V1CertificateSigningRequest) => V1CertificateSigningRequest | undefined {
  return (csr) => {
    if (isFinished(csr)) return undefined;
    const condition: V1CertificateSigningRequestCondition = { type: "Failed", status: "True", reason, message, lastUpdateTime: now, lastTransitionTime: now };
    csr.status = { ...csr.status, conditions: [...(csr.status?.conditions ?? []), condition] };
    return csr;
  };
}
