/**
 * Fresh signer material in a directory, made by `edgeca init` run as its own process — the operator's
 * path, so the demo, the benchmark and the end-to-end tests use exactly what an operator gets.
 */
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCli } from "./cli-process.ts";

/** Runs `edgeca init --out DIR [extra flags]` into a new temporary directory and returns DIR. */
export async function initMaterial(extraArgs: readonly string[] = []): Promise<string> {
  const dir = join(await mkdtemp(join(tmpdir(), "edgeca-material-")), "material");
  const result = await runCli(["init", "--out", dir, ...extraArgs], { timeoutMs: 120_000 });
  if (result.status !== 0) {
    throw new Error(`edgeca init --out ${dir} failed (status ${String(result.status)}):\n${result.stderr}${result.stdout}`);
  }
  return dir;
}
