import { cloudflareTest } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";
import { makeFixtures } from "./node-test/material.ts";

// Tests of the Worker in workerd, through its real entry point. The CA material, token keys and CSRs are
// made here, in Node, at test time and passed in as bindings (nothing is committed): the configured
// bindings are configuration "a"; tests that need another configuration call the default export with it.
export default defineConfig({
  plugins: [
    cloudflareTest(async () => {
      const fixtures = await makeFixtures();
      return {
        wrangler: { configPath: "./wrangler.jsonc" },
        miniflare: {
          // The test runner (vitest inside workerd) needs Node APIs; the Worker does not, so the flag is set
          // here and not in wrangler.jsonc (which `wrangler deploy` and `edgeca signer serve` use).
          compatibilityFlags: ["nodejs_compat"],
          bindings: { EDGECA_CONFIG: JSON.stringify(fixtures.configs.a), ...fixtures.secrets, TEST_FIXTURES: JSON.stringify(fixtures) },
        },
      };
    }),
  ],
  test: {
    name: "@edgeca/signer",
    include: ["src/**/*.test.ts"],
  },
});
