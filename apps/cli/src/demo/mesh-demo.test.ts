/**
 * The demo flow, non-interactively, on its own local stack (real kube-apiserver, the Worker in workerd behind
 * the edge emulator, the shim with infra/k8s RBAC): every intended certificate is issued and verified, the
 * foreign trust domain is refused with the reason the shim recorded, and no private key is in the cluster.
 */
import { describe, expect, test } from "vitest";
import { runMeshDemo } from "./mesh-demo.ts";
import { meshPlan } from "./mesh-plan.ts";
import { percentile } from "./percentile.ts";

describe("npm run demo", () => {
  test("a mesh's requests go through istiod's RA flow: issued and verified, the foreign trust domain refused with a reason", async () => {
    const lines: string[] = [];
    const result = await runMeshDemo({ print: (l) => lines.push(l), log: () => undefined });
    const plan = meshPlan("cluster.local");
    const intendedRefusals = plan.filter((p) => p.expect === "refused").length;

    expect(result.requested).toBe(plan.length);
    expect(result.issued).toBe(plan.length - intendedRefusals);
    expect(result.verified).toBe(result.issued);
    expect(result.refused).toBe(intendedRefusals);
    expect(result.unexpected).toBe(0);
    expect(result.refusal?.reason).toBe("PolicyDenied");
    expect(result.refusal?.message).toContain("evil.example");
    expect(result.privateKeysInCluster).toBe(0);
    expect(result.bundleMatchesSigner).toBe(true);
    expect(result.p50Ms).toBeGreaterThan(0);
    expect(result.p99Ms).toBeGreaterThanOrEqual(result.p50Ms);
    expect(lines.join("\n")).toContain("where the keys are:");
  }, 300_000);
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
