import { describe, expect, test } from "vitest";
import { useControlPlane } from "../vitest/index.ts";
import { eventually, uniqueName } from "./test-helpers.ts";

const cp = useControlPlane();

describe("RBAC on the real apiserver", () => {
  test("a ServiceAccount without bindings is denied, and allowed once a RoleBinding grants the verb", async () => {
    const ns = uniqueName("rbac");
    const token = await cp.mintToken({ namespace: ns, serviceAccount: "reader" });
    const reader = cp.clientForToken(token);
    const path = `/api/v1/namespaces/${ns}/configmaps`;

    const denied = await reader.send("GET", path);
    expect(denied.status).toBe(403);
    expect(denied.text).toContain(`system:serviceaccount:${ns}:reader`);

    await cp.admin.request("POST", `/apis/rbac.authorization.k8s.io/v1/namespaces/${ns}/roles`, {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "Role",
      metadata: { name: "configmap-reader" },
      rules: [{ apiGroups: [""], resources: ["configmaps"], verbs: ["get", "list"] }],
    });
    await cp.admin.request("POST", `/apis/rbac.authorization.k8s.io/v1/namespaces/${ns}/rolebindings`, {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "RoleBinding",
      metadata: { name: "reader" },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "configmap-reader" },
      subjects: [{ kind: "ServiceAccount", name: "reader", namespace: ns }],
    });

    const allowed = await eventually(
      () => reader.send("GET", path),
      (r) => r.status === 200,
    );
    expect(allowed.status).toBe(200);
    // The binding grants exactly what it says: secrets stay forbidden.
    expect((await reader.send("GET", `/api/v1/namespaces/${ns}/secrets`)).status).toBe(403);
  });

  test("a token for another audience is not accepted by the apiserver", async () => {
    const ns = uniqueName("aud");
    const token = await cp.mintToken({ namespace: ns, serviceAccount: "outsider", audiences: ["example.com/foo"] });
    const res = await cp.clientForToken(token).send("GET", "/api");
    expect(res.status).toBe(401);
  });
});
