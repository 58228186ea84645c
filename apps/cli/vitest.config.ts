import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    name: "@edgeca/cli",
    // The end-to-end tests start workerd and spawn the CLI; give them room on a shared 2-core machine.
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
