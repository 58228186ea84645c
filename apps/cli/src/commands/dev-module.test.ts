/**
 * The layers, checked at run time: `edgeca` with @edgeca/testenv made unresolvable (a module hook that fails
 * its resolution exactly as Node does for a package that is not installed), as after `pnpm install --prod`.
 * The production commands still load and run; the development commands say what is missing and exit 1.
 */
import { spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLI_MAIN, collectProcess, REPO_ROOT, type CliResult } from "../signer/cli-process.ts";
import { loadDevModule } from "./dev-module.ts";

const BENCH_MAIN = join(REPO_ROOT, "apps", "cli", "src", "bench", "main.ts");

// Node's own words for a missing package (`Cannot find package 'X' imported from Y`, ERR_MODULE_NOT_FOUND).
const HOOKS = `export async function resolve(specifier, context, next) {
  if (specifier === "@edgeca/testenv" || specifier.startsWith("@edgeca/testenv/")) {
    const error = new Error("Cannot find package '@edgeca/testenv' imported from " + context.parentURL);
    error.code = "ERR_MODULE_NOT_FOUND";
    throw error;
  }
  return next(specifier, context);
}
`;

let dir: string;
let registrar: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "edgeca-no-testenv-"));
  await writeFile(join(dir, "hooks.mjs"), HOOKS);
  registrar = join(dir, "register.mjs");
  await writeFile(registrar, `import { register } from "node:module";\nregister(new URL("./hooks.mjs", import.meta.url));\n`);
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Runs `script args` under tsx with testenv unresolvable (bounded: a stack that starts anyway is killed). */
function runWithoutTestenv(script: string, args: readonly string[]): Promise<CliResult> {
  // Registered after tsx, so this hook runs first in the chain.
  const child = spawn(process.execPath, ["--import", "tsx", "--import", registrar, script, ...args], { cwd: REPO_ROOT, stdio: ["ignore", "pipe", "pipe"] });
  return collectProcess(child, 30_000);
}

describe("edgeca without @edgeca/testenv installed", () => {
  it("runs a production command: signer serve loads the edge and workerd runner and names the missing material", async () => {
    const result = await runWithoutTestenv(CLI_MAIN, ["signer", "serve", "--dir", join(dir, "no-material")]);
    expect(result.stderr).not.toContain("@edgeca/testenv");
    expect(result.stderr).toContain(join(dir, "no-material", "worker", "config.json"));
    expect(result.status).not.toBe(0);
  });

  it("lists every command (each command's module loads)", async () => {
    const result = await runWithoutTestenv(CLI_MAIN, ["--help"]);
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/signer serve/);
    expect(result.stdout).toMatch(/local up/);
  });

  for (const [script, args, commandLine] of [
    [CLI_MAIN, ["local", "up", "--state-dir", "STATE", "--no-shim"], "edgeca local up"],
    [CLI_MAIN, ["demo"], "edgeca demo"],
    [BENCH_MAIN, ["signer", "--count", "1"], "npm run bench -- signer"],
  ] as const) {
    it(`\`${commandLine}\` exits 1 saying the test bed is not installed`, async () => {
      const result = await runWithoutTestenv(script, args.map((a) => (a === "STATE" ? join(dir, "state") : a)));
      expect(result.stderr).toContain(`\`${commandLine}\` runs the development stack: @edgeca/testenv is not installed`);
      expect(result.stderr).not.toMatch(/\n\s+at /);
      expect(result.status).toBe(1);
    });
  }
});

describe("loadDevModule", () => {
  it("rethrows a missing module that is not the test bed", async () => {
    const other = Object.assign(new Error("Cannot find package 'left-pad' imported from /x.ts"), { code: "ERR_MODULE_NOT_FOUND" });
    await expect(loadDevModule("edgeca local up", () => Promise.reject(other))).rejects.toBe(other);
  });
});
