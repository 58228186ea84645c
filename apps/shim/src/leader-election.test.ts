import { KubeConfig } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { LeaderElector } from "./leader-election.ts";
import { createLogger, type LogRecord } from "./logger.ts";
import { FakeLeaseApi } from "../test/support/fake-lease-api.ts";
import { apiError } from "../test/support/kube-errors.ts";
import { ManualClock } from "../test/support/manual-clock.ts";

const LEASE_MS = 15_000;
const RENEW_DEADLINE_MS = 10_000;
const RETRY_MS = 2_000;
// The retry period is jittered by up to 20%: a step this long always lets every candidate try once more.
const STEP_MS = RETRY_MS * 1.2;

interface Candidate {
  readonly elector: LeaderElector;
  /** "start" and "stop", in the order the callbacks came. */
  readonly transitions: string[];
}

/** Candidates for one Lease on one fake apiserver, on one manual clock. */
function election(start = Date.UTC(2026, 0, 1)) {
  const clock = new ManualClock(start);
  const leases = new FakeLeaseApi();
  const logs: LogRecord[] = [];
  const candidate = (identity: string): Candidate => {
    const transitions: string[] = [];
    const elector = new LeaderElector({
      kubeConfig: new KubeConfig(),
      api: leases.api,
      namespace: "edgeca-system",
      name: "edgeca-shim",
      identity,
      leaseDurationMs: LEASE_MS,
      renewDeadlineMs: RENEW_DEADLINE_MS,
      retryPeriodMs: RETRY_MS,
      clock,
      logger: createLogger({ sink: (record) => logs.push(record), fields: { identity } }),
      onStartedLeading: () => transitions.push("start"),
      onStoppedLeading: () => transitions.push("stop"),
    });
    return { elector, transitions };
  };
  /** Moves time on by `steps` retry periods, letting every candidate try once per step. */
  const steps = async (n: number): Promise<void> => {
    for (let i = 0; i < n; i++) await clock.tick(STEP_MS);
  };
  /** A Lease held by `holder`, renewed at `renewTime` (by another machine's clock). */
  const heldBy = (holder: string, renewTime: Date): void => {
    leases.put({ metadata: { name: "edgeca-shim", namespace: "edgeca-system" }, spec: { holderIdentity: holder, leaseDurationSeconds: LEASE_MS / 1000, renewTime, leaseTransitions: 3 } });
  };
  return { clock, leases, logs, candidate, steps, heldBy };
}

describe("LeaderElector", () => {
  it("creates a missing Lease and leads; renews it every retry period", async () => {
    const e = election();
    const a = e.candidate("a");
    a.elector.start();
    await e.clock.tick(0);
    expect(a.elector.isLeader).toBe(true);
    expect(a.transitions).toEqual(["start"]);
    expect(e.leases.lease?.spec).toMatchObject({ holderIdentity: "a", leaseDurationSeconds: 15, leaseTransitions: 0 });
    const renewed = e.leases.lease?.metadata?.resourceVersion;
    await e.steps(1);
    expect(e.leases.lease?.metadata?.resourceVersion).not.toBe(renewed);
    expect(a.transitions).toEqual(["start"]);
    await a.elector.stop();
  });

  it("two candidates racing to create the Lease: the 409 loser does not lead", async () => {
    const e = election();
    const a = e.candidate("a");
    const b = e.candidate("b");
    a.elector.start();
    b.elector.start();
    await e.clock.tick(0);
    expect(e.leases.calls.slice(0, 4)).toEqual(["read -", "read -", "create a", "create b"]);
    expect([a.elector.isLeader, b.elector.isLeader]).toEqual([true, false]);
    // Losing a race is how the election works, not a fault to warn about.
    expect(e.logs.filter((l) => l.level !== "info")).toEqual([]);
    await e.steps(3);
    expect(b.transitions).toEqual([]);
    await Promise.all([a.elector.stop(), b.elector.stop()]);
  });

  it("two candidates racing to take a released Lease: the 409 loser does not lead", async () => {
    const e = election();
    e.heldBy("", new Date(0));
    const a = e.candidate("a");
    const b = e.candidate("b");
    a.elector.start();
    b.elector.start();
    await e.clock.tick(0);
    expect(e.leases.calls.slice(0, 4)).toEqual(["read ", "read ", "replace a", "replace b"]);
    expect([a.elector.isLeader, b.elector.isLeader]).toEqual([true, false]);
    expect(e.leases.lease?.spec).toMatchObject({ holderIdentity: "a", leaseTransitions: 4 });
    expect(e.logs.filter((l) => l.level !== "info")).toEqual([]);
    await Promise.all([a.elector.stop(), b.elector.stop()]);
  });
});

