/**
 * The shim as the image runs it: the one-file bundle (built once for this file, as the Dockerfile builds
 * it) as its own process, configured by the environment alone. SIGTERM stops it cleanly and releases the
 * Lease; SIGKILL leaves the Lease to expire, and a standby takes over. A control plane of this file's own;
 * each test starts the processes and shims it needs and stops them.
 */
import { beforeAll, expect, it } from "vitest";
import { z } from "zod";
import { issued, waitForCsr } from "../support/csr-api.ts";
import { until } from "../support/until.ts";
import { SHIM_NAMESPACE, type RunningShim } from "./harness.ts";
import { useOwnStack } from "./own-stack.ts";
import { buildBundle, startShimProcess } from "./shim-process.ts";

const own = useOwnStack();

beforeAll(buildBundle, 180_000);

it("runs as the image runs it: the one-file bundle, configured by the environment, stopped by SIGTERM", async () => {
  const { cp, stack } = own;
  const bundled = startShimProcess(stack, "shim-bundled");
  try {
    expect(await bundled.leads(), bundled.output()).toBe(true);
    const { name } = await stack.requestAsIstiod("e2e-bundled");
    expect(issued(await waitForCsr(stack.istiod, name, issued))).toBe(true);
    bundled.child.kill("SIGTERM");
    expect(await bundled.exited).toBe(0);
    // Graceful shutdown released the Lease for the next leader.
    const Lease = z.object({ spec: z.object({ holderIdentity: z.string().optional() }).loose() }).loose();
    const lease = Lease.parse(await cp.admin.request("GET", `/apis/coordination.k8s.io/v1/namespaces/${SHIM_NAMESPACE}/leases/edgeca-shim`));
    expect(lease.spec.holderIdentity ?? "").toBe("");
    const lines = bundled.output().trim().split("\n").filter((l) => l.startsWith("{"));
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) expect(() => JSON.parse(line) as unknown, line).not.toThrow();
  } finally {
    bundled.kill();
  }
});

it("lets a standby take over when the leader dies without releasing the Lease", async () => {
  const { stack } = own;
  // The bundled shim as leader, killed with SIGKILL: no graceful release.
  const crashing = startShimProcess(stack, "shim-crashing");
  let survivor: RunningShim | undefined;
  try {
    expect(await crashing.leads(), crashing.output()).toBe(true);
    // Started once the bundle leads, so it is the standby.
    const standby = await stack.startShim("shim-survivor");
    survivor = standby;
    await until(() => standby.shim.notReadyReason(), (r) => r === undefined);
    expect(standby.shim.isLeader()).toBe(false);
    crashing.kill();
    expect(await until(() => standby.shim.isLeader(), Boolean, 15_000)).toBe(true);
    const { name } = await stack.requestAsIstiod("e2e-after-crash");
    expect(issued(await waitForCsr(stack.istiod, name, issued))).toBe(true);
    expect(standby.signer.calls(name)).toBe(1);
  } finally {
    crashing.kill();
    await survivor?.shim.stop();
  }
});
