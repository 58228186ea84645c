import { describe, expect, test } from "vitest";
import { useControlPlane } from "../vitest/index.ts";
import { clusterGrant, eventually, uniqueName } from "./test-helpers.ts";

const cp = useControlPlane();
const v1beta1 = "/apis/certificates.k8s.io/v1beta1";

interface ResourceList {
  resources: { name: string; kind: string }[];
}

describe("certificates.k8s.io/v1beta1 on the real apiserver", () => {
  test("serves ClusterTrustBundle and PodCertificateRequest", async () => {
    const list = (await cp.admin.request("GET", v1beta1)) as ResourceList;
    const names = list.resources.map((r) => r.name);
    expect(names).toContain("clustertrustbundles");
    expect(names).toContain("podcertificaterequests");
    expect(names).toContain("podcertificaterequests/status");

    const ns = uniqueName("pcr");
    await cp.ensureNamespace(ns);
    const pcrs = (await cp.admin.request("GET", `${v1beta1}/namespaces/${ns}/podcertificaterequests`)) as { kind: string; items: unknown[] };
    expect(pcrs.kind).toBe("PodCertificateRequestList");
    expect(pcrs.items).toEqual([]);
  });

  test("a signer-linked ClusterTrustBundle named <signer with : for />:<suffix> is stored and read back", async () => {
    const name = `example.com:foo:${uniqueName("ctb")}`;
    await cp.admin.request("POST", `${v1beta1}/clustertrustbundles`, {
      apiVersion: "certificates.k8s.io/v1beta1",
      kind: "ClusterTrustBundle",
      metadata: { name },
      spec: { signerName: "example.com/foo", trustBundle: cp.caPem },
    });
    const back = (await cp.admin.request("GET", `${v1beta1}/clustertrustbundles/${name}`)) as { spec: { signerName: string; trustBundle: string } };
    expect(back.spec.signerName).toBe("example.com/foo");
    expect(back.spec.trustBundle.trim()).toBe(cp.caPem.trim());

    // The apiserver validates the name against the signer (KEP-3257).
    const misnamed = await cp.admin.send("POST", `${v1beta1}/clustertrustbundles`, {
      apiVersion: "certificates.k8s.io/v1beta1",
      kind: "ClusterTrustBundle",
      metadata: { name: uniqueName("unprefixed") },
      spec: { signerName: "example.com/foo", trustBundle: cp.caPem },
    });
    expect(misnamed.status).toBe(422);
  });

  test("ClusterTrustBundleAttest lets only an identity with `attest` on the signer write its bundle", async () => {
    const ns = uniqueName("ctb");
    const sa = "publisher";
    const [role, binding] = clusterGrant(uniqueName("ctb-write"), ns, sa, [
      { apiGroups: ["certificates.k8s.io"], resources: ["clustertrustbundles"], verbs: ["create", "get", "update"] },
    ]);
    await cp.admin.request("POST", "/apis/rbac.authorization.k8s.io/v1/clusterroles", role);
    await cp.admin.request("POST", "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings", binding);
    const publisher = cp.clientForToken(await cp.mintToken({ namespace: ns, serviceAccount: sa }));
    const bundle = (): unknown => ({
      apiVersion: "certificates.k8s.io/v1beta1",
      kind: "ClusterTrustBundle",
      metadata: { name: `example.com:foo:${uniqueName("attest")}` },
      spec: { signerName: "example.com/foo", trustBundle: cp.caPem },
    });

    const refused = await eventually(
      () => publisher.send("POST", `${v1beta1}/clustertrustbundles`, bundle()),
      (r) => r.text.includes("attest"),
    );
    expect(refused.status).toBe(403);

    const [attestRole, attestBinding] = clusterGrant(uniqueName("ctb-attest"), ns, sa, [
      { apiGroups: ["certificates.k8s.io"], resources: ["signers"], verbs: ["attest"], resourceNames: ["example.com/foo"] },
    ]);
    await cp.admin.request("POST", "/apis/rbac.authorization.k8s.io/v1/clusterroles", attestRole);
    await cp.admin.request("POST", "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings", attestBinding);
    const created = await eventually(
      () => publisher.send("POST", `${v1beta1}/clustertrustbundles`, bundle()),
      (r) => r.status === 201,
    );
    expect(created.status).toBe(201);
  });
});
