import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { REPO_ROOT } from "../signer/cli-process.ts";

const BENCH_MAIN = fileURLToPath(new URL("./main.ts", import.meta.url));

/** Smoke test only: the benchmark runs end to end with tiny bounds; its figures are not asserted. */
describe("npm run bench -- signer (smoke)", () => {
  it("runs with tiny bounds and ends with one JSON line carrying the contract's fields", async () => {
    const args = ["--import", "tsx", BENCH_MAIN, "signer", "--json", "--count", "5", "--seconds", "1", "--concurrency", "4"];
    const child = spawn(process.execPath, args, { cwd: REPO_ROOT, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (s: string) => (stdout += s));
    child.stderr.setEncoding("utf8").on("data", (s: string) => (stderr += s));
    const timer = setTimeout(() => child.kill("SIGKILL"), 150_000);
    const status = await new Promise<number | null>((resolve) => child.on("close", resolve));
    clearTimeout(timer);
    expect(status, stderr).toBe(0);
    expect(stdout).toContain("ours/floor");
    const last = stdout.trimEnd().split("\n").at(-1) ?? "";
    const summary = JSON.parse(last) as Record<string, unknown>;
    for (const field of ["floorPerSec", "oursPerSec", "concurrentPerSec", "bundleGzipBytes", "mainCpuRatio", "mainCpuConcurrentRatio"]) {
      expect(typeof summary[field], field).toBe("number");
      expect(summary[field], field).toBeGreaterThan(0);
    }
  }, 180_000);
});
