/**
 * Issuance budgets end to end (issue 13): the signer's configuration gives each identity 3 certificates
 * per 10 s; a greedy identity's 6 CSRs get 3 certificates at once and 429s for the rest, which the shim
 * retries after Retry-After until the next window issues them, never marking one Failed, while another
 * identity is served meanwhile. The shim's log and metrics name the throttled identity. Its own control
 * plane (a shim here leads its own Lease), the real signer in workerd, a real shim.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { expect, it } from "vitest";
import { conditionOf, getCsr, issued, waitForCsr, type Csr } from "../support/csr-api.ts";
import { SIGNER_NAME, spiffe, type E2EStack } from "./harness.ts";
import { useOwnStack } from "./own-stack.ts";

const GREEDY = spiffe("greedy", "web");
const CALM = spiffe("calm", "web");
const BUDGET = { limit: 3, windowSeconds: 10 };

/** Gives every cluster of the signer's configuration a small per-identity budget (the signer restarts). */
const smallBudgets = (s: E2EStack): Promise<void> => s.reconfigureSigner((config) => {
  for (const c of config.clusters) c["budgets"] = { perIdentity: BUDGET };
});

const own = useOwnStack({ prepare: smallBudgets, shim: "budgets" });

async function request(s: E2EStack, spiffeId: string): Promise<string> {
  return (await s.requestAsIstiod("budget", "ztunnel-p256", spiffeId)).name;
}

it("retries a greedy identity's throttled CSRs until the window allows, never Failed, and names it in log and metrics", async () => {
  const { stack: s, shim: running } = own;
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
