/**
 * Issuance budgets end to end (issue 13): the signer's configuration gives each identity 3 certificates
 * per 10 s; a greedy identity's 6 CSRs get 3 certificates at once and 429s for the rest, which the shim
 * retries after Retry-After until the next window issues them, never marking one Failed, while another
 * identity is served meanwhile. The shim's log and metrics name the throttled identity. Its own control
 * plane (a shim here leads its own Lease), the real signer in workerd, a real shim.
 */
import { randomBytes } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { startControlPlane, type ControlPlane } from "@edgeca/testenv";
import { afterAll, beforeAll, expect, it } from "vitest";
import { conditionOf, createCsr, decide, getCsr, issued, waitForCsr, type Csr } from "../support/csr-api.ts";
import { E2EStack, SIGNER_NAME, TRUST_DOMAIN, type RunningShim } from "./harness.ts";
import { workloadCsr } from "../support/workload-csr.ts";

const GREEDY = `spiffe://${TRUST_DOMAIN}/ns/greedy/sa/web`;
const CALM = `spiffe://${TRUST_DOMAIN}/ns/calm/sa/web`;
const BUDGET = { limit: 3, windowSeconds: 10 };

let cp: ControlPlane | undefined;
let stack: E2EStack | undefined;
let running: RunningShim | undefined;

/** Gives every cluster of the signer's configuration a small per-identity budget, then restarts the signer. */
async function smallBudgets(s: E2EStack): Promise<void> {
  const path = join(s.materialDir, "worker", "config.json");
  const config = JSON.parse(await readFile(path, "utf8")) as { clusters: Record<string, unknown>[] };
  for (const c of config.clusters) c["budgets"] = { perIdentity: BUDGET };
  await writeFile(path, JSON.stringify(config, null, 2));
  await s.stopSigner();
  await s.startSigner();
}

beforeAll(async () => {
  cp = await startControlPlane();
  stack = await E2EStack.start(cp);
  await smallBudgets(stack);
  running = await stack.startShim("budgets");
  const deadline = Date.now() + 30_000;
  while (running.shim.notReadyReason() !== undefined && Date.now() < deadline) await sleep(100);
}, 180_000);

afterAll(async () => {
  await running?.shim.stop();
  await stack?.stop();
  await cp?.stop();
});

async function request(s: E2EStack, spiffeId: string): Promise<string> {
  const name = `budget-${randomBytes(4).toString("hex")}`;
  await createCsr(s.istiod, name, SIGNER_NAME, (await workloadCsr("ztunnel-p256", spiffeId)).pem);
  await decide(s.istiod, name, "Approved");
  return name;
}

it("retries a greedy identity's throttled CSRs until the window allows, never Failed, and names it in log and metrics", async () => {
  if (stack === undefined || running === undefined) throw new Error("the stack did not start");
  const s = stack;
  const started = Date.now();
  const greedy = await Promise.all(Array.from({ length: 6 }, () => request(s, GREEDY)));

  // The first window: exactly the budget is issued, the rest is throttled (and retried, not Failed).
  const deadline = Date.now() + 8_000;
  let first: (Csr | undefined)[] = [];
  while (Date.now() < deadline) {
    first = await Promise.all(greedy.map((n) => getCsr(s.istiod, n)));
    if (first.filter(issued).length >= BUDGET.limit && running.logs.some((r) => r["identity"] === GREEDY)) break;
    await sleep(200);
  }
  expect(first.filter(issued).length).toBe(BUDGET.limit);

  // Another identity of the same cluster is served while the greedy one waits.
  const calm = await request(s, CALM);
  expect(issued(await waitForCsr(s.istiod, calm, issued, 5_000))).toBe(true);
  const stillWaiting = (await Promise.all(greedy.map((n) => getCsr(s.istiod, n)))).filter((c) => !issued(c));
  // Still inside the greedy identity's first window (10 s; this point is reached in a few).
  expect(Date.now() - started).toBeLessThan(BUDGET.windowSeconds * 1000);
  expect(stillWaiting).toHaveLength(BUDGET.limit);

  // The next window issues the rest; none was ever Failed.
  const all = await Promise.all(greedy.map((n) => waitForCsr(s.istiod, n, issued, 40_000)));
  expect(all.every(issued)).toBe(true);
  expect(all.map((c) => conditionOf(c, "Failed"))).toEqual(greedy.map(() => undefined));
  expect(Date.now() - started).toBeGreaterThanOrEqual((BUDGET.windowSeconds - 2) * 1000);

  const warn = running.logs.find((r) => r.level === "warn" && r["identity"] === GREEDY);
  expect(warn?.msg).toBe("the signer throttled this identity (issuance budget spent); will retry after Retry-After");
  expect(warn?.["retryAfterSeconds"]).toEqual(expect.any(Number));
  expect(Number(warn?.["retryAfterSeconds"])).toBeLessThanOrEqual(BUDGET.windowSeconds);
  expect(String(warn?.["detail"])).toContain(`identity "${GREEDY}"`);
  expect(running.logs.some((r) => r["identity"] === CALM)).toBe(false);

  const metrics = await (await fetch(`http://127.0.0.1:${running.shim.port}/metrics`)).text();
  const line = metrics.split("\n").find((l) => l.startsWith(`edgeca_shim_throttled_total{signer="${SIGNER_NAME}",identity="${GREEDY}"}`));
  expect(Number(line?.split(" ").at(-1))).toBeGreaterThanOrEqual(BUDGET.limit);
  expect(metrics).not.toContain(`identity="${CALM}"`);
  expect(metrics.split("\n").filter((l) => l.startsWith("edgeca_shim_csrs_failed_total{"))).toEqual([]);
}, 90_000);
