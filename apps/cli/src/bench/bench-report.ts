/** The benchmark's table and its one-line JSON summary. */
import type { Rate } from "./rate.ts";
import type { BenchResult } from "./signer-bench.ts";

// Issue 8: the signing core in Node stays ≥ 0.85 × the WebCrypto floor, one at a time and with 16 in flight.
const TARGET_RATIO = 0.85;
const TARGET_BUNDLE_GZIP = 150 * 1024;

const per = (n: number): string => n.toFixed(0).padStart(8);
const ratio = (a: number, b: number): string => (b > 0 ? (a / b).toFixed(2) : "-").padStart(6);

/** Aligned text: one line per key type and runtime, then bundle size and first-request latency. */
export function formatBenchTable(r: BenchResult): string {
  const lines = [
    `issuances per second (bounded: ≤ ${r.options.count} per run, ≤ ${r.options.seconds} s; concurrent = ${r.options.concurrency} in flight)`,
    "ratio = ours / the floor measured the same way (one at a time, or concurrent)",
    "",
    "key        runtime   mode          /s   floor/s   ratio",
  ];
  const line = (key: string, runtime: string, mode: string, rate: number, floor: number): string =>
    `${key.padEnd(9)}  ${runtime.padEnd(8)}  ${mode.padEnd(10)}  ${per(rate)}  ${per(floor)}  ${ratio(rate, floor)}`;
  for (const row of r.rows) {
    const f = row.floor.perSecond;
    const fc = row.floorConcurrent.perSecond;
    lines.push(line(row.keyType, "floor", "one", f, f));
    lines.push(line(row.keyType, "floor", "concurrent", fc, fc));
    lines.push(line(row.keyType, "node", "one", row.node.perSecond, f));
    lines.push(line(row.keyType, "node", "concurrent", row.nodeConcurrent.perSecond, fc));
    lines.push(line(row.keyType, "workerd", "one", row.workerd.perSecond, f));
    lines.push(line(row.keyType, "workerd", "concurrent", row.workerdConcurrent.perSecond, fc));
  }
  lines.push("", "CPU µs per issuance, Node, same slices (main = the event loop's thread, where WebCrypto's calls and all JavaScript run; less moved by other processes than /s)");
  lines.push("key        mode          floor main  ours main  floor/ours   floor proc  ours proc");
  const us = (n: number): string => n.toFixed(0).padStart(10);
  for (const row of r.rows) {
    for (const [mode, f, o] of [["one", row.floor, row.node], ["concurrent", row.floorConcurrent, row.nodeConcurrent]] as const) {
      lines.push(`${row.keyType.padEnd(9)}  ${mode.padEnd(10)}  ${us(f.mainCpuMicros)}  ${us(o.mainCpuMicros).slice(1)}  ${ratio(o.mainCpuMicros > 0 ? f.mainCpuMicros : 0, o.mainCpuMicros).padStart(10)}   ${us(f.processCpuMicros)}  ${us(o.processCpuMicros).slice(1)}`);
    }
  }
  const p256 = r.rows.find((x) => x.keyType === "P-256");
  const kib = (b: number): string => `${(b / 1024).toFixed(1)} KiB`;
  const healthzMs = r.workerdHealthz.perSecond > 0 ? 1000 / r.workerdHealthz.perSecond : 0;
  lines.push(
    "",
    `workerd transport baseline: GET /healthz through dispatchFetch ${r.workerdHealthz.perSecond.toFixed(0)}/s (${healthzMs.toFixed(2)} ms per request, included in every workerd figure)`,
  );
  for (const row of r.rows) {
    if (row.workerd.perSecond > 0 && healthzMs > 0) {
      const net = 1000 / row.workerd.perSecond - healthzMs;
      lines.push(`  ${row.keyType}: ${(1000 / row.workerd.perSecond).toFixed(2)} ms per issuance in workerd, ≈ ${net.toFixed(2)} ms beyond the transport`);
    }
  }
  lines.push(
    `Worker bundle: ${kib(r.bundle.bytes)}, gzipped ${kib(r.bundle.gzipBytes)} (target ≤ ${kib(TARGET_BUNDLE_GZIP)}: ${r.bundle.gzipBytes <= TARGET_BUNDLE_GZIP ? "met" : "MISSED"})`,
    `workerd first request: start ${r.firstRequest.startupMs.toFixed(0)} ms, first /v1/sign ${r.firstRequest.firstSignMs.toFixed(1)} ms, second ${r.firstRequest.secondSignMs.toFixed(1)} ms`,
  );
  if (p256 !== undefined) {
    const ours = p256.node.perSecond / p256.floor.perSecond;
    const oursConcurrent = p256.nodeConcurrent.perSecond / p256.floorConcurrent.perSecond;
    const verdict = (x: number): string => `${x.toFixed(2)} (≥ ${TARGET_RATIO}: ${x >= TARGET_RATIO ? "met" : "MISSED"})`;
    lines.push(`targets (P-256, Node): ours/floor one at a time ${verdict(ours)}, with ${r.options.concurrency} in flight ${verdict(oursConcurrent)}`);
  }
  return lines.join("\n");
}

function cpuRatio(floor: Rate | undefined, ours: Rate | undefined): number {
  if (floor === undefined || ours === undefined || ours.mainCpuMicros <= 0) return 0;
  return Math.round((floor.mainCpuMicros / ours.mainCpuMicros) * 100) / 100;
}

/** The `--json` summary; field names are the contract in the issue. */
export function benchSummary(r: BenchResult): Record<string, number> {
  const p256 = r.rows.find((x) => x.keyType === "P-256");
  const rsa = r.rows.find((x) => x.keyType === "RSA-2048");
  return {
    floorPerSec: Math.round(p256?.floor.perSecond ?? 0),
    floorConcurrentPerSec: Math.round(p256?.floorConcurrent.perSecond ?? 0),
    oursPerSec: Math.round(p256?.node.perSecond ?? 0),
    concurrentPerSec: Math.round(p256?.nodeConcurrent.perSecond ?? 0),
    bundleGzipBytes: r.bundle.gzipBytes,
    bundleBytes: r.bundle.bytes,
    workerdPerSec: Math.round(p256?.workerd.perSecond ?? 0),
    workerdConcurrentPerSec: Math.round(p256?.workerdConcurrent.perSecond ?? 0),
    rsaFloorPerSec: Math.round(rsa?.floor.perSecond ?? 0),
    rsaOursPerSec: Math.round(rsa?.node.perSecond ?? 0),
    rsaConcurrentPerSec: Math.round(rsa?.nodeConcurrent.perSecond ?? 0),
    firstRequestMs: Math.round(r.firstRequest.firstSignMs * 10) / 10,
    workerdStartupMs: Math.round(r.firstRequest.startupMs),
    workerdHealthzPerSec: Math.round(r.workerdHealthz.perSecond),
    // Main-thread CPU per issuance, floor / ours (1 = the core costs the event loop what the floor does).
    mainCpuRatio: cpuRatio(p256?.floor, p256?.node),
    mainCpuConcurrentRatio: cpuRatio(p256?.floorConcurrent, p256?.nodeConcurrent),
    rsaMainCpuRatio: cpuRatio(rsa?.floor, rsa?.node),
    rsaMainCpuConcurrentRatio: cpuRatio(rsa?.floorConcurrent, rsa?.nodeConcurrent),
  };
}
