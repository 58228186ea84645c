/**
 * Issuance budgets of one cluster (docs/configuration.md "Budgets"): how many certificates the signer
 * issues per time window for the whole cluster, for one SPIFFE ID and for one set of control-plane DNS
 * names, and what it does when the counting backend cannot be asked. The defaults are sized so that
 * renewals, restarts and rollouts never meet them (the reasoning is in docs/configuration.md).
 */
import * as z from "zod";

/** `limit` issuances per `windowSeconds`, counted in a window that opens with the first issuance after the last one closed. */
export const Budget = z.object({
  limit: z.number().int().min(1).max(10_000_000),
  windowSeconds: z.number().int().min(1).max(86_400),
});
export type Budget = z.infer<typeof Budget>;

/** What the signer does when the budget backend (the Durable Object) cannot answer. */
export const BudgetFailMode = z.enum(["fail-open", "fail-closed"]);
export type BudgetFailMode = z.infer<typeof BudgetFailMode>;

export const BudgetsConfig = z.object({
  /** Every issuance of the cluster. */
  cluster: Budget.default({ limit: 20_000, windowSeconds: 3600 }),
  /** Issuances for one workload SPIFFE ID (one ServiceAccount). */
  perIdentity: Budget.default({ limit: 2_000, windowSeconds: 3600 }),
  /** Issuances for one set of DNS names (the control-plane profile). */
  perDnsNames: Budget.default({ limit: 100, windowSeconds: 3600 }),
  /** fail-open: issue and mark the audit record; fail-closed: answer 503, which the shim retries. */
  onBackendUnavailable: BudgetFailMode.default("fail-open"),
});
export type BudgetsConfig = z.infer<typeof BudgetsConfig>;
