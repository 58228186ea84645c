/**
 * The requests Istio's agents send (istio/istio `security/pkg/pki/util/generate_csr.go`,
 * `pkg/istio-agent`), by component: the sidecar agent's RSA-2048 request, ztunnel's ECDSA P-256 request,
 * and the P-384 variant (`ECC_SIGNATURE_ALGORITHM=ECDSA`, `ECC_CURVE=P384`), each for one workload identity.
 */
import { createIstioCsr, type CsrKeyType, type IstioCsr } from "./istio-csr.ts";

/** Which Istio component's request to imitate. */
export type WorkloadKind = "sidecar-rsa2048" | "ztunnel-p256" | "sidecar-p384";

export const WORKLOAD_KINDS: readonly WorkloadKind[] = ["sidecar-rsa2048", "ztunnel-p256", "sidecar-p384"];

export interface WorkloadIdentity {
  readonly trustDomain: string;
  readonly namespace: string;
  readonly serviceAccount: string;
}

export interface WorkloadCsr extends IstioCsr {
  readonly kind: WorkloadKind;
  readonly spiffeId: string;
}

/** `spiffe://<trust-domain>/ns/<namespace>/sa/<service account>`, Istio's workload identity. */
export function spiffeIdOf(id: WorkloadIdentity): string {
  return `spiffe://${id.trustDomain}/ns/${id.namespace}/sa/${id.serviceAccount}`;
}

const KEY_TYPES: Record<WorkloadKind, CsrKeyType> = {
  "sidecar-rsa2048": "RSA-2048",
  "ztunnel-p256": "P-256",
  "sidecar-p384": "P-384",
};

/** Generates a fresh key pair and the PKCS#10 request an Istio agent of that kind would send. */
export async function createWorkloadCsr(kind: WorkloadKind, id: WorkloadIdentity): Promise<WorkloadCsr> {
  const spiffeId = spiffeIdOf(id);
  // Sidecars send subject O="" (the agent's empty org option); ztunnel sends an empty subject.
  const csr = await createIstioCsr({ keyType: KEY_TYPES[kind], uris: [spiffeId], subject: kind === "ztunnel-p256" ? "" : "O=" });
  return { ...csr, kind, spiffeId };
}
