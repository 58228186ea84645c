/**
 * kube-apiserver going away under a running shim (issue 10): /readyz must say so instead of staying 200,
 * and the shim must still stop cleanly. This file starts a control plane of its own (the run's shared one
 * must not die), the real signer and a real shim; the apiserver and etcd are then stopped for real.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { expect, it } from "vitest";
import { issued, waitForCsr } from "../support/csr-api.ts";
import { spiffe } from "./harness.ts";
import { useOwnStack } from "./own-stack.ts";

const own = useOwnStack({ shim: "outage" });

async function readyz(port: number): Promise<{ status: number; body: string }> {
  const res = await fetch(`http://127.0.0.1:${port}/readyz`);
  return { status: res.status, body: await res.text() };
}

it("answers /readyz 503 naming kube-apiserver once it stops answering, and still stops cleanly", async () => {
  const { cp, stack, shim: running } = own;
  const { shim } = running;
  expect(await readyz(shim.port)).toEqual({ status: 200, body: "ok\n" });

  // The stack works before the outage: one CSR through istiod's steps.
  const { name } = await stack.requestAsIstiod("outage", "ztunnel-p256", spiffe("outage", "web"));
  expect(issued(await waitForCsr(stack.istiod, name, issued, 30_000))).toBe(true);

  await cp.stop();
  const deadline = Date.now() + 30_000;
  let answer = await readyz(shim.port);
  while (answer.status === 200 && Date.now() < deadline) {
    await sleep(200);
    answer = await readyz(shim.port);
  }
  expect(answer.status).toBe(503);
  expect(answer.body).toMatch(/kube-apiserver is failing: .+/);
  expect(running.logs.some((r) => r.msg === "list/watch of CSRs failed; retrying")).toBe(true);

  // Stopping must not hang on the Lease release or the watch while the apiserver is gone.
  const stopped = await Promise.race([shim.stop().then(() => "stopped"), sleep(40_000).then(() => "hung")]);
  expect(stopped).toBe("stopped");
}, 120_000);
