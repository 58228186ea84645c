/** The benchmark's table and its one-line JSON summary. */
import type { BenchResult } from "./signer-bench.ts";

const TARGET_RATIO = 0.75;
const TARGET_CONCURRENT = 3000;
const TARGET_BUNDLE_GZIP = 150 * 1024;

const per = (n: number): string => n.toFixed(0).padStart(8);
const ratio = (a: number, b: number): string => (b > 0 ? (a / b).toFixed(2) : "-").padStart(6);

/** Aligned text: one line per key type and runtime, then bundle size and first-request latency. */
export function formatBenchTable(r: BenchResult): string {
  const lines = [
    `issuances per second (bounded: ≤ ${r.options.count} per run, ≤ ${r.options.seconds} s; concurrent = ${r.options.concurrency} in flight)`,
    "",
    "key        runtime   mode          /s   floor/s  ours/floor",
  ];
  for (const row of r.rows) {
    const f = row.floor.perSecond;
    lines.push(`${row.keyType.padEnd(9)}  floor     one         ${per(f)}  ${per(f)}  ${ratio(f, f)}`);
    lines.push(`${row.keyType.padEnd(9)}  node      one         ${per(row.node.perSecond)}  ${per(f)}  ${ratio(row.node.perSecond, f)}`);
    lines.push(`${row.keyType.padEnd(9)}  node      concurrent  ${per(row.nodeConcurrent.perSecond)}  ${per(f)}  ${ratio(row.nodeConcurrent.perSecond, f)}`);
    lines.push(`${row.keyType.padEnd(9)}  workerd   one         ${per(row.workerd.perSecond)}  ${per(f)}  ${ratio(row.workerd.perSecond, f)}`);
    lines.push(`${row.keyType.padEnd(9)}  workerd   concurrent  ${per(row.workerdConcurrent.perSecond)}  ${per(f)}  ${ratio(row.workerdConcurrent.perSecond, f)}`);
  }
  const p256 = r.rows.find((x) => x.keyType === "P-256");
  const kib = (b: number): string => `${(b / 1024).toFixed(1)} KiB`;
  lines.push(
    "",
    `Worker bundle: ${kib(r.bundle.bytes)}, gzipped ${kib(r.bundle.gzipBytes)} (target ≤ ${kib(TARGET_BUNDLE_GZIP)}: ${r.bundle.gzipBytes <= TARGET_BUNDLE_GZIP ? "met" : "MISSED"})`,
    `workerd first request: start ${r.firstRequest.startupMs.toFixed(0)} ms, first /v1/sign ${r.firstRequest.firstSignMs.toFixed(1)} ms, second ${r.firstRequest.secondSignMs.toFixed(1)} ms`,
  );
  if (p256 !== undefined) {
    const ours = p256.node.perSecond / p256.floor.perSecond;
    lines.push(
      `targets (P-256, Node): ours/floor ${ours.toFixed(2)} (≥ ${TARGET_RATIO}: ${ours >= TARGET_RATIO ? "met" : "MISSED"}), ` +
        `concurrent ${p256.nodeConcurrent.perSecond.toFixed(0)}/s (≥ ${TARGET_CONCURRENT}: ${p256.nodeConcurrent.perSecond >= TARGET_CONCURRENT ? "met" : "MISSED"})`,
    );
  }
  return lines.join("\n");
}

/** The `--json` summary; field names are the contract in the issue. */
export function benchSummary(r: BenchResult): Record<string, number> {
  const p256 = r.rows.find((x) => x.keyType === "P-256");
  const rsa = r.rows.find((x) => x.keyType === "RSA-2048");
  return {
    floorPerSec: Math.round(p256?.floor.perSecond ?? 0),
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
  };
}
