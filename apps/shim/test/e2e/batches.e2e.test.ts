/**
 * Batches end to end (issue 8): CSRs that wait for the signer go to the real Worker as POST /v1/sign-batch.
 * A control plane of this file's own, the real Worker in workerd behind the edge, and a shim started as
 * production starts it (startShim building its own signer client, so the batcher and the metrics are the
 * real ones). The CSRs are created and approved before the shim leads, so its workers meet them all at
 * once: a burst, whatever the machine's speed.
 */
import { X509Certificate } from "node:crypto";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { SignRequest } from "@edgeca/shared";
import { KubeConfig } from "@kubernetes/client-node";
import { expect, it } from "vitest";
import type { LogRecord } from "../../src/logger.ts";
import { createDefaultSigner, startShim, type Shim, type ShimDeps } from "../../src/shim.ts";
import { metricValue } from "../support/metric-value.ts";
import { until } from "../support/until.ts";
import { chainOf, conditionOf, issued, waitForCsr, type Csr } from "../support/csr-api.ts";
import type { WorkloadCsr } from "../support/workload-csr.ts";
import { spiffe } from "./harness.ts";
import { useOwnStack } from "./own-stack.ts";
import { certificates } from "./published-roots.ts";

const own = useOwnStack();

/** Starts a shim as `identity` with `deps` (none: its own signer client and metrics), waits until it leads, runs `test`, stops it. */
async function withShim(identity: string, deps: Partial<ShimDeps>, test: (shim: Shim, logs: LogRecord[]) => Promise<void>): Promise<void> {
  const { stack } = own;
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(stack.shimKubeconfigPath);
  const logs: LogRecord[] = [];
  const shim = await startShim(stack.config(identity), { kubeConfig, logSink: (r) => logs.push(r), ...deps });
  try {
    expect(await until(() => shim.isLeader(), Boolean, 15_000), `${identity} leads`).toBe(true);
    await test(shim, logs);
  } finally {
    await shim.stop();
  }
}

/** Checks `done` carries a chain for `csr`'s key that verifies, link by link, to the root from `edgeca init`. */
function expectVerifiedChain(done: Csr | undefined, csr: WorkloadCsr, spki: Buffer, root: X509Certificate): void {
  const chain = certificates(chainOf(done));
  const [leaf] = chain;
  expect(leaf?.publicKey.export({ type: "spki", format: "der" }).equals(spki)).toBe(true);
  for (const [i, cert] of chain.entries()) {
    const issuer = chain[i + 1] ?? root;
    expect(cert.checkIssued(issuer) && cert.verify(issuer.publicKey)).toBe(true);
  }
  expect(leaf?.subjectAltName).toBe(`URI:${csr.spiffeId}`);
}

it("issues a burst of 40 CSRs in batches of more than one, each with a verified certificate", async () => {
  const { stack } = own;
  const root = new X509Certificate(await readFile(join(stack.materialDir, "root-cert.pem")));
  const burst = await Promise.all(Array.from({ length: 40 }, (_v, i) => stack.requestAsIstiod("e2e-burst", "ztunnel-p256", spiffe("burst", `web-${i}`))));
  await withShim("shim-burst", {}, async (shim) => {
    const done = await Promise.all(burst.map(({ name }) => waitForCsr(stack.istiod, name, issued, 60_000)));
    expect(done.filter(issued)).toHaveLength(40);
    for (const [i, { csr }] of burst.entries()) {
      expectVerifiedChain(done[i], csr, Buffer.from(await crypto.subtle.exportKey("spki", csr.keys.publicKey)), root);
    }
    // What an operator sees: requests to the signer carrying several CSRs, fewer requests than CSRs.
    const m = (name: string, labels: Record<string, string> = {}) => metricValue(shim.metrics.registry, name, labels);
    const [requests, items] = [await m("edgeca_shim_signer_batch_items_count"), await m("edgeca_shim_signer_batch_items_sum")];
    expect(items).toBe(40);
    expect(requests).toBeLessThan(40);
    expect(await m("edgeca_shim_signer_request_duration_seconds_count", { endpoint: "v1/sign-batch", status: "200" })).toBeGreaterThan(0);
    // As Prometheus scrapes it: the requests that carried one CSR (bucket le="1") are fewer than all of them.
    const text = await (await fetch(`http://127.0.0.1:${shim.port}/metrics`)).text();
    const alone = Number(/^edgeca_shim_signer_batch_items_bucket\{le="1"\} (\d+)$/m.exec(text)?.[1]);
    expect(alone).toBeLessThan(requests);
  });
}, 120_000);

it("fails a denied CSR carried in a batch with its reason while the batch's others are issued", async () => {
  const { stack } = own;
  const root = new X509Certificate(await readFile(join(stack.materialDir, "root-cert.pem")));
  const allowed = await Promise.all(Array.from({ length: 20 }, (_v, i) => stack.requestAsIstiod("e2e-mixed", "ztunnel-p256", spiffe("mixed", `web-${i}`))));
  // Outside the configured trust domain: well-formed, refused by the signer's policy (policy_denied).
  const denied = await Promise.all(Array.from({ length: 4 }, (_v, i) => stack.requestAsIstiod("e2e-mixed-zz-denied", "ztunnel-p256", `spiffe://evil.example/ns/mixed/sa/web-${i}`)));
  const deniedNames = new Set(denied.map((d) => d.name));
  // A layer around the real client that only records which CSRs each batch carried.
  const batches: string[][] = [];
  const real = createDefaultSigner(stack.config("shim-mixed"));
  const recording = { ...real, signBatch: (requests: readonly SignRequest[], signal?: AbortSignal) => { batches.push(requests.map((r) => r.object?.name ?? "")); return real.signBatch(requests, signal); } };
  await withShim("shim-mixed", { signer: recording }, async (_shim, logs) => {
    const failed = await Promise.all(denied.map(({ name }) => waitForCsr(stack.istiod, name, (c) => conditionOf(c, "Failed") !== undefined, 60_000)));
    for (const csr of failed) {
      expect(conditionOf(csr, "Failed")?.reason).toBe("PolicyDenied");
      expect(conditionOf(csr, "Failed")?.message).toMatch(/evil\.example/);
      expect(issued(csr)).toBe(false);
    }
    const done = await Promise.all(allowed.map(({ name }) => waitForCsr(stack.istiod, name, issued, 60_000)));
    for (const [i, { csr }] of allowed.entries()) {
      expectVerifiedChain(done[i], csr, Buffer.from(await crypto.subtle.exportKey("spki", csr.keys.publicKey)), root);
    }
    // Denied CSRs travelled in batches beside CSRs that were issued from the same batch.
    const mixed = batches.filter((b) => b.some((n) => deniedNames.has(n)) && b.some((n) => !deniedNames.has(n)));
    expect(mixed.length).toBeGreaterThan(0);
    expect(logs.filter((r) => r.level === "warn" && r.msg.includes("sign-batch"))).toEqual([]);
  });
}, 120_000);
