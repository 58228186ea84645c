/**
 * proc-cpu's per-thread reading against a second source: a worker thread with a name of its own burns
 * CPU until process.threadCpuUsage() (getrusage(RUSAGE_THREAD), not /proc) says 300 ms, and the seconds
 * ownThreadsCpuSeconds reads for that name from /proc/self/task must match within a few clock ticks; a
 * name no thread has reads as undefined, not as 0.
 */
import { Worker } from "node:worker_threads";
import { afterAll, describe, expect, it } from "vitest";
import { ownThreadsCpuSeconds } from "./proc-cpu.ts";

// Waits for "burn", spins until this thread has used `ms` of CPU by its own count, answers with that count.
const BURNER = `
const { parentPort } = require("node:worker_threads");
parentPort.on("message", (ms) => {
  const used = () => { const u = process.threadCpuUsage(); return (u.user + u.system) / 1000; };
  const start = used();
  let x = 0;
  while (used() - start < ms) for (let i = 0; i < 1e5; i++) x = (x * 31 + i) | 0;
  parentPort.postMessage({ usedMs: used() - start, x });
});
`;

const NAME = "proc-cpu-burner";
const burner = new Worker(BURNER, { eval: true, name: NAME });
const named = (name: string) => (_tid: number, n: string) => n === name;

afterAll(async () => {
  await burner.terminate();
});

async function burn(ms: number): Promise<number> {
  const answer = new Promise<{ usedMs: number }>((resolve) => burner.once("message", resolve));
  burner.postMessage(ms);
  return (await answer).usedMs / 1000;
}

describe("ownThreadsCpuSeconds", () => {
  it("counts the CPU a named worker thread burns, as the thread itself counts it, and not the main thread's", async () => {
    await burn(1); // the thread is up and named
    const before = ownThreadsCpuSeconds(named(NAME));
    const mainBefore = ownThreadsCpuSeconds((tid) => tid === process.pid);
    const used = await burn(300);
    const after = ownThreadsCpuSeconds(named(NAME));
    const mainAfter = ownThreadsCpuSeconds((tid) => tid === process.pid);
    expect(before).toBeDefined();
    expect(after).toBeDefined();
    const counted = (after ?? 0) - (before ?? 0);
    // /proc counts in clock ticks (10 ms): a few of them either way, at most.
    expect(counted).toBeGreaterThan(used - 0.05);
    expect(counted).toBeLessThan(used + 0.05);
    // The main thread only waited meanwhile.
    expect((mainAfter ?? 0) - (mainBefore ?? 0)).toBeLessThan(used / 2);
  });

  it("reads a name no thread has as undefined, and the main thread by its pid", () => {
    expect(ownThreadsCpuSeconds(named("no-such-thread"))).toBeUndefined();
    expect(ownThreadsCpuSeconds((tid, name) => tid === process.pid && name === "MainThread")).toBeGreaterThan(0);
  });
});
