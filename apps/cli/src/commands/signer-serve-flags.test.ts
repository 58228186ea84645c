import { describe, expect, it } from "vitest";
import { runCli } from "../signer/cli-process.ts";

describe("edgeca signer serve: flag values", () => {
  for (const [flag, value, message] of [
    ["--rtt-ms", "abc", '--rtt-ms must be a whole number from 0 to 60000, got "abc"'],
    ["--workerd", "0", '--workerd must be a whole number from 1 to 16, got "0"'],
  ] as const) {
    it(`exits 2 naming ${flag} for "${value}" before reading any material`, async () => {
      const result = await runCli(["signer", "serve", "--dir", "/nonexistent/edgeca", `${flag}=${value}`]);
      expect(result.status).toBe(2);
      expect(result.stderr).toContain(message);
    });
  }

  it("refuses --workerd over 1, naming the budgets it would multiply, before reading any material", async () => {
    const result = await runCli(["signer", "serve", "--dir", "/nonexistent/edgeca", "--workerd=2"]);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain("--workerd 2: each workerd process keeps its own issuance budgets (a Durable Object per process), so 2 processes would allow 2 times every budget; signer serve runs one");
  });

  it("documents --rtt-ms and --workerd in its help", async () => {
    const result = await runCli(["signer", "serve", "--help"]);
    expect(result.stdout + result.stderr).toMatch(/--rtt-ms N +delay every answer/);
    expect(result.stdout + result.stderr).toMatch(/--workerd N +workerd processes/);
  });
});
