/**
 * Helpers for the `/v1/sign-batch` tests: a cluster of its own (so its own budget object), calls as the
 * token-less cluster, and the budget object's own count of the calls it answered.
 */
import { env } from "cloudflare:workers";
import { runInDurableObject } from "cloudflare:test";
import { expect } from "vitest";
import { SignBatchResponse, type BudgetsConfig, type SignBatchItem } from "@edgeca/shared";
import type { IssuanceBudgets } from "../../src/budget-object.ts";
import type { SignerEnv } from "../../src/env.ts";
import { call, fx, verdict } from "./client.ts";

/** Configuration "a" with the token-less cluster renamed `cluster` and given `budgets`. */
export function clusterEnv(cluster: string, budgets: Partial<BudgetsConfig> = {}, bindings: Record<string, unknown> = { EDGECA_BUDGETS: env.EDGECA_BUDGETS }): SignerEnv {
  const config = { ...fx.configs.a, clusters: fx.configs.a.clusters.map((c) => (c.name === "plain" ? { ...c, name: cluster, budgets } : c)) };
  return { EDGECA_CONFIG: JSON.stringify(config), ...fx.secrets, ...bindings };
}

/** Calls `/v1/sign-batch` as the token-less cluster with `{ requests }` (or `body` as is when given). */
export async function batchAsPlain(requests: readonly unknown[], e?: SignerEnv): Promise<Response> {
  return call("/v1/sign-batch", { body: { requests }, cf: verdict(fx.fingerprints.plain), ...(e === undefined ? {} : { env: e }) });
}

/** The answers of a 200, checked against the wire schema and counted against the requests. */
export async function answersOf(res: Response, count: number): Promise<SignBatchItem[]> {
  expect(res.status).toBe(200);
  const answers = SignBatchResponse.parse(await res.json()).answers;
  expect(answers).toHaveLength(count);
  return answers;
}

/** The RPC calls the cluster's budget object has answered, read from the object itself. */
export async function budgetCalls(cluster: string): Promise<{ take: number; takeEach: number }> {
  const ns = env.EDGECA_BUDGETS as DurableObjectNamespace<IssuanceBudgets>;
  return await runInDurableObject(ns.get(ns.idFromName(cluster)), (object) => ({ ...object.calls }));
}
