import { randomBytes } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { useControlPlane } from "@edgeca/testenv/vitest";
import { KubeConfig } from "@kubernetes/client-node";
import { afterEach, describe, expect, it } from "vitest";
import { systemClock } from "./clock.ts";
import { CsrCache } from "./csr-cache.ts";
import { createCsr, deleteCsr } from "../test/support/csr-api.ts";
import { workloadCsr } from "../test/support/workload-csr.ts";
import { createLogger, type LogRecord } from "./logger.ts";

const cp = useControlPlane();
const caches: CsrCache[] = [];

afterEach(async () => {
  await Promise.all(caches.splice(0).map((c) => c.stop()));
});

async function until(check: () => boolean, timeoutMs = 10_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!check() && Date.now() < deadline) await sleep(50);
  return check();
}

describe("CsrCache (list+watch against the real apiserver)", () => {
  it("sees only its signer's CSRs and keeps watching across watches the server ends", async () => {
    const signerName = `cache-${randomBytes(3).toString("hex")}.example.com/test`;
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromFile(cp.kubeconfigPath);
    const changes: string[] = [];
    const restarts: string[] = [];
    const logs: LogRecord[] = [];
    const before = `before-${randomBytes(4).toString("hex")}`;
    await createCsr(cp.admin, before, signerName, (await workloadCsr("ztunnel-p256", "spiffe://cluster.local/ns/a/sa/b")).pem);
    const cache = new CsrCache({
      kubeConfig,
      signerNames: [signerName],
      clock: systemClock,
      logger: createLogger({ level: "debug", sink: (r) => logs.push(r) }),
      onChange: (name, type) => changes.push(`${type}:${name}`),
      onRestart: (_signer, reason) => restarts.push(reason),
      // The apiserver ends each watch after a second; the loop must resume every time.
      watchTimeoutSeconds: 1,
    });
    caches.push(cache);
    cache.start();
    expect(await cache.waitForSync()).toBe(true);
    expect(cache.get(before)?.spec.signerName).toBe(signerName);
    expect(changes).toContain(`relisted:${before}`);

    const other = `other-${randomBytes(4).toString("hex")}`;
    await createCsr(cp.admin, other, `${signerName}-else`, (await workloadCsr("ztunnel-p256", "spiffe://cluster.local/ns/a/sa/c")).pem);
    await sleep(2_500);
    expect(restarts.filter((r) => r === "closed").length).toBeGreaterThanOrEqual(2);

    const after = `after-${randomBytes(4).toString("hex")}`;
    await createCsr(cp.admin, after, signerName, (await workloadCsr("ztunnel-p256", "spiffe://cluster.local/ns/a/sa/d")).pem);
    expect(await until(() => cache.get(after) !== undefined)).toBe(true);
    await deleteCsr(cp.admin, before);
    expect(await until(() => cache.get(before) === undefined)).toBe(true);
    expect(changes).toContain(`deleted:${before}`);
    expect(cache.get(other)).toBeUndefined();
    expect(changes.some((c) => c.endsWith(`:${other}`))).toBe(false);
    expect(logs.filter((r) => r.level === "warn" || r.level === "error")).toEqual([]);
    await deleteCsr(cp.admin, after);
    await deleteCsr(cp.admin, other);
  });
});
