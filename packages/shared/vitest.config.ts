import { defineConfig } from "vitest/config";

// Runtime-neutral code: plain Node is enough (WebCrypto is global there as in workerd).
export default defineConfig({
  test: {
    name: "@edgeca/shared",
    environment: "node",
    include: ["src/**/*.test.ts"],
  },
});
