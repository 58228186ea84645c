/**
 * Gives every cluster of an `edgeca init` directory's Worker configuration the same issuance budgets
 * (docs/configuration.md "Budgets"), checked by the signer's own schema before the file is replaced.
 * For runs that are floods by design (the HTTP benchmark re-sends one CSR thousands of times a second) or
 * that show a budget at work (the demo's greedy identity).
 */
import type { BudgetsConfig } from "@edgeca/shared";
import { editWorkerClusters } from "./worker-config-edit.ts";

export type BudgetsInput = Partial<BudgetsConfig>;

export async function setBudgets(dir: string, budgets: BudgetsInput): Promise<void> {
  await editWorkerClusters(dir, `budgets ${JSON.stringify(budgets)}`, (cluster) => {
    cluster["budgets"] = { ...(cluster["budgets"] as object | undefined), ...budgets };
  });
}
