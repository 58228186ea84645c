/**
 * How a refusal lands on the CSR, end to end: a policy refusal by the signer becomes Failed with a reason
 * and a Warning Event at once; an answer that fails the shim's verification is never written and, repeated,
 * ends Failed; a 401 for the shim's own credentials is not the CSR's fault, so it is retried, never Failed.
 * A control plane of this file's own; each test starts the shim it needs (with a fault of its own for the
 * last two) and stops it, so none depends on another having run.
 */
import { copyFile } from "node:fs/promises";
import { expect, it } from "vitest";
import { z } from "zod";
import type { SignerClient } from "../../src/signer-client.ts";
import { conditionOf, getCsr, issued, waitForCsr } from "../support/csr-api.ts";
import { counterTotal } from "../support/metric-value.ts";
import { until } from "../support/until.ts";
import { workloadCsr } from "../support/workload-csr.ts";
import { spiffe, TOKEN_AUDIENCE, type RunningShim, type StartShimOptions } from "./harness.ts";
import { useOwnStack } from "./own-stack.ts";

const own = useOwnStack();

/** Runs `test` with a shim started as `identity` that leads; stops it afterwards. */
async function withLeader(identity: string, options: StartShimOptions, test: (running: RunningShim) => Promise<void>): Promise<void> {
  const running = await own.stack.startShim(identity, options);
  try {
    expect(await until(() => running.shim.isLeader(), Boolean, 15_000), `${identity} leads`).toBe(true);
    await test(running);
  } finally {
    await running.shim.stop();
  }
}

const Events = z.object({ items: z.array(z.object({ type: z.string(), reason: z.string(), note: z.string().optional(), regarding: z.object({ name: z.string() }).loose() }).loose()) });

it("turns a policy refusal into Failed with a TitleCase reason and a Warning Event within seconds", async () => {
  const { cp, stack } = own;
  await withLeader("shim-policy", {}, async (running) => {
    const started = Date.now();
    // A SPIFFE ID outside the configured trust domain: well-formed, refused by policy (422 policy_denied).
    const { name } = await stack.requestAsIstiod("e2e-refused", "ztunnel-p256", "spiffe://evil.example/ns/e2e/sa/web");
    const done = await waitForCsr(stack.istiod, name, (c) => conditionOf(c, "Failed") !== undefined, 10_000);
    const failed = conditionOf(done, "Failed");
    expect(failed?.reason).toBe("PolicyDenied");
    expect(failed?.message ?? "").not.toBe("");
    expect(issued(done)).toBe(false);
    expect(Date.now() - started).toBeLessThan(10_000);
    const events = await until(
      async () => Events.parse(await cp.admin.request("GET", "/apis/events.k8s.io/v1/namespaces/default/events")).items.filter((e) => e.regarding.name === name),
      (items) => items.length > 0,
    );
    expect(events[0]?.type).toBe("Warning");
    expect(events[0]?.reason).toBe("PolicyDenied");
    expect(await counterTotal(running.shim.metrics.failed, { reason: "PolicyDenied" })).toBeGreaterThan(0);
  });
});

it("never writes an answer that fails verification, and marks the CSR Failed after repeated bad answers", async () => {
  const { cp, stack } = own;
  // No real signer hands out a certificate for the wrong key, so this shim's signer client is the real one
  // with the answer swapped: the real signer's certificate for a different key with the same SPIFFE ID.
  // Only sign, bundle and close: without the real client's signBatch, every CSR goes through this sign.
  const swap = (real: SignerClient): SignerClient => ({
    async sign(request, signal) {
      const other = await workloadCsr("ztunnel-p256", spiffe("e2e", "tampered"));
      return await real.sign({ ...request, csr: other.pem }, signal);
    },
    bundle: (signal) => real.bundle(signal),
    close: () => { real.close(); },
  });
  await withLeader("shim-bad-answers", { wrap: swap }, async (tampering) => {
    const { name } = await stack.requestAsIstiod("e2e-bad-answer", "ztunnel-p256", spiffe("e2e", "tampered"));
    const done = await waitForCsr(cp.admin, name, (c) => conditionOf(c, "Failed") !== undefined, 30_000);
    expect(conditionOf(done, "Failed")?.reason).toBe("InvalidSignerAnswer");
    expect(conditionOf(done, "Failed")?.message).toMatch(/public key is not the CSR's/);
    expect(issued(done)).toBe(false);
    expect(await counterTotal(tampering.shim.metrics.verificationFailures)).toBe(5);
    expect(tampering.signer.calls(name)).toBe(5);
  });
});

it("treats a 401 from a misconfigured token as transient (retried, loud, never Failed) and re-reads the token file when it changes", async () => {
  const { cp, stack } = own;
  const tokenFile = await stack.tokenFileFor("not-the-signer");
  await withLeader("shim-wrong-token", { env: { EDGECA_TOKEN_FILE: tokenFile, EDGECA_TOKEN_AUDIENCE: "" } }, async (misconfigured) => {
    const { name } = await stack.requestAsIstiod("e2e-unauthenticated");
    await until(() => counterTotal(misconfigured.shim.metrics.retried, { reason: "Unauthenticated" }), (n) => n >= 2, 10_000);
    const csr = await getCsr(cp.admin, name);
    expect(issued(csr)).toBe(false);
    expect(conditionOf(csr, "Failed")).toBeUndefined();
    expect(misconfigured.logs.some((r) => r.level === "error" && r.msg.includes("refused the shim's credentials"))).toBe(true);
    // Kubelet rotates projected tokens in place; the shim reads the new one on its next request.
    await copyFile(await stack.tokenFileFor(TOKEN_AUDIENCE), tokenFile);
    expect(issued(await waitForCsr(cp.admin, name, issued, 20_000))).toBe(true);
  });
});
