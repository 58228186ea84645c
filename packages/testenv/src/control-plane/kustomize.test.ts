import { fileURLToPath } from "node:url";
import { describe, expect, test } from "vitest";
import { useControlPlane } from "../vitest/index.ts";
import { eventually } from "./test-helpers.ts";

const cp = useControlPlane();
const base = fileURLToPath(new URL("../../testdata/kustomization", import.meta.url));
const ns = "edgeca-kustomize";

describe("kubectl against the real apiserver", () => {
  test("`kubectl apply -k` of a kustomization creates its objects, and its RBAC takes effect", async () => {
    const applied = await cp.kubectl(["apply", "-k", base]);
    expect(applied.stderr).toBe("");
    expect(applied.code).toBe(0);
    expect(applied.stdout).toContain("namespace/edgeca-kustomize");
    expect(applied.stdout).toMatch(/configmap\/app-settings-[a-z0-9]+ created/);

    const got = await cp.kubectl(["get", "configmaps", "-n", ns, "-l", "app.kubernetes.io/part-of=edgeca-testenv", "-o", "jsonpath={.items[0].data.signerName}"]);
    expect(got.code).toBe(0);
    expect(got.stdout).toBe("example.com/foo");

    // The ServiceAccount from the manifests reads ConfigMaps through the RoleBinding from the manifests.
    const app = cp.clientForToken(await cp.mintToken({ namespace: ns, serviceAccount: "app" }));
    const read = await eventually(
      () => app.send("GET", `/api/v1/namespaces/${ns}/configmaps`),
      (r) => r.status === 200,
    );
    expect(read.status).toBe(200);
    expect((await app.send("GET", `/api/v1/namespaces/${ns}/secrets`)).status).toBe(403);

    // Applying again changes nothing.
    const again = await cp.kubectl(["apply", "-k", base]);
    expect(again.code).toBe(0);
    expect(again.stdout).not.toContain("created");
    expect(again.stdout).toContain("unchanged");
  });
});
