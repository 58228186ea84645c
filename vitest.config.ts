import { defineConfig } from "vitest/config";

// One run for the whole workspace; each package has its own vitest.config.ts (the signer's runs in workerd).
export default defineConfig({
  test: {
    projects: ["packages/*", "apps/*"],
  },
});
