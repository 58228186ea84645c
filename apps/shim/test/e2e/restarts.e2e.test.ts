/**
 * Restarts, end to end: a signer that goes away and comes back (the shim retries, never marks Failed, and
 * issues once it is back), and a leader that stops with a standby running (the standby takes the Lease and
 * signs). A control plane of this file's own; each test starts the shims it needs and stops them, and puts
 * the signer back up, so none depends on another having run.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { expect, it } from "vitest";
import { conditionOf, getCsr, issued, waitForCsr } from "../support/csr-api.ts";
import { counterTotal } from "../support/metric-value.ts";
import { until } from "../support/until.ts";
import { useOwnStack } from "./own-stack.ts";

const own = useOwnStack();

it("retries while the signer is down and issues once it is back, never marking Failed", async () => {
  const { cp, stack } = own;
  const primary = await stack.startShim("shim-a");
  try {
    expect(await until(() => primary.shim.isLeader(), Boolean, 15_000)).toBe(true);
    await stack.stopSigner();
    const retriesBefore = await counterTotal(primary.shim.metrics.retried);
    const { name } = await stack.requestAsIstiod("e2e-signer-down");
    await sleep(3_000);
    const during = await getCsr(cp.admin, name);
    expect(issued(during)).toBe(false);
    expect(conditionOf(during, "Failed")).toBeUndefined();
    expect(await counterTotal(primary.shim.metrics.retried)).toBeGreaterThan(retriesBefore);
    await stack.startSigner();
    const done = await waitForCsr(stack.istiod, name, issued, 20_000);
    expect(issued(done)).toBe(true);
    expect(conditionOf(done, "Failed")).toBeUndefined();
  } finally {
    if (!stack.signerRunning) await stack.startSigner();
    await primary.shim.stop();
  }
});

it("runs two replicas where only the leader signs, and hands over when the leader stops", async () => {
  const { stack } = own;
  const a = await stack.startShim("shim-a");
  const b = await stack.startShim("shim-b");
  try {
    // Either may take the Lease first (both start within a moment of each other): the test follows
    // whichever leads. Exactly one leads, and the other is ready as its standby.
    const oneLeads = (): boolean => a.shim.isLeader() !== b.shim.isLeader();
    const standbyReady = (): boolean => (a.shim.isLeader() ? b : a).shim.notReadyReason() === undefined;
    expect(await until(() => oneLeads() && standbyReady(), Boolean, 15_000)).toBe(true);
    const [primary, standby] = a.shim.isLeader() ? [a, b] : [b, a];
    expect(standby.shim.isLeader()).toBe(false);

    const first = await stack.requestAsIstiod("e2e-leader");
    expect(issued(await waitForCsr(stack.istiod, first.name, issued))).toBe(true);
    expect(primary.signer.calls(first.name)).toBe(1);
    expect(standby.signer.calls(first.name)).toBe(0);

    await primary.shim.stop();
    expect(await until(() => standby.shim.isLeader(), Boolean, 10_000)).toBe(true);
    const second = await stack.requestAsIstiod("e2e-handover");
    expect(issued(await waitForCsr(stack.istiod, second.name, issued))).toBe(true);
    expect(standby.signer.calls(second.name)).toBe(1);
    expect(await counterTotal(standby.shim.metrics.issued)).toBeGreaterThan(0);
  } finally {
    await b.shim.stop();
    await a.shim.stop();
  }
});
