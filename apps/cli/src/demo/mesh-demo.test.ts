/**
 * The demo flow, non-interactively, on its own local stack (real kube-apiserver, the Worker in workerd behind
 * the edge emulator, the shim with infra/k8s RBAC) with the real istiod and pilot-agents: every intended
 * certificate is issued and verified, the RSA-5120 sidecar is refused with the reason the shim recorded, and
 * no edgeca or workload private key is in the cluster.
 */
import { ensureIstioBinaries } from "@edgeca/testenv";
import { beforeAll, describe, expect, test } from "vitest";
import { runMeshDemo } from "./mesh-demo.ts";
import { meshPlan } from "./mesh-plan.ts";
import { percentile } from "./percentile.ts";

beforeAll(async () => {
  // The first build of istiod and pilot-agent takes about 15 minutes on 2 cores (after etcd and
  // kube-apiserver, which share the build lock); do it, with progress, outside the test's own timeout.
  await ensureIstioBinaries();
}, 45 * 60_000);

describe("npm run demo", () => {
  test("a mesh's pilot-agents get certificates through the real istiod's RA flow: issued and verified, the RSA-5120 sidecar refused with a reason", async () => {
    const lines: string[] = [];
    const result = await runMeshDemo({ print: (l) => lines.push(l), log: () => undefined });
    const plan = meshPlan();
    const intendedRefusals = plan.filter((p) => p.expect === "refused").length;

    expect(result.requested).toBe(plan.length);
    expect(result.issued).toBe(plan.length - intendedRefusals);
    expect(result.verified).toBe(result.issued);
    expect(result.refused).toBe(intendedRefusals);
    expect(result.unexpected, lines.join("\n")).toBe(0);
    expect(result.refusal?.reason).toBe("PolicyDenied");
    expect(result.refusal?.message).toContain("RSA-5120");
    expect(result.privateKeysInCluster).toBe(0);
    expect(result.bundleMatchesSigner).toBe(true);
    expect(result.istiod).toMatch(/^1\.\d+[-.\w]*\+[0-9a-f]{12}$/);
    expect(result.p50Ms).toBeGreaterThan(0);
    expect(result.p99Ms).toBeGreaterThanOrEqual(result.p50Ms);
    expect(lines.join("\n")).toContain("where the keys are:");
    expect(lines.join("\n")).toContain("the agent has no certificate");
    // Issue 13: every issuance and refusal left exactly one audit record; the greedy identity was throttled.
    expect(result.audit?.records).toBe((result.audit?.issued ?? -1) + (result.audit?.refused ?? -1));
    expect(result.audit?.issued).toBeGreaterThanOrEqual(result.issued + (result.greedy?.requested ?? 0));
    expect(result.throttled).toBeGreaterThanOrEqual(1);
    expect(result.greedy).toMatchObject({ requested: 6, issued: 6, failed: 0 });
    expect(lines.join("\n")).toContain("matching the cluster's CSRs");
    // Issue 12: the mesh over two clusters on one signer, each signed by its own issuing CA under the shared
    // root, every workload's chain verified against the other cluster's external-ca-cert.
    expect(result.clusters.map((c) => c.name)).toEqual(["cluster-a", "cluster-b"]);
    for (const c of result.clusters) expect(c.issued, c.name).toBeGreaterThan(0);
    for (const c of result.clusters) expect(c.verified, c.name).toBe(c.issued);
    expect(result.clusters.reduce((n, c) => n + c.issued, 0)).toBe(result.issued);
    expect(new Set(result.clusters.map((c) => c.issuer)).size).toBe(2);
    expect(result.crossClusterVerified).toBe(true);
    // Issue 14: PodCertificateRequests from a node, as the kubelet creates them: issued and verified against
    // the published root; the P-521 one Denied with the API's reason.
    expect(result.podCertificates).toMatchObject({ requested: 2, issued: 2, verified: 2 });
    expect(result.podCertificates.refusal.condition).toMatchObject({ type: "Denied", reason: "UnsupportedKeyType" });
  }, 600_000);
});

describe("percentile", () => {
  test("is the nearest-rank value", () => {
    const values = [5, 1, 4, 2, 3];
    expect(percentile(values, 50)).toBe(3);
    expect(percentile(values, 99)).toBe(5);
    expect(percentile(values, 1)).toBe(1);
    expect(Number.isNaN(percentile([], 50))).toBe(true);
  });
});
