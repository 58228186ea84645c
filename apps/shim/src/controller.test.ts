import type { V1CertificateSigningRequest } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { CsrController, MAX_RETRY_AFTER_MS } from "./controller.ts";
import { createLogger, type LogRecord } from "./logger.ts";
import { createMetrics } from "./metrics.ts";
import type { ReconcileResult } from "./reconcile.ts";
import { csrObject } from "../test/support/csr-object.ts";
import { ManualClock, settle } from "../test/support/manual-clock.ts";
import { metricValue } from "../test/support/metric-value.ts";

const BACKOFF = { baseMs: 200, maxMs: 5_000 };
const DONE: ReconcileResult = { kind: "done", outcome: "issued" };

/** A promise the test settles by hand. */
function deferred<T>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve: (value: T) => void = () => undefined;
  const promise = new Promise<T>((r) => { resolve = r; });
  return { promise, resolve };
}

/**
 * A controller over a Map cache and a reconciler whose answer the test chooses per call (`results`,
 * default done). Records each reconcile, each forget, and how many reconciles run at once.
 */
function rig(options: { concurrency?: number; results?: (name: string, call: number) => ReconcileResult | Promise<ReconcileResult> } = {}) {
  const cache = new Map<string, V1CertificateSigningRequest>();
  const clock = new ManualClock(1_000_000);
  const metrics = createMetrics();
  const logs: LogRecord[] = [];
  const reconciled: string[] = [];
  const forgotten: string[] = [];
  const load = { now: 0, max: 0 };
  const controller = new CsrController({
    reconciler: {
      async reconcile(name) {
        reconciled.push(name);
        load.now++;
        load.max = Math.max(load.max, load.now);
        try {
          return await (options.results?.(name, reconciled.length) ?? DONE);
        } finally {
          load.now--;
        }
      },
      forget: (name) => { forgotten.push(name); },
    },
    cache: { get: (name) => cache.get(name), keys: () => [...cache.keys()] },
    clock,
    backoff: BACKOFF,
    concurrency: options.concurrency ?? 2,
    metrics,
    logger: createLogger({ sink: (record) => logs.push(record) }),
  });
  const depth = (): Promise<number> => metricValue(metrics.registry, "edgeca_shim_queue_depth");
  return { cache, clock, metrics, logs, reconciled, forgotten, load, controller, depth };
}

describe("CsrController", () => {
  it("enqueues only CSRs that need a signature: approved, not issued, not Failed or Denied", async () => {
    const t = rig();
    t.cache.set("pending", csrObject("pending"));
    t.cache.set("unapproved", csrObject("unapproved", { conditions: [] }));
    t.cache.set("issued", csrObject("issued", { certificatePem: "x" }));
    t.cache.set("failed", csrObject("failed", { conditions: ["Approved", "Failed"] }));
    t.cache.set("denied", csrObject("denied", { conditions: ["Denied"] }));
    t.controller.start();
    await settle();
    expect(t.reconciled).toEqual(["pending"]);
    // istiod's create, then its approval: only the approval is work.
    t.cache.set("new", csrObject("new", { conditions: [] }));
    t.controller.onChange("new", "added");
    await settle();
    expect(t.reconciled).toEqual(["pending"]);
    t.cache.set("new", csrObject("new"));
    t.controller.onChange("new", "modified");
    await settle();
    expect(t.reconciled).toEqual(["pending", "new"]);
    t.controller.stop();
  });

  it("does not reconcile again on the event of its own status write", async () => {
    const t = rig({
      results: (name) => {
        // The reconciler writes the certificate; the watch then reports the CSR as modified.
        t.cache.set(name, csrObject(name, { certificatePem: "chain" }));
        return DONE;
      },
    });
    t.cache.set("a", csrObject("a"));
    t.controller.start();
    await settle();
    t.controller.onChange("a", "modified");
    await settle();
    expect(t.reconciled).toEqual(["a"]);
    t.controller.stop();
  });

  it("on deletion calls the reconciler's forget and enqueues nothing", async () => {
    const t = rig();
    t.controller.start();
    t.controller.onChange("a", "deleted");
    await settle();
    expect(t.forgotten).toEqual(["a"]);
    expect(t.reconciled).toEqual([]);
    t.controller.stop();
  });
});

