/** `edgeca local up --clusters`: bad values are usage errors naming the flag, before anything starts. */
import { describe, expect, it } from "vitest";
import { UsageError } from "../command.ts";
import { localUpCommand } from "./local-up.ts";

describe("edgeca local up --clusters", () => {
  it.each([["0"], ["5"], ["two"], ["1.5"]])("refuses --clusters %s naming the range", async (n) => {
    const run = localUpCommand.run(["--state-dir", "/nonexistent/never-created", "--clusters", n]);
    await expect(run).rejects.toThrow(UsageError);
    await expect(localUpCommand.run(["--state-dir", "/nonexistent/never-created", "--clusters", n])).rejects.toThrow(`--clusters must be an integer from 1 to 4, got "${n}"`);
  });

  it("refuses a trust-domain list that is neither one nor one per cluster, and an invalid trust domain", async () => {
    await expect(localUpCommand.run(["--state-dir", "/nonexistent/x", "--clusters", "2", "--trust-domain", "a.example,b.example,c.example"])).rejects.toThrow(
      "--trust-domain: 3 trust domains for 2 cluster(s); give one, or one per cluster",
    );
    await expect(localUpCommand.run(["--state-dir", "/nonexistent/x", "--clusters", "2", "--trust-domain", "a.example,B AD"])).rejects.toThrow(/--trust-domain "a\.example,B AD": each a SPIFFE trust domain/);
  });
});
