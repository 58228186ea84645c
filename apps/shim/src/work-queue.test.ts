import { describe, expect, it } from "vitest";
import { ManualClock } from "../test/support/manual-clock.ts";
import { WorkQueue } from "./work-queue.ts";

describe("WorkQueue", () => {
  it("hands out a key once however often it is added", async () => {
    const q = new WorkQueue({ clock: new ManualClock() });
    q.add("a");
    q.add("a");
    q.add("b");
    expect(q.length).toBe(2);
    expect(await q.get()).toBe("a");
    expect(await q.get()).toBe("b");
    expect(q.length).toBe(0);
  });

  it("re-queues a key added while it is processed only after done", async () => {
    const q = new WorkQueue({ clock: new ManualClock() });
    q.add("a");
    const key = await q.get();
    q.add("a");
    expect(q.length).toBe(0);
    q.done(key ?? "");
    expect(q.length).toBe(1);
    expect(await q.get()).toBe("a");
  });

  it("wakes a waiting worker when a key arrives", async () => {
    const q = new WorkQueue({ clock: new ManualClock() });
    const waiting = q.get();
    q.add("x");
    expect(await waiting).toBe("x");
  });

  it("backs off per key exponentially up to the cap and starts over after forget", () => {
    const clock = new ManualClock();
    const q = new WorkQueue({ clock, backoff: { baseMs: 200, maxMs: 1_000 } });
    expect([q.addRateLimited("a"), q.addRateLimited("a"), q.addRateLimited("a"), q.addRateLimited("a")]).toEqual([200, 400, 800, 1_000]);
    expect(q.addRateLimited("b")).toBe(200);
    q.forget("a");
    expect(q.addRateLimited("a")).toBe(200);
  });

  it("delivers a rate-limited key only when its delay has passed", async () => {
    const clock = new ManualClock();
    const q = new WorkQueue({ clock, backoff: { baseMs: 200, maxMs: 5_000 } });
    q.addRateLimited("a");
    clock.advance(199);
    expect(q.length).toBe(0);
    clock.advance(1);
    expect(q.length).toBe(1);
    expect(await q.get()).toBe("a");
  });

  it("honours a longer minimum delay such as Retry-After", () => {
    const q = new WorkQueue({ clock: new ManualClock(), backoff: { baseMs: 200, maxMs: 5_000 } });
    expect(q.addRateLimited("a", 3_000)).toBe(3_000);
  });

  it("keeps the earliest of two delayed adds of one key", () => {
    const clock = new ManualClock();
    const q = new WorkQueue({ clock });
    q.addAfter("a", 1_000);
    q.addAfter("a", 100);
    clock.advance(100);
    expect(q.length).toBe(1);
  });

  it("releases waiting workers and drops keys on shutdown", async () => {
    const clock = new ManualClock();
    const q = new WorkQueue({ clock });
    const waiting = q.get();
    q.shutDown();
    expect(await waiting).toBeUndefined();
    q.add("a");
    q.addAfter("b", 10);
    clock.advance(10);
    expect(await q.get()).toBeUndefined();
  });

  it("reports its depth", () => {
    const depths: number[] = [];
    const q = new WorkQueue({ clock: new ManualClock(), onDepth: (d) => depths.push(d) });
    q.add("a");
    q.add("b");
    expect(depths).toEqual([1, 2]);
  });
});
