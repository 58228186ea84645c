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
    // Layers (issue 11): the CLI's production commands and the self-hosted signer's runtime never load the
    // test bed. The development commands reach it only by a dynamic import() at their entry
    // (apps/cli/src/commands/dev-module.ts), which this rule does not see, on purpose.
    files: ["apps/cli/src/**/*.ts", "packages/edge/src/**/*.ts"],
    ignores: ["apps/cli/src/bench/**", "apps/cli/src/demo/**", "apps/cli/src/local/**", "**/*.test.ts"],
    rules: {
      "@typescript-eslint/no-restricted-imports": [
        "error",
        {
          patterns: [
            {
              regex: "^@edgeca/testenv(/|$)",
              message: "production code must not import the test bed (@edgeca/testenv is a devDependency); a development command loads it with loadDevModule() from apps/cli/src/commands/dev-module.ts",
            },
            {
              regex: "^\\.{1,2}/(.*/)?(bench|demo|local)/",
              allowTypeImports: true,
              message: "bench/, demo/ and local/ run on the test bed: import their types only, and load their code with loadDevModule() at the command's entry",
            },
          ],
        },
      ],
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
    // Size limits (issue 11): no function over 80 lines, blank lines and comments not counted. Tests are
    // exempt: a describe()/it() callback is a function by nature, and its length is the test's story.
    files: ["**/*.ts"],
    ignores: ["**/*.test.ts"],
    rules: {
      "max-lines-per-function": ["error", { max: 80, skipBlankLines: true, skipComments: true }],
    },
  },
  {
    // Size limits (issue 11): no source file over 300 lines, tests included, counted as `wc -l` counts them
    // (blank lines and comments too: the standard is the file's length, and a reader scrolls past both).
    files: ["**/*.ts"],
    rules: {
      "max-lines": ["error", { max: 300, skipBlankLines: false, skipComments: false }],
    },
  },
  {
    files: ["**/*.js", "**/*.mjs"],
    ...tseslint.configs.disableTypeChecked,
  },
);