describe("LeaderElector expiry and renewal", () => {
  it("judges another holder's Lease expired by its own observation time, not by the Lease's renewTime", async () => {
    const e = election();
    // Renewed "long ago" by the holder's clock: no matter, we have not watched it for a lease duration yet.
    e.heldBy("other", new Date(Date.UTC(2000, 0, 1)));
    const b = e.candidate("b");
    b.elector.start();
    await e.clock.tick(0);
    await e.steps(Math.floor(LEASE_MS / STEP_MS) - 1);
    expect(b.elector.isLeader).toBe(false);
    expect(e.leases.calls.filter((c) => c.startsWith("replace"))).toEqual([]);
    await e.steps(2);
    expect(b.elector.isLeader).toBe(true);
    expect(e.leases.lease?.spec).toMatchObject({ holderIdentity: "b", leaseTransitions: 4 });
    await b.elector.stop();
  });

  it("never takes a Lease its holder keeps renewing, even with a renewTime from the future", async () => {
    const e = election();
    const b = e.candidate("b");
    b.elector.start();
    for (let i = 0; i < 20; i++) {
      e.heldBy("other", new Date(Date.UTC(2100, 0, 1)));
      await e.steps(1);
    }
    expect(b.elector.isLeader).toBe(false);
    expect(b.transitions).toEqual([]);
    await b.elector.stop();
  });

  it("steps down once it could not renew for the renew deadline", async () => {
    const e = election();
    const a = e.candidate("a");
    a.elector.start();
    await e.clock.tick(0);
    expect(a.elector.isLeader).toBe(true);
    e.leases.fail("replace", apiError(500), 100);
    await e.steps(Math.floor(RENEW_DEADLINE_MS / STEP_MS));
    expect(a.elector.isLeader).toBe(true);
    await e.steps(2);
    expect(a.elector.isLeader).toBe(false);
    expect(a.transitions).toEqual(["start", "stop"]);
    expect(e.logs.some((l) => l.level === "warn" && /renew deadline/.test(l.msg))).toBe(true);
    await a.elector.stop();
  });
});

describe("LeaderElector stop", () => {
  it("stop() steps down, waits for the drain, then releases the Lease so a standby takes over at once", async () => {
    const e = election();
    const a = e.candidate("a");
    const b = e.candidate("b");
    a.elector.start();
    await e.clock.tick(0);
    b.elector.start();
    await e.clock.tick(0);
    expect([a.elector.isLeader, b.elector.isLeader]).toEqual([true, false]);
    const order: string[] = [];
    await a.elector.stop(async () => {
      order.push(`drain while holder=${e.leases.lease?.spec?.holderIdentity ?? "-"}`);
      await Promise.resolve();
    });
    expect(order).toEqual(["drain while holder=a"]);
    expect(a.transitions).toEqual(["start", "stop"]);
    expect(e.leases.lease?.spec?.holderIdentity).toBe("");
    // One retry period, not a lease duration.
    await e.steps(1);
    expect(b.elector.isLeader).toBe(true);
    await b.elector.stop();
  });

  it("stop() of a candidate that does not lead writes nothing", async () => {
    const e = election();
    e.heldBy("other", new Date());
    const b = e.candidate("b");
    b.elector.start();
    await e.clock.tick(0);
    let drained = false;
    await b.elector.stop(() => { drained = true; return Promise.resolve(); });
    expect([drained, b.transitions]).toEqual([false, []]);
    expect(e.leases.calls).toEqual(["read other"]);
    expect(e.leases.lease?.spec?.holderIdentity).toBe("other");
  });
});
