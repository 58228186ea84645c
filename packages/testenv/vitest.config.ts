import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    name: "@edgeca/testenv",
    // One real control plane per run, shared with other projects that list the same file.
    globalSetup: ["./src/vitest/global-setup.ts"],
    // Real processes: starting kube-apiserver or kubectl takes seconds on a busy 2-core machine.
    testTimeout: 60_000,
    hookTimeout: 180_000,
  },
});
