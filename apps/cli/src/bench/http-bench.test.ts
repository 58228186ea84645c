import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { REPO_ROOT } from "../signer/cli-process.ts";

const BENCH_MAIN = fileURLToPath(new URL("./main.ts", import.meta.url));

/**
 * Smoke test: `npm run bench -- http` end to end with tiny bounds. Its figures are not asserted, but both
 * sides must have answered with real certificates. Without cfssl (and not root, so it cannot install it)
 * the benchmark exits 1 saying to install golang-cfssl, and this test fails with that message.
 */
describe("npm run bench -- http (smoke)", () => {
  it("runs signer serve against cfssl serve and ends with one JSON line of the table's figures", async () => {
    const args = ["--import", "tsx", BENCH_MAIN, "http", "--json", "--count", "24", "--seconds", "1", "--concurrency", "4", "--batch", "4"];
    const child = spawn(process.execPath, args, { cwd: REPO_ROOT, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (s: string) => (stdout += s));
    child.stderr.setEncoding("utf8").on("data", (s: string) => (stderr += s));
    const timer = setTimeout(() => child.kill("SIGKILL"), 170_000);
    const status = await new Promise<number | null>((resolve) => child.on("close", resolve));
    clearTimeout(timer);
    expect(status, `${stderr}\n${stdout}`).toBe(0);
    expect(stdout).toMatch(/in flight +signer serve\/s +cfssl serve\/s +ours\/cfssl/);
    expect(stdout).toMatch(/^ +1 +\d+ +\d+ +\d+\.\d\d /m);
    expect(stdout).toMatch(/^ +4 +\d+ +\d+ +\d+\.\d\d /m);
    const summary = JSON.parse(stdout.trimEnd().split("\n").at(-1) ?? "") as Record<string, unknown>;
    for (const key of ["one", "concurrent"]) {
      for (const field of ["OursPerSec", "CfsslPerSec", "Ratio", "OursP50Ms", "OursP99Ms", "CfsslP50Ms", "CfsslP99Ms", "OursRequests", "CfsslRequests"]) {
        expect(typeof summary[`${key}${field}`], `${key}${field}`).toBe("number");
        expect(summary[`${key}${field}`], `${key}${field}`).toBeGreaterThan(0);
      }
      expect(typeof summary[`${key}TargetMet`]).toBe("boolean");
      // CPU per request of each part, from /proc in 10 ms ticks (a few requests may round to 0); the edge
      // has a thread of its own by default, and workerd signing 24 certificates uses a tick at least.
      for (const field of ["CpuWorkerdMs", "CpuEdgeThreadsMs", "CpuCfsslMs", "CpuMainThreadMs"]) {
        expect(summary[`${key}${field}`], `${key}${field}`).toBeGreaterThanOrEqual(0);
      }
      expect(summary[`${key}CpuWorkerdMs`]).toBeGreaterThan(0);
    }
    expect(summary.concurrentInFlight).toBe(4);
    // The batch row: 4 CSRs in one POST /v1/sign-batch, every item issued (the bench throws otherwise),
    // counted per certificate.
    expect(stdout).toMatch(/with batches, as the shim sends a burst: 4 CSRs in flight as POST \/v1\/sign-batch of 4/);
    expect(summary.batchItems).toBe(4);
    for (const field of ["OursPerSec", "CfsslPerSec", "Ratio", "OursRequests", "CpuWorkerdMs"]) expect(summary[`batch${field}`], `batch${field}`).toBeGreaterThan(0);
    expect(summary.batchOursRequests as number % 4).toBe(0);
    expect(summary.batchTargetMet).toBeUndefined();
    // The first answer of each side parsed as an X.509 certificate: ours for the CSR's SPIFFE ID from
    // init's issuing CA, cfssl's from the CA the benchmark made for it.
    expect(summary.oursCertificateSan).toBe("URI:spiffe://cluster.local/ns/default/sa/bookinfo-productpage");
    expect(summary.oursCertificateIssuer).toMatch(/^CN=edgeca issuing CA/);
    expect(summary.cfsslCertificateIssuer).toBe("CN=cfssl bench CA");
  }, 180_000);
});
