/**
 * `bench e2e` on a small burst: real etcd + kube-apiserver, kube-controller-manager (built on first use
 * from the same module as kube-apiserver), the Worker in workerd behind the edge emulator, and the shim.
 * Figures are not judged here (timed tests on a shared machine prove nothing); the run's correctness is.
 */
import { describe, expect, it } from "vitest";
import { runE2eBench } from "./e2e-bench.ts";
import { e2eSummary, formatE2eTable } from "./e2e-report.ts";

const COUNT = 40;
const RTT_MS = 30;

describe("bench e2e", () => {
  it(
    "issues every CSR of a burst through kube-controller-manager and edgeca, verified, none lost or failed",
    async () => {
      const lines: string[] = [];
      const result = await runE2eBench({ count: COUNT, inFlight: 8, signerRttMs: RTT_MS, waitSeconds: 60, kcmQps: 1000 }, (line) => lines.push(line));
      expect(result.runs.map((r) => r.signer)).toEqual(["kube-controller-manager", "edgeca"]);
      for (const run of result.runs) {
        expect(run.problems, run.signer).toEqual([]);
        expect(run, run.signer).toMatchObject({ count: COUNT, issued: COUNT, lost: 0, wronglyFailed: 0, verified: COUNT });
        expect(run.allIssuedMs).toBeGreaterThanOrEqual(run.createdMs);
        expect(run.p50Ms).toBeGreaterThan(0);
        expect(run.p50Ms).toBeLessThanOrEqual(run.p99Ms);
        expect(run.p99Ms).toBeLessThanOrEqual(run.maxMs);
        expect(run.cpuSeconds["kube-apiserver"]).toBeGreaterThan(0);
      }
      const edgeca = result.runs[1];
      // The edge held every answer for the round trip: no certificate can come back sooner.
      expect(edgeca?.p50Ms).toBeGreaterThanOrEqual(RTT_MS);
      expect(edgeca?.cpuSeconds.shim).toBeGreaterThan(0);
      expect(edgeca?.cpuSeconds.workerd).toBeGreaterThan(0);
      // Read from the shim's own metric: the burst's CSRs (at least, more if any was retried) in fewer or as many requests.
      expect(edgeca?.signerRequestCsrs).toBeGreaterThanOrEqual(COUNT);
      expect(edgeca?.signerRequests).toBeGreaterThan(0);
      expect(edgeca?.signerRequests).toBeLessThanOrEqual(edgeca?.signerRequestCsrs ?? 0);

      const table = formatE2eTable(result);
      expect(table).toMatch(/^kube-controller-manager \(kubernetes\.io\/kube-apiserver-client\)\s+40\s+40 /m);
      expect(table).toMatch(/^edgeca \(example\.com\/foo\)\s+40\s+40 /m);
      expect(table).toContain("edgeca / kube-controller-manager: all issued");
      expect(table).toMatch(/edgeca's shim sent the signer \d+ requests for \d+ CSRs during the burst/);
      const summary = JSON.parse(JSON.stringify(e2eSummary(result))) as Record<string, unknown>;
      expect(summary).toMatchObject({ count: COUNT, signerRttMs: RTT_MS, kcm: { issued: COUNT, lost: 0 }, edgeca: { issued: COUNT, verified: COUNT } });
      expect(typeof summary.ratioAllIssued).toBe("number");
      expect(lines.some((l) => l.startsWith("CPU meters:"))).toBe(true);
    },
    // A cold CI machine builds kube-controller-manager first (after kube-apiserver, mostly from the cache).
    40 * 60_000,
  );
});
