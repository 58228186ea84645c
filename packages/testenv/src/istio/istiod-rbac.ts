/**
 * The Kubernetes permissions istiod has for the CSR API: the certificate rules of Istio's chart
 * (`manifests/charts/istio-control/istio-discovery/templates/clusterrole.yaml`, "Istiod and bootstrap")
 * plus the `approve` rule on the external signer that the Custom CA task's overlay adds
 * (`global.certSigners`). Nothing more: the RA flow must work with exactly this.
 */

export const ISTIOD_NAMESPACE = "istio-system";
export const ISTIOD_SERVICE_ACCOUNT = "istiod";

/** The ClusterRole and ClusterRoleBinding, as objects ready for the apiserver. */
export function istiodRbac(signerName: string): readonly Record<string, unknown>[] {
  const name = "istiod-clusterrole-istio-system";
  return [
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRole",
      metadata: { name, labels: { app: "istiod" } },
      rules: [
        {
          apiGroups: ["certificates.k8s.io"],
          resources: ["certificatesigningrequests", "certificatesigningrequests/approval", "certificatesigningrequests/status"],
          verbs: ["update", "create", "get", "delete", "watch"],
        },
        { apiGroups: ["certificates.k8s.io"], resources: ["signers"], resourceNames: [signerName], verbs: ["approve"] },
      ],
    },
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRoleBinding",
      metadata: { name: "istiod-clusterrole-istio-system" },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name },
      subjects: [{ kind: "ServiceAccount", name: ISTIOD_SERVICE_ACCOUNT, namespace: ISTIOD_NAMESPACE }],
    },
  ];
}
