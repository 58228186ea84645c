import { describe, expect, it } from "vitest";
import { BundleSync } from "./bundle-sync.ts";
import { createLogger, type LogRecord } from "./logger.ts";
import { ManualClock, settle } from "../test/support/manual-clock.ts";

const REFRESH_MS = 60_000;

/**
 * A BundleSync over a trust bundle whose refresh the test holds open or fails, and a publisher that
 * records what it was given. `leading` is what isLeading answers.
 */
function rig() {
  const clock = new ManualClock();
  const logs: LogRecord[] = [];
  const published: string[] = [];
  const state = { leading: true, refreshes: 0, running: 0, overlapped: false, hold: undefined as Promise<void> | undefined, fail: false, next: "pem-1" };
  const trust = {
    current: undefined as { pem: string } | undefined,
    roots: [] as unknown[],
    async refresh(): Promise<boolean> {
      state.refreshes++;
      state.running++;
      if (state.running > 1) state.overlapped = true;
      try {
        await state.hold;
        if (state.fail) throw new Error("connect ECONNREFUSED 127.0.0.1:8443");
        const changed = trust.current?.pem !== state.next;
        trust.current = { pem: state.next };
        trust.roots = [state.next];
        return changed;
      } finally {
        state.running--;
      }
    },
  };
  const sync = new BundleSync({
    trust,
    publisher: { publish: (pem) => { published.push(pem); return Promise.resolve(true); } },
    isLeading: () => state.leading,
    refreshMs: REFRESH_MS,
    clock,
    logger: createLogger({ sink: (record) => logs.push(record) }),
  });
  let release = (): void => undefined;
  const holdRefresh = (): void => {
    state.hold = new Promise((resolve) => { release = resolve; });
  };
  return { clock, logs, published, state, trust, sync, holdRefresh, release: () => { state.hold = undefined; release(); } };
}

describe("BundleSync", () => {
  it("refreshes and, while leading, publishes what it fetched", async () => {
    const t = rig();
    await t.sync.sync();
    expect(t.published).toEqual(["pem-1"]);
    expect(t.logs).toMatchObject([{ level: "info", msg: "trust bundle loaded", roots: 1 }]);
  });

  it("does not publish while not leading", async () => {
    const t = rig();
    t.state.leading = false;
    await t.sync.sync();
    expect(t.state.refreshes).toBe(1);
    expect(t.published).toEqual([]);
  });

  it("runs serially: requests during a run make exactly one more run, which they all wait for", async () => {
    const t = rig();
    t.holdRefresh();
    const first = t.sync.sync();
    await settle();
    // A new leader asks while the periodic run is still fetching, twice.
    t.state.next = "pem-2";
    const second = t.sync.sync();
    const third = t.sync.sync();
    await settle();
    expect(t.state.refreshes).toBe(1);
    let waited = false;
    void second.then(() => { waited = true; });
    t.release();
    await Promise.all([first, second, third]);
    expect(waited).toBe(true);
    expect(t.state.refreshes).toBe(2);
    expect(t.state.overlapped).toBe(false);
    expect(t.published).toEqual(["pem-2", "pem-2"]);
    // Once idle, a request makes a new run of its own.
    await t.sync.sync();
    expect(t.state.refreshes).toBe(3);
  });
});

describe("BundleSync failures and the loop", () => {
  it("a failed fetch logs a warning and publishes nothing when there is no bundle yet", async () => {
    const t = rig();
    t.state.fail = true;
    await t.sync.sync();
    expect(t.logs).toMatchObject([{ level: "warn", msg: "could not fetch the trust bundle from the signer", error: "connect ECONNREFUSED 127.0.0.1:8443" }]);
    expect(t.published).toEqual([]);
  });

  it("a failed fetch after a good one keeps the published copies at the last good bundle", async () => {
    const t = rig();
    await t.sync.sync();
    t.state.fail = true;
    await t.sync.sync();
    expect(t.published).toEqual(["pem-1", "pem-1"]);
  });

  it("start() syncs at once and then every refresh interval; stop() ends the loop", async () => {
    const t = rig();
    t.sync.start();
    await settle();
    expect(t.state.refreshes).toBe(1);
    await t.clock.tick(REFRESH_MS - 1);
    expect(t.state.refreshes).toBe(1);
    await t.clock.tick(1);
    expect(t.state.refreshes).toBe(2);
    await t.sync.stop();
    await t.clock.tick(REFRESH_MS);
    expect(t.state.refreshes).toBe(2);
    expect(t.clock.pending()).toEqual([]);
  });

  it("stop() waits for a run in progress, also one asked for outside the loop", async () => {
    const t = rig();
    t.sync.start();
    await settle();
    // The loop sleeps; becoming leader asks for a run, which is still fetching when the shim stops.
    t.holdRefresh();
    t.state.next = "pem-2";
    const leading = t.sync.sync();
    await settle();
    let stopped = false;
    const stopping = t.sync.stop().then(() => { stopped = true; });
    await settle();
    expect(stopped).toBe(false);
    t.release();
    await Promise.all([stopping, leading]);
    expect(t.published).toEqual(["pem-1", "pem-2"]);
  });
});
