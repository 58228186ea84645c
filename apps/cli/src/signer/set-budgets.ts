/**
 * Gives every cluster of an `edgeca init` directory's Worker configuration the same issuance budgets
 * (docs/configuration.md "Budgets"), checked by the signer's own schema before the file is replaced.
 * For runs that are floods by design (the HTTP benchmark re-sends one CSR thousands of times a second) or
 * that show a budget at work (the demo's greedy identity).
 */
import { readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describeConfigError, SignerConfig, type BudgetsConfig } from "@edgeca/shared";

export type BudgetsInput = Partial<BudgetsConfig>;

export async function setBudgets(dir: string, budgets: BudgetsInput): Promise<void> {
  const path = join(dir, "worker", "config.json");
  const config = JSON.parse(await readFile(path, "utf8")) as { clusters?: Record<string, unknown>[] };
  for (const cluster of config.clusters ?? []) cluster["budgets"] = { ...(cluster["budgets"] as object | undefined), ...budgets };
  const parsed = SignerConfig.safeParse(config);
  if (!parsed.success) throw new Error(`${path} with budgets ${JSON.stringify(budgets)} is invalid: ${describeConfigError(parsed.error)}`);
  await writeFile(`${path}.tmp`, `${JSON.stringify(config, null, 2)}\n`);
  await rename(`${path}.tmp`, path);
}
