import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    name: "@edgeca/shim",
    include: ["src/**/*.test.ts", "test/**/*.test.ts"],
    // The run's one real control plane, shared with the other projects (packages/testenv).
    globalSetup: ["../../packages/testenv/src/vitest/global-setup.ts"],
    // Real processes (kube-apiserver, workerd, kubectl) on a busy 2-core machine.
    testTimeout: 60_000,
    hookTimeout: 180_000,
  },
});
