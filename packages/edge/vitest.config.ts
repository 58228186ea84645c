import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    name: "@edgeca/edge",
    // Real sockets and TLS handshakes (and wrangler for the bundle tests) on a shared 2-core machine.
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
