// Type-aware lint for the whole workspace (typescript-eslint with the project service).
import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  {
    ignores: ["**/node_modules/", "**/.tsbuild/", "**/dist/", "**/.wrangler/", "tools/bootstrap/", "**/worker-configuration.d.ts"],
  },
  js.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        projectService: { allowDefaultProject: ["vitest.config.ts"] },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      "@typescript-eslint/consistent-type-imports": "error",
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/no-non-null-assertion": "error",
      "@typescript-eslint/no-explicit-any": "error",
      // Template literals with numbers are the normal way to build messages here.
      "@typescript-eslint/restrict-template-expressions": ["error", { allowNumber: true }],
      // @kubernetes/client-node's generated models are data-only classes (a static attribute map, no
      // instance methods): object literals are how they are built and serialise identically.
      "@typescript-eslint/no-unsafe-class-instance-assignment": "off",
    },
  },
  {
    // Test support lives under each package's test/ (issue 11): production code must not reach it, or the
    // shim's esbuild bundle (from src/main.ts) and the Worker's bundle would ship it.
    files: ["**/src/**/*.ts"],
    ignores: ["**/*.test.ts"],
    rules: {
      "no-restricted-imports": ["error", {
        patterns: [{ group: ["**/test/**", "@edgeca/*/testing"], message: "test support (test/**, @edgeca/*/testing) is for tests only, not for production code under src/" }],
      }],
    },
  },
  {
    files: ["**/*.js", "**/*.mjs"],
    ...tseslint.configs.disableTypeChecked,
  },
);
