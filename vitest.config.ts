import { defineConfig } from "vitest/config";

// One run for the whole workspace; each package has its own vitest.config.ts (the signer's runs in workerd,
// and its Node-side checks, openssl and the wrangler bundle, are a second project).
export default defineConfig({
  test: {
    projects: ["packages/*", "apps/*", "apps/signer/vitest.node.config.ts"],
  },
});
