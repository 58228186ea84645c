/** `npm run bench -- http`: the table and its one-line JSON summary. */
import type { HttpBenchResult, HttpBenchRow } from "./http-bench.ts";

/** issue 8: signer serve ≥ 0.8 × cfssl one at a time, ≥ 1.0 × with 16 in flight. */
const TARGET_ONE = 0.8;
const TARGET_CONCURRENT = 1.0;

const ratioOf = (row: HttpBenchRow): number => (row.cfssl.rate.perSecond > 0 ? row.ours.rate.perSecond / row.cfssl.rate.perSecond : 0);
const targetOf = (row: HttpBenchRow): number => (row.inFlight === 1 ? TARGET_ONE : TARGET_CONCURRENT);

/** Aligned text: one line per in-flight level, then the certificates both sides answered with. */
export function formatHttpTable(r: HttpBenchResult): string {
  const o = r.options;
  const lines = [
    `signs per second over loopback, same client (node keep-alive agent), same P-256 CSR, alternating slices`,
    `(bounded: ≤ ${o.count} requests and ≤ ${o.seconds} s per side and level; load average ${r.loadAverage[0].toFixed(2)} → ${r.loadAverage[1].toFixed(2)})`,
    "",
    "in flight   signer serve/s   cfssl serve/s   ours/cfssl   target   ours p50/p99 ms    cfssl p50/p99 ms",
  ];
  const ms = (a: number, b: number): string => `${a.toFixed(2)} / ${b.toFixed(2)}`;
  const perRequest = r.rows.filter((row) => row.batch <= 1);
  for (const row of perRequest) {
    const ratio = ratioOf(row);
    const target = targetOf(row);
    lines.push(
      [
        String(row.inFlight).padStart(9),
        row.ours.rate.perSecond.toFixed(0).padStart(16),
        row.cfssl.rate.perSecond.toFixed(0).padStart(15),
        ratio.toFixed(2).padStart(12),
        `≥ ${target.toFixed(1)} ${ratio >= target ? "met" : "MISSED"}`.padStart(14),
        ms(row.ours.p50Ms, row.ours.p99Ms).padStart(17),
        ms(row.cfssl.p50Ms, row.cfssl.p99Ms).padStart(19),
      ].join(" "),
    );
  }
  for (const row of r.rows.filter((x) => x.batch > 1)) {
    const ratio = ratioOf(row);
    lines.push(
      "",
      `with batches, as the shim sends a burst: ${row.inFlight} CSRs in flight as POST /v1/sign-batch of ${row.batch}, against cfssl with ${row.inFlight} in flight (no target: issue 8's are per request)`,
      `${String(row.inFlight).padStart(9)} ${row.ours.rate.perSecond.toFixed(0).padStart(16)} ${row.cfssl.rate.perSecond.toFixed(0).padStart(15)} ${ratio.toFixed(2).padStart(12)}   certificates/s; ours p50/p99 per batch ${ms(row.ours.p50Ms, row.ours.p99Ms)} ms`,
    );
  }
  lines.push("", "CPU ms per certificate (timed slices, from /proc): workerd and edge threads per signer-serve certificate, cfssl per cfssl request, main thread (client of both sides) per certificate");
  for (const row of r.rows) {
    const c = row.cpuMs;
    const edge = c.edgeThreads === undefined ? "on the main thread" : c.edgeThreads.toFixed(2);
    const label = row.batch > 1 ? `${row.inFlight} in batches of ${row.batch}` : `${row.inFlight} in flight`;
    lines.push(`${label.padStart(19)}: workerd ${c.workerd.toFixed(2)}, edge threads ${edge}, cfssl ${c.cfssl.toFixed(2)}, main thread ${c.mainThread.toFixed(2)}`);
  }
  const c = r.firstCertificates;
  lines.push(
    "",
    `signer serve (mTLS, edge → workerd) answered a certificate for ${c.ours.subjectAltName || "(no SAN)"} from "${c.ours.issuer.replaceAll("\n", ", ")}"`,
    `cfssl serve (plain HTTP) answered a certificate from "${c.cfssl.issuer.replaceAll("\n", ", ")}"`,
  );
  return lines.join("\n");
}

/** The `--json` summary: one flat object. */
export function httpSummary(r: HttpBenchResult): Record<string, number | boolean | string> {
  const out: Record<string, number | boolean | string> = {
    loadAverageStart: r.loadAverage[0],
    loadAverageEnd: r.loadAverage[1],
    oursCertificateSan: r.firstCertificates.ours.subjectAltName,
    oursCertificateIssuer: r.firstCertificates.ours.issuer,
    cfsslCertificateIssuer: r.firstCertificates.cfssl.issuer,
  };
  for (const row of r.rows) {
    const key = row.batch > 1 ? "batch" : row.inFlight === 1 ? "one" : "concurrent";
    out[`${key}InFlight`] = row.inFlight;
    if (row.batch > 1) out[`${key}Items`] = row.batch;
    out[`${key}OursPerSec`] = Math.round(row.ours.rate.perSecond);
    out[`${key}CfsslPerSec`] = Math.round(row.cfssl.rate.perSecond);
    out[`${key}Ratio`] = Math.round(ratioOf(row) * 100) / 100;
    if (row.batch <= 1) out[`${key}TargetMet`] = ratioOf(row) >= targetOf(row);
    out[`${key}OursP50Ms`] = Math.round(row.ours.p50Ms * 100) / 100;
    out[`${key}OursP99Ms`] = Math.round(row.ours.p99Ms * 100) / 100;
    out[`${key}CfsslP50Ms`] = Math.round(row.cfssl.p50Ms * 100) / 100;
    out[`${key}CfsslP99Ms`] = Math.round(row.cfssl.p99Ms * 100) / 100;
    out[`${key}OursRequests`] = row.ours.rate.ops;
    out[`${key}CfsslRequests`] = row.cfssl.rate.ops;
    const cpu = (ms: number): number => Math.round(ms * 1000) / 1000;
    out[`${key}CpuWorkerdMs`] = cpu(row.cpuMs.workerd);
    if (row.cpuMs.edgeThreads !== undefined) out[`${key}CpuEdgeThreadsMs`] = cpu(row.cpuMs.edgeThreads);
    out[`${key}CpuCfsslMs`] = cpu(row.cpuMs.cfssl);
    out[`${key}CpuMainThreadMs`] = cpu(row.cpuMs.mainThread);
  }
  return out;
}
