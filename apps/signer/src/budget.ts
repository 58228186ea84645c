/**
 * Issuance budgets (docs/configuration.md "Budgets"): which budgets one issuance draws from, and the
 * counting itself, kept free of any storage so the Durable Object (budget-object.ts) and tests share it.
 * A window opens with the first issuance after the previous one closed and lasts `windowSeconds`; a
 * request is admitted only when every budget it draws from has room, and only an admitted request counts.
 */
import type { BudgetScope, ClusterConfig } from "@edgeca/shared";
import type { Approved } from "./policy.ts";

/** One budget one issuance draws from. `key` is unique within the cluster. */
export interface BudgetRequest {
  readonly scope: BudgetScope;
  readonly key: string;
  readonly limit: number;
  readonly windowSeconds: number;
}

export type TakeResult = { readonly ok: true } | { readonly ok: false; readonly index: number; readonly retryAfterSeconds: number };

/** Counts issuances; the Worker's is a Durable Object per cluster. Throws when the backend cannot answer. */
export interface IssuanceGate {
  take(cluster: string, requests: readonly BudgetRequest[]): Promise<TakeResult>;
  /** Several issuances in one call (a batch), admitted in order as `take` would one after the other; one answer each. */
  takeEach(cluster: string, lists: readonly (readonly BudgetRequest[])[]): Promise<TakeResult[]>;
}

/** The subject a budget is about: the SPIFFE ID, the DNS names (sorted, joined by ","), or the cluster's name. */
export function budgetSubject(request: BudgetRequest, cluster: string): string {
  return request.scope === "cluster" ? cluster : request.key.slice(request.key.indexOf(":") + 1);
}

/** The budgets an approved request draws from: its identity's (or DNS names') first, then the cluster's. */
export function budgetRequests(cluster: ClusterConfig, approved: Pick<Approved, "profile" | "uris" | "dnsNames">): BudgetRequest[] {
  const b = cluster.budgets;
  const own: BudgetRequest =
    approved.profile === "workload"
      ? { scope: "identity", key: `identity:${approved.uris.join(",")}`, ...b.perIdentity }
      : { scope: "dns-names", key: `dns-names:${[...approved.dnsNames].sort().join(",")}`, ...b.perDnsNames };
  return [own, { scope: "cluster", key: "cluster", ...b.cluster }];
}

export interface WindowState {
  /** Epoch ms when the window closes. */
  readonly ends: number;
  readonly count: number;
}

export interface WindowStore {
  get(key: string): WindowState | undefined;
  set(key: string, state: WindowState): void;
}

/** Admits one issuance if every budget has room (and counts it in each), or names the first spent budget. */
export function takeBudgets(store: WindowStore, now: number, requests: readonly BudgetRequest[]): TakeResult {
  const states = requests.map((r) => {
    const s = store.get(r.key);
    return s === undefined || s.ends <= now ? { ends: now + r.windowSeconds * 1000, count: 0 } : s;
  });
  for (const [index, r] of requests.entries()) {
    const s = states[index];
    if (s !== undefined && s.count >= r.limit) return { ok: false, index, retryAfterSeconds: Math.max(1, Math.ceil((s.ends - now) / 1000)) };
  }
  for (const [index, r] of requests.entries()) {
    const s = states[index];
    if (s !== undefined) store.set(r.key, { ends: s.ends, count: s.count + 1 });
  }
  return { ok: true };
}
