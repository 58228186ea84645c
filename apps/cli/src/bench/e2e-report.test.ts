import { describe, expect, it } from "vitest";
import type { E2eBenchResult, SignerRun } from "./e2e-bench.ts";
import { e2eRatios, formatE2eTable } from "./e2e-report.ts";

const run = (signer: SignerRun["signer"], allIssuedMs: number, p99Ms: number, over: Partial<SignerRun> = {}): SignerRun => ({
  signer,
  signerName: signer === "edgeca" ? "example.com/foo" : "kubernetes.io/kube-apiserver-client",
  count: 100,
  issued: 100,
  allIssuedMs,
  createdMs: allIssuedMs,
  issuedPerSecond: 100 / (allIssuedMs / 1000),
  p50Ms: p99Ms / 2,
  p99Ms,
  maxMs: p99Ms,
  p50FromCreationTimestampMs: p99Ms,
  p99FromCreationTimestampMs: p99Ms,
  lost: 0,
  wronglyFailed: 0,
  verified: 100,
  retries: 0,
  cpuSeconds: {},
  problems: [],
  ...over,
});

const result = (edgeca: SignerRun, signerRttMs = 0): E2eBenchResult => ({
  options: { count: 100, inFlight: 16, signerRttMs, waitSeconds: 120, kcmQps: 1000 },
  runs: [run("kube-controller-manager", 10_000, 4000), edgeca],
});

describe("bench e2e's verdict", () => {
  it("is met when the ratios are within the targets and every CSR of both runs was issued and verified", () => {
    expect(e2eRatios(result(run("edgeca", 10_500, 1000)))).toEqual({ allIssued: 1.05, p99: 0.25, met: true });
    expect(e2eRatios(result(run("edgeca", 12_000, 1000)))).toMatchObject({ met: false });
    expect(e2eRatios(result(run("edgeca", 12_000, 1000), 30))).toMatchObject({ met: true });
  });

  it("is missed, naming the run, when a CSR was lost, wrongly Failed or not verified, whatever the ratios", () => {
    for (const over of [{ issued: 99, lost: 1 }, { issued: 99, wronglyFailed: 1 }, { verified: 99 }]) {
      const r = result(run("edgeca", 9000, 1000, over));
      expect(e2eRatios(r).met).toBe(false);
      expect(formatE2eTable(r)).toMatch(/MISSED: not every CSR issued and verified \(edgeca\)/);
    }
  });
});
