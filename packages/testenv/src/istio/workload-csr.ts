/**
 * Certificate requests made the way Istio's agents make them (istio/istio
 * `security/pkg/pki/util/generate_csr.go`, `pkg/istio-agent`): the sidecar agent's RSA-2048 request with
 * an `O=""` subject and one critical URI SAN, ztunnel's ECDSA P-256 request with an empty subject, and the
 * P-384 variant (`ECC_SIGNATURE_ALGORITHM=ECDSA` with `ECC_CURVE=P384`). Keys are generated at run time.
 */
import "reflect-metadata";
import type { webcrypto } from "node:crypto";
import { Name, Pkcs10CertificateRequestGenerator, SubjectAlternativeNameExtension } from "@peculiar/x509";

/** Which Istio component's request to imitate. */
export type WorkloadKind = "sidecar-rsa2048" | "ztunnel-p256" | "sidecar-p384";

export const WORKLOAD_KINDS: readonly WorkloadKind[] = ["sidecar-rsa2048", "ztunnel-p256", "sidecar-p384"];

export interface WorkloadIdentity {
  readonly trustDomain: string;
  readonly namespace: string;
  readonly serviceAccount: string;
}

export interface WorkloadCsr {
  readonly kind: WorkloadKind;
  readonly spiffeId: string;
  /** PKCS#10 PEM, as the agent sends it to istiod and istiod puts it in `spec.request`. */
  readonly csrPem: string;
  /** The workload's key pair (it never leaves the workload in Istio; here it lets the caller check the leaf). */
  readonly keys: webcrypto.CryptoKeyPair;
}

/** `spiffe://<trust-domain>/ns/<namespace>/sa/<service account>`, Istio's workload identity. */
export function spiffeIdOf(id: WorkloadIdentity): string {
  return `spiffe://${id.trustDomain}/ns/${id.namespace}/sa/${id.serviceAccount}`;
}

const ALGORITHMS: Record<WorkloadKind, webcrypto.RsaHashedKeyGenParams | webcrypto.EcKeyGenParams> = {
  "sidecar-rsa2048": { name: "RSASSA-PKCS1-v1_5", modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" },
  "ztunnel-p256": { name: "ECDSA", namedCurve: "P-256" },
  "sidecar-p384": { name: "ECDSA", namedCurve: "P-384" },
};

const SIGNING: Record<WorkloadKind, webcrypto.Algorithm | webcrypto.EcdsaParams> = {
  "sidecar-rsa2048": { name: "RSASSA-PKCS1-v1_5" },
  "ztunnel-p256": { name: "ECDSA", hash: "SHA-256" },
  "sidecar-p384": { name: "ECDSA", hash: "SHA-384" },
};

/** Generates a fresh key pair and the PKCS#10 request an Istio agent of that kind would send. */
export async function createWorkloadCsr(kind: WorkloadKind, id: WorkloadIdentity): Promise<WorkloadCsr> {
  const keys = await crypto.subtle.generateKey(ALGORITHMS[kind], true, ["sign", "verify"]);
  const spiffeId = spiffeIdOf(id);
  // The sidecar agent sets Organization to the (empty) org option: an O attribute with an empty value.
  // ztunnel sends no subject at all.
  const name = kind === "ztunnel-p256" ? new Name([]) : new Name([{ "2.5.4.10": [""] }]);
  const csr = await Pkcs10CertificateRequestGenerator.create({
    name,
    keys,
    signingAlgorithm: SIGNING[kind],
    extensions: [new SubjectAlternativeNameExtension([{ type: "url", value: spiffeId }], true)],
  });
  return { kind, spiffeId, csrPem: csr.toString("pem"), keys };
}
