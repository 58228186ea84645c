/**
 * The certificate requests of a small bookinfo-like mesh, as Istio's agents would send them to istiod:
 * sidecars in `bookinfo` (RSA-2048, one request per pod, so replicas share an identity), ztunnel for the
 * ambient `shop` namespace (ECDSA P-256, empty subject), P-384 sidecars in `ledger`, and one request the
 * signer must refuse (a SPIFFE ID outside the trust domain — what a compromised or misconfigured agent
 * could ask for, and what istiod's own approval would let through).
 */
import type { WorkloadKind } from "@edgeca/testenv";

export interface PlannedRequest {
  /** e.g. "bookinfo/reviews-v2 (sidecar)". */
  readonly title: string;
  readonly kind: WorkloadKind;
  readonly trustDomain: string;
  readonly namespace: string;
  readonly serviceAccount: string;
  readonly expect: "issued" | "refused";
}

const sidecar = (namespace: string, pod: string, serviceAccount: string): PlannedRequest => ({
  title: `${namespace}/${pod} (sidecar, RSA-2048)`,
  kind: "sidecar-rsa2048",
  trustDomain: "cluster.local",
  namespace,
  serviceAccount,
  expect: "issued",
});

const ambient = (namespace: string, serviceAccount: string): PlannedRequest => ({
  title: `${namespace}/${serviceAccount} (ztunnel, P-256)`,
  kind: "ztunnel-p256",
  trustDomain: "cluster.local",
  namespace,
  serviceAccount,
  expect: "issued",
});

const p384 = (namespace: string, serviceAccount: string): PlannedRequest => ({
  title: `${namespace}/${serviceAccount} (sidecar, P-384)`,
  kind: "sidecar-p384",
  trustDomain: "cluster.local",
  namespace,
  serviceAccount,
  expect: "issued",
});

/** The mesh's requests in the given trust domain (the demo's signer is configured for `cluster.local`). */
export function meshPlan(trustDomain: string): readonly PlannedRequest[] {
  const plan: PlannedRequest[] = [
    sidecar("bookinfo", "productpage-v1", "bookinfo-productpage"),
    sidecar("bookinfo", "details-v1", "bookinfo-details"),
    sidecar("bookinfo", "reviews-v1", "bookinfo-reviews"),
    sidecar("bookinfo", "reviews-v2", "bookinfo-reviews"),
    sidecar("bookinfo", "reviews-v3", "bookinfo-reviews"),
    sidecar("bookinfo", "ratings-v1", "bookinfo-ratings"),
    sidecar("istio-system", "istio-ingressgateway", "istio-ingressgateway-service-account"),
    ambient("shop", "cart"),
    ambient("shop", "checkout"),
    ambient("shop", "payments"),
    ambient("shop", "frontend"),
    p384("ledger", "ledger-writer"),
    p384("ledger", "ledger-reader"),
    {
      title: "bookinfo/productpage claiming spiffe://evil.example (must be refused)",
      kind: "ztunnel-p256",
      trustDomain: "evil.example",
      namespace: "bookinfo",
      serviceAccount: "bookinfo-productpage",
      expect: "refused",
    },
  ];
  return plan.map((p) => (p.expect === "issued" ? { ...p, trustDomain } : p));
}
