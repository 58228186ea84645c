/**
 * The workloads of a small bookinfo mesh, each run as a real pilot-agent (a sidecar without Envoy) with its
 * own ServiceAccount token: bookinfo's sidecars with upstream's default key (RSA-2048, one agent per pod, so
 * replicas share an identity), ECDSA P-256 sidecars in `shop` and P-384 ones in `ledger`
 * (`ECC_SIGNATURE_ALGORITHM=ECDSA`, `ECC_CURVE`), and one workload the signer must refuse: a sidecar set to
 * RSA-5120 (`WORKLOAD_RSA_KEY_SIZE=5120`), which Istio accepts (its minimum is 2048) and edgeca's policy
 * does not (RSA 2048–4096). Not RSA-8192: Go's key generation for it takes minutes on a busy 2-core machine
 * (6144: about a minute; 5120: about 10 s).
 *
 * A foreign trust domain cannot be the refusal here: the real istiod compares the CSR's SPIFFE ID with the
 * caller's token identity and refuses a mismatch itself, before any Kubernetes CSR exists.
 */
import type { AgentKey } from "@edgeca/testenv";

export interface PlannedWorkload {
  /** e.g. "bookinfo/reviews-v2 (sidecar, RSA-2048)". */
  readonly title: string;
  readonly namespace: string;
  readonly serviceAccount: string;
  readonly podName: string;
  readonly key: AgentKey;
  readonly expect: "issued" | "refused";
}

const RSA2048: AgentKey = { rsaBits: 2048 };

const sidecar = (namespace: string, pod: string, serviceAccount: string, key: AgentKey = RSA2048): PlannedWorkload => ({
  title: `${namespace}/${pod} (sidecar, ${keyName(key)})`,
  namespace,
  serviceAccount,
  podName: `${pod}-0`,
  key,
  expect: "issued",
});

/** "RSA-2048", "ECDSA P-256". */
export function keyName(key: AgentKey): string {
  return "rsaBits" in key ? `RSA-${String(key.rsaBits)}` : `ECDSA ${key.ecdsaCurve.replace("P", "P-")}`;
}

/** The mesh's workloads (the demo's signer and istiod use trust domain `cluster.local`). */
export function meshPlan(): readonly PlannedWorkload[] {
  return [
    sidecar("bookinfo", "productpage-v1", "bookinfo-productpage"),
    sidecar("bookinfo", "details-v1", "bookinfo-details"),
    sidecar("bookinfo", "reviews-v1", "bookinfo-reviews"),
    sidecar("bookinfo", "reviews-v2", "bookinfo-reviews"),
    sidecar("bookinfo", "reviews-v3", "bookinfo-reviews"),
    sidecar("bookinfo", "ratings-v1", "bookinfo-ratings"),
    sidecar("istio-system", "istio-ingressgateway", "istio-ingressgateway-service-account"),
    sidecar("shop", "cart", "cart", { ecdsaCurve: "P256" }),
    sidecar("shop", "checkout", "checkout", { ecdsaCurve: "P256" }),
    sidecar("shop", "payments", "payments", { ecdsaCurve: "P256" }),
    sidecar("ledger", "ledger-writer", "ledger-writer", { ecdsaCurve: "P384" }),
    sidecar("ledger", "ledger-reader", "ledger-reader", { ecdsaCurve: "P384" }),
    {
      title: "bookinfo/legacy-v1 (sidecar, RSA-5120: must be refused by the signer)",
      namespace: "bookinfo",
      serviceAccount: "bookinfo-legacy",
      podName: "legacy-v1-0",
      key: { rsaBits: 5120 },
      expect: "refused",
    },
  ];
}