describe("CsrController retries", () => {
  it("requeues a retry with per-CSR exponential backoff and forgets the backoff once done", async () => {
    const results: ReconcileResult[] = [{ kind: "retry", reason: "SignerUnreachable" }, { kind: "retry", reason: "SignerUnreachable" }, DONE, { kind: "retry", reason: "SignerUnreachable" }];
    const t = rig({ results: (_name, call) => results[call - 1] ?? DONE });
    t.cache.set("a", csrObject("a"));
    t.controller.start();
    await settle();
    expect(t.clock.pending()).toEqual([200]);
    await t.clock.tick(199);
    expect(t.reconciled).toHaveLength(1);
    await t.clock.tick(1);
    expect(t.reconciled).toHaveLength(2);
    expect(t.clock.pending()).toEqual([400]);
    await t.clock.tick(400);
    expect(t.reconciled).toHaveLength(3);
    // Done forgot the history: the next failure waits the base delay again.
    t.controller.onChange("a", "modified");
    await settle();
    expect(t.reconciled).toHaveLength(4);
    expect(t.clock.pending()).toEqual([200]);
    t.controller.stop();
  });

  it("honours a retry's afterMs when longer than the backoff, capped at MAX_RETRY_AFTER_MS", async () => {
    const t = rig({ results: (name) => ({ kind: "retry", reason: "RateLimited", afterMs: name === "slow" ? 7_000 : 60 * 60_000 }) });
    t.cache.set("slow", csrObject("slow"));
    t.cache.set("huge", csrObject("huge"));
    t.controller.start();
    await settle();
    expect(t.clock.pending().sort((a, b) => a - b)).toEqual([7_000, MAX_RETRY_AFTER_MS]);
    t.controller.stop();
  });

  it("retries a reconcile that throws, and logs it", async () => {
    const t = rig({ results: (_name, call) => (call === 1 ? Promise.reject(new Error("bug")) : DONE) });
    t.cache.set("a", csrObject("a"));
    t.controller.start();
    await settle();
    expect(t.logs).toMatchObject([{ level: "error", csr: "a", error: "bug" }]);
    expect(await metricValue(t.metrics.registry, "edgeca_shim_retries_total", { reason: "Error" })).toBe(1);
    await t.clock.tick(200);
    expect(t.reconciled).toEqual(["a", "a"]);
    t.controller.stop();
  });
});

describe("CsrController workers", () => {
  it("stop() hands out no more work and drain() waits for the reconciles in flight", async () => {
    const gate = deferred<ReconcileResult>();
    const t = rig({ concurrency: 1, results: () => gate.promise });
    t.cache.set("a", csrObject("a"));
    t.cache.set("b", csrObject("b"));
    t.controller.start();
    await settle();
    expect(t.controller.running).toBe(true);
    t.controller.stop();
    expect(t.controller.running).toBe(false);
    let drained = false;
    const drain = t.controller.drain().then(() => { drained = true; });
    await settle();
    expect(drained).toBe(false);
    gate.resolve(DONE);
    await drain;
    expect(t.reconciled).toEqual(["a"]);
    t.controller.onChange("b", "modified");
    await settle();
    expect(t.reconciled).toEqual(["a"]);
  });

  it("queue_depth counts pending work only: not the CSR in flight, nor CSRs that need nothing", async () => {
    const gate = deferred<ReconcileResult>();
    const t = rig({ concurrency: 1, results: () => gate.promise });
    for (const name of ["a", "b", "c"]) t.cache.set(name, csrObject(name));
    t.cache.set("issued", csrObject("issued", { certificatePem: "x" }));
    t.controller.start();
    await settle();
    expect(await t.depth()).toBe(2);
    t.controller.onChange("issued", "modified");
    t.controller.onChange("b", "modified");
    expect(await t.depth()).toBe(2);
    gate.resolve(DONE);
    await settle();
    expect(t.reconciled).toEqual(["a", "b", "c"]);
    expect(await t.depth()).toBe(0);
    t.controller.stop();
  });

  it("runs `concurrency` reconciles at once, and no more", async () => {
    const gate = deferred<ReconcileResult>();
    const t = rig({ concurrency: 3, results: () => gate.promise });
    for (let i = 0; i < 7; i++) t.cache.set(`csr-${i}`, csrObject(`csr-${i}`));
    t.controller.start();
    await settle();
    expect(t.load.now).toBe(3);
    expect(await t.depth()).toBe(4);
    gate.resolve(DONE);
    await settle();
    expect(t.reconciled).toHaveLength(7);
    expect(t.load.max).toBe(3);
    t.controller.stop();
  });
});
