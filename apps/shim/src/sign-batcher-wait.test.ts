/**
 * The batch wait (EDGECA_SIGNER_BATCH_WAIT_MS): under load a group that is not full waits for more calls,
 * below it nothing waits longer than the answers on their way. Scripted transport and a ManualClock
 * (test/support/batcher-rig.ts), because what is tested is when calls go out, not HTTP.
 */
import { describe, expect, it } from "vitest";
import { LOAD_WINDOW_MS } from "./sign-batcher.ts";
import { flush, issued, names, rig } from "../test/support/batcher-rig.ts";

describe("SignBatcher's wait under load", () => {
  it("holds a group that is not full until its oldest call has waited waitMs, and sends a full one at once", async () => {
    const r = rig(4, 4, 60); // R = 1; four arrivals at once: load
    const first = names("c", 4).map((n) => r.sign(n));
    await flush();
    r.transport.sent[0]?.answer();
    await flush();
    // c0 is answered; c1-c3 are not a full batch and have waited 0 ms: they wait, with a timer for the rest.
    expect(r.shape()).toEqual(["v1/sign c0"]);
    expect(r.clock.pending()).toEqual([60]);
    await r.clock.tick(59);
    expect(r.shape()).toHaveLength(1);
    // A fourth call fills the batch: it goes now, and the timer is dropped.
    const fourth = r.sign("c4");
    await flush();
    expect(r.shape()).toEqual(["v1/sign c0", "v1/sign-batch c1,c2,c3,c4"]);
    expect(r.clock.pending()).toEqual([]);
    // What arrives while that batch is out waits 60 ms from its own arrival once it is answered.
    const later = [r.sign("d0"), r.sign("d1")];
    await r.clock.tick(20);
    r.transport.sent[1]?.answer();
    await flush();
    expect(r.shape()).toHaveLength(2);
    expect(r.clock.pending()).toEqual([40]);
    await r.clock.tick(40);
    expect(r.shape().slice(2)).toEqual(["v1/sign-batch d0,d1"]);
    r.transport.sent[2]?.answer();
    await Promise.all([...first, fourth, ...later]);
    expect(["c1", "c4", "d1"].map((n) => r.results.get(n))).toEqual(["c1", "c4", "d1"].map((n) => ({ ok: true, value: issued(n) })));
  });

  it("sends at once calls that already waited waitMs for the answers on their way", async () => {
    const r = rig(4, 4, 60);
    const all = names("c", 4).map((n) => r.sign(n));
    await flush();
    await r.clock.tick(75); // a slow signer: the answer takes longer than the wait
    r.transport.sent[0]?.answer();
    await flush();
    expect(r.shape()).toEqual(["v1/sign c0", "v1/sign-batch c1,c2,c3"]);
    r.transport.sent[1]?.answer();
    await Promise.all(all);
  });

  const noWait = [
    { what: "below batchMax calls within LOAD_WINDOW_MS (a quiet cluster)", batchMax: 16, concurrency: 32, waitMs: 60, calls: 3 },
    { what: "with waitMs 0, whatever the load", batchMax: 4, concurrency: 4, waitMs: 0, calls: 4 },
  ];
  for (const c of noWait) {
    it(`does not wait for a timer ${c.what}: the rest go when the first is answered`, async () => {
      const r = rig(c.batchMax, c.concurrency, c.waitMs);
      const all = names("c", c.calls).map((n) => r.sign(n));
      await flush();
      r.transport.sent[0]?.answer();
      await flush();
      expect(r.shape()).toEqual(["v1/sign c0", `v1/sign-batch ${names("c", c.calls).slice(1).join(",")}`]);
      expect(r.clock.pending()).toEqual([]);
      r.transport.sent[1]?.answer();
      await Promise.all(all);
    });
  }

  it("stops waiting once the load has passed: batchMax arrivals, then a quiet second", async () => {
    const r = rig(4, 4, 60);
    const burst = names("c", 4).map((n) => r.sign(n));
    await flush();
    r.transport.sent[0]?.answer();
    await r.clock.tick(60);
    r.transport.sent[1]?.answer();
    await Promise.all(burst);
    await r.clock.tick(LOAD_WINDOW_MS);
    const quiet = [r.sign("q0"), r.sign("q1"), r.sign("q2")];
    await flush();
    r.transport.sent[2]?.answer();
    await flush();
    // The last four arrivals are no longer within the window: q1 and q2 go when q0 is answered.
    expect(r.shape().slice(2)).toEqual(["v1/sign q0", "v1/sign-batch q1,q2"]);
    r.transport.sent[3]?.answer();
    await Promise.all(quiet);
  });

  it("on close refuses the calls still waiting, naming why, and drops the timer", async () => {
    const r = rig(4, 4, 60);
    const all = names("c", 4).map((n) => r.sign(n));
    await flush();
    r.transport.sent[0]?.answer();
    await flush();
    expect(r.clock.pending()).toEqual([60]);
    r.batcher.close();
    await Promise.all(all);
    expect(r.results.get("c0")).toEqual({ ok: true, value: issued("c0") });
    expect(["c1", "c2", "c3"].map((n) => r.results.get(n))).toEqual(["c1", "c2", "c3"].map(() => ({ ok: false, value: new Error("the shim is stopping: the signer client was closed") })));
    expect(r.clock.pending()).toEqual([]);
    expect(r.shape()).toEqual(["v1/sign c0"]);
  });
});
