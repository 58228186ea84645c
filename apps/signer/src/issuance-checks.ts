/**
 * The checks every issuance passes after policy, shared by the CSR and pod profiles: the issuing CA valid
 * now, and one draw from the cluster's budgets (budget.ts).
 */
import type { ClusterConfig } from "@edgeca/shared";
import { budgetRequests, budgetSubject, type BudgetRequest, type IssuanceGate, type TakeResult } from "./budget.ts";
import { RateLimitedError, UnavailableError } from "./errors.ts";
import type { Issuer } from "./issuer.ts";
import type { Approved } from "./policy.ts";
import type { SignFacts } from "./sign-facts.ts";

/** Why `issuer` cannot sign at `now` (outside its chain's validity), or undefined. */
export function unreadinessAt(issuer: Issuer, now: number): string | undefined {
  if (now < issuer.notBefore.getTime()) return `issuing CA "${issuer.id}" is not valid before ${issuer.notBefore.toISOString()}`;
  if (now >= issuer.notAfter.getTime()) return `issuing CA "${issuer.id}" expired at ${issuer.notAfter.toISOString()}`;
  return undefined;
}

/** Draws one issuance from the cluster's budgets: 429 when one is spent; the fail mode when the backend fails. */
export async function takeBudget(gate: IssuanceGate, cluster: ClusterConfig, approved: Pick<Approved, "profile" | "uris" | "dnsNames">, facts: SignFacts | undefined): Promise<void> {
  const requests = budgetRequests(cluster, approved);
  let result;
  try {
    result = await gate.take(cluster.name, requests);
  } catch (error) {
    budgetBackendFailed(error, cluster, facts);
    return;
  }
  admitOrThrottle(result, requests, cluster, facts);
}

/**
 * The cluster's `onBackendUnavailable` for an issuance whose budgets could not be asked: fail-closed
 * throws 503, fail-open returns (the issuance goes ahead, `budgetUnchecked` in its audit record).
 */
export function budgetBackendFailed(error: unknown, cluster: ClusterConfig, facts: SignFacts | undefined): void {
  const why = error instanceof Error ? error.message : String(error);
  if (cluster.budgets.onBackendUnavailable === "fail-closed") {
    throw new UnavailableError(`issuance budgets cannot be checked (${why}) and cluster "${cluster.name}" is configured fail-closed`, { cause: error });
  }
  if (facts !== undefined) facts.budgetUnchecked = why;
}

/** Returns when the counter admitted the issuance; throws 429 naming the spent budget of `requests` otherwise. */
export function admitOrThrottle(result: TakeResult, requests: readonly BudgetRequest[], cluster: ClusterConfig, facts: SignFacts | undefined): void {
  if (result.ok) return;
  const spent = requests[result.index];
  if (spent === undefined) throw new Error(`the budget backend named budget ${result.index} of ${requests.length}`);
  const budget = { scope: spent.scope, limit: spent.limit, windowSeconds: spent.windowSeconds, retryAfterSeconds: result.retryAfterSeconds };
  if (facts !== undefined) facts.budget = budget;
  throw new RateLimitedError({ ...budget, subject: budgetSubject(spent, cluster.name) }, cluster.name);
}
