/**
 * Edits every cluster of an `edgeca init` directory's Worker configuration (DIR/worker/config.json, the
 * value of the EDGECA_CONFIG var), checks the result with the signer's own schema and only then replaces
 * the file, atomically (writeFileAtomic), with the mode `edgeca init` gives it. setBudgets and
 * setPodCertificates are its two edits.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { describeConfigError, SignerConfig } from "@edgeca/shared";
import { writeFileAtomic } from "../ca/atomic-write.ts";

/**
 * Applies `edit` to each cluster's entry; refuses, leaving the file as it was, with
 * "PATH with WHAT is invalid: …" when the schema rejects the result (`what` names the change).
 */
export async function editWorkerClusters(dir: string, what: string, edit: (cluster: Record<string, unknown>) => void): Promise<void> {
  const path = join(dir, "worker", "config.json");
  const config = JSON.parse(await readFile(path, "utf8")) as { clusters?: Record<string, unknown>[] };
  for (const cluster of config.clusters ?? []) edit(cluster);
  const parsed = SignerConfig.safeParse(config);
  if (!parsed.success) throw new Error(`${path} with ${what} is invalid: ${describeConfigError(parsed.error)}`);
  await writeFileAtomic(path, `${JSON.stringify(config, null, 2)}\n`, 0o644);
}
