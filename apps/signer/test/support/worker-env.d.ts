// Bindings the workerd tests see (set in vitest.config.ts), and the main module for `exports.default`.
// A global script (no top-level import), so `import()` is the only way to name the main module here.
declare namespace Cloudflare {
  interface Env {
    EDGECA_CONFIG: string;
    EDGECA_CA_KEY_CA1: string;
    TEST_FIXTURES: string;
    EDGECA_BUDGETS: DurableObjectNamespace;
  }
  interface GlobalProps {
    // eslint-disable-next-line @typescript-eslint/consistent-type-imports -- declaration merging needs a global script
    mainModule: typeof import("../../src/index.ts");
  }
}
