/** CertificateSigningRequest objects as the cache holds them, built for unit tests. */
import type { V1CertificateSigningRequest, V1CertificateSigningRequestCondition } from "@kubernetes/client-node";

export const TEST_SIGNER = "example.com/foo";

export interface CsrObjectOptions {
  readonly signerName?: string;
  /** PKCS#10 PEM (base64-encoded into spec.request); default: something that is not a CSR. */
  readonly requestPem?: string;
  readonly uid?: string;
  readonly resourceVersion?: string;
  readonly conditions?: readonly ("Approved" | "Denied" | "Failed")[];
  /** PEM chain (base64-encoded into status.certificate). */
  readonly certificatePem?: string;
  readonly created?: Date;
}

/** A CSR named `name`, by default approved, for TEST_SIGNER. */
export function csrObject(name: string, options: CsrObjectOptions = {}): V1CertificateSigningRequest {
  const at = new Date(0);
  const conditions: V1CertificateSigningRequestCondition[] = (options.conditions ?? ["Approved"]).map((type) => ({
    type,
    status: "True",
    reason: `Test${type}`,
    lastUpdateTime: at,
  }));
  return {
    apiVersion: "certificates.k8s.io/v1",
    kind: "CertificateSigningRequest",
    metadata: {
      name,
      uid: options.uid ?? `uid-${name}`,
      resourceVersion: options.resourceVersion ?? "1",
      ...(options.created === undefined ? {} : { creationTimestamp: options.created }),
    },
    spec: {
      signerName: options.signerName ?? TEST_SIGNER,
      request: Buffer.from(options.requestPem ?? "not a certificate request", "utf8").toString("base64"),
      usages: ["digital signature", "key encipherment", "client auth", "server auth"],
      username: "system:serviceaccount:istio-system:istiod",
    },
    status: {
      conditions,
      ...(options.certificatePem === undefined ? {} : { certificate: Buffer.from(options.certificatePem, "utf8").toString("base64") }),
    },
  };
}

/** The PEM in `csr`'s status.certificate, or undefined. */
export function certificateOf(csr: V1CertificateSigningRequest | undefined): string | undefined {
  const b64 = csr?.status?.certificate;
  return b64 === undefined ? undefined : Buffer.from(b64, "base64").toString("utf8");
}
