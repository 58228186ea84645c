/**
 * The Worker's IssuanceGate: the `EDGECA_BUDGETS` Durable Object namespace, one object per cluster.
 * Any failure to get an answer (binding missing, the object overloaded or reset, no answer within
 * GATE_TIMEOUT_MS) is thrown; the core then applies the cluster's `budgets.onBackendUnavailable`.
 */
import type { BudgetRequest, IssuanceGate, TakeResult } from "./budget.ts";
import type { SignerEnv } from "./env.ts";

/** A budget answer normally takes a few ms; waiting longer would hold the shim's request. */
export const GATE_TIMEOUT_MS = 2000;

interface BudgetStub {
  take(requests: readonly BudgetRequest[]): Promise<TakeResult>;
  takeEach(lists: readonly (readonly BudgetRequest[])[]): Promise<TakeResult[]>;
}
interface BudgetNamespace {
  idFromName(name: string): unknown;
  get(id: unknown): BudgetStub;
}

function isBudgetNamespace(value: unknown): value is BudgetNamespace {
  return typeof value === "object" && value !== null && "idFromName" in value && typeof value.idFromName === "function" && "get" in value && typeof value.get === "function";
}

function isTakeResult(value: unknown): value is TakeResult {
  if (typeof value !== "object" || value === null || !("ok" in value)) return false;
  return value.ok === true || ("retryAfterSeconds" in value && typeof value.retryAfterSeconds === "number" && "index" in value && typeof value.index === "number");
}

/** The answer of `call` on the cluster's object, or a throw when there is none within GATE_TIMEOUT_MS. */
async function askObject(env: SignerEnv, cluster: string, call: (stub: BudgetStub) => Promise<unknown>): Promise<unknown> {
  const ns = env["EDGECA_BUDGETS"];
  if (!isBudgetNamespace(ns)) throw new Error("the EDGECA_BUDGETS Durable Object binding is not configured");
  let timer: ReturnType<typeof setTimeout> | null = null;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(new Error(`no answer within ${GATE_TIMEOUT_MS} ms`));
    }, GATE_TIMEOUT_MS);
  });
  try {
    return await Promise.race([call(ns.get(ns.idFromName(cluster))), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** The gate of `env`. */
export function budgetGate(env: SignerEnv): IssuanceGate {
  return {
    async take(cluster, requests) {
      const answer = await askObject(env, cluster, (stub) => stub.take(requests));
      if (!isTakeResult(answer)) throw new Error("the budget object's answer has an unexpected shape");
      return answer;
    },
    async takeEach(cluster, lists) {
      const answer = await askObject(env, cluster, (stub) => stub.takeEach(lists));
      if (!Array.isArray(answer) || answer.length !== lists.length || !answer.every(isTakeResult)) {
        throw new Error(`the budget object's answer to ${lists.length} issuances has an unexpected shape`);
      }
      return answer;
    },
  };
}
