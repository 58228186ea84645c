/**
 * Fresh signer material in a new temporary directory, made by `edgeca init`'s own library
 * (`createMaterial` + `writeMaterial`, the code the command runs), for the demo, the benchmark and the
 * end-to-end tests.
 */
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createMaterial, writeMaterial, type InitOptions } from "../init/index.ts";

/** Writes what `edgeca init --out DIR` writes into a new temporary DIR and returns DIR. */
export async function initMaterial(options: InitOptions = {}): Promise<string> {
  const dir = join(await mkdtemp(join(tmpdir(), "edgeca-material-")), "material");
  await writeMaterial(dir, await createMaterial(options));
  return dir;
}
