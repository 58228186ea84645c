import { defineConfig } from "vitest/config";

// The signer's Node-side tests: the signing core checked by independent parsers (node:crypto, openssl)
// and `wrangler deploy --dry-run` of the real bundle.
export default defineConfig({
  test: {
    name: "@edgeca/signer:node",
    environment: "node",
    include: ["node-test/**/*.test.ts"],
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
