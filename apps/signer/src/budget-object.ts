/**
 * The budget counter of one cluster: a SQLite-backed Durable Object (`EDGECA_BUDGETS`, one instance per
 * cluster name). A Durable Object runs one request at a time, so its count is exact, unlike the Workers
 * Rate Limiting binding, which counts per location, eventually, and fixes limit and period (10 or 60 s)
 * in wrangler.jsonc instead of per cluster in EDGECA_CONFIG (docs/configuration.md "Budgets").
 * Windows are counted in memory and written to SQLite in the background, at most FLUSH_MS after they
 * change: a write inside `take` would make every answer wait for the storage commit (Durable Objects'
 * output gate), and with one object per cluster every issuance of a burst would queue behind it. An
 * object that is evicted or restarted keeps what was flushed; the issuances of its last FLUSH_MS may be
 * forgotten, an undercount that a budget meant to stop floods can afford.
 */
import { DurableObject } from "cloudflare:workers";
import { takeBudgets, type BudgetRequest, type TakeResult, type WindowState, type WindowStore } from "./budget.ts";

/** Expired windows are pruned after this many admissions, so the table holds only live identities. */
const PRUNE_EVERY = 1000;

/** Longest time a changed window waits in memory before it is written to SQLite. */
export const FLUSH_MS = 1000;

function isBudgetRequest(value: unknown): value is BudgetRequest {
  if (typeof value !== "object" || value === null) return false;
  const v = value as Record<string, unknown>;
  return typeof v["key"] === "string" && Number.isInteger(v["limit"]) && Number.isInteger(v["windowSeconds"]) && typeof v["scope"] === "string";
}

function isBudgetRequestList(value: unknown): value is BudgetRequest[] {
  return Array.isArray(value) && value.every(isBudgetRequest);
}

export class IssuanceBudgets extends DurableObject {
  readonly #windows = new Map<string, WindowState>();
  /** Keys changed since the last flush. */
  readonly #dirty = new Set<string>();
  #flushTimer: ReturnType<typeof setTimeout> | undefined;
  /** Rows of windows that ended before this are deleted at the next flush. */
  #pruneBefore: number | undefined;
  #takes = 0;
  /** The windows as `takeBudgets` sees them: memory first, then SQLite; every change marked for the flush. */
  readonly #store: WindowStore = {
    get: (key) => this.#windows.get(key) ?? this.#load(key),
    set: (key, state) => {
      this.#windows.set(key, state);
      this.#dirty.add(key);
    },
  };

  /** RPC calls answered, by method: read by the workerd tests through `runInDurableObject` (not an RPC method). */
  readonly calls = { take: 0, takeEach: 0 };

  constructor(ctx: DurableObjectState, env: Cloudflare.Env) {
    super(ctx, env);
    ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS windows (key TEXT PRIMARY KEY, ends INTEGER NOT NULL, count INTEGER NOT NULL)");
  }

  /** Admits one issuance if every budget has room (RPC from the Worker, budget-gate.ts). */
  take(requests: unknown): TakeResult {
    if (!isBudgetRequestList(requests)) throw new TypeError("take: expected an array of budget requests");
    this.calls.take++;
    return this.#admit(Date.now(), requests);
  }

  /**
   * Admits each of a batch's issuances in order (`POST /v1/sign-batch`): item i counts only if its budgets
   * still have room after the items before it were admitted. One answer per item, in the same order.
   */
  takeEach(lists: unknown): TakeResult[] {
    if (!Array.isArray(lists) || !lists.every(isBudgetRequestList)) throw new TypeError("takeEach: expected an array of arrays of budget requests");
    this.calls.takeEach++;
    const now = Date.now();
    return lists.map((requests) => this.#admit(now, requests));
  }

  #admit(now: number, requests: readonly BudgetRequest[]): TakeResult {
    const result = takeBudgets(this.#store, now, requests);
    if (result.ok) this.#flushSoon();
    if (result.ok && ++this.#takes % PRUNE_EVERY === 0) this.#prune(now);
    return result;
  }

  #flushSoon(): void {
    if (this.#flushTimer !== undefined) return;
    this.#flushTimer = setTimeout(() => {
      this.#flushTimer = undefined;
      this.#flush();
    }, FLUSH_MS);
  }

  /** Writes the changed windows (outside any request, so no answer waits for the commit). */
  #flush(): void {
    const sql = this.ctx.storage.sql;
    for (const key of this.#dirty) {
      const state = this.#windows.get(key);
      if (state !== undefined) sql.exec("INSERT INTO windows (key, ends, count) VALUES (?, ?, ?) ON CONFLICT(key) DO UPDATE SET ends = excluded.ends, count = excluded.count", key, state.ends, state.count);
    }
    this.#dirty.clear();
    if (this.#pruneBefore !== undefined) sql.exec("DELETE FROM windows WHERE ends <= ?", this.#pruneBefore);
    this.#pruneBefore = undefined;
  }

  #load(key: string): WindowState | undefined {
    const row = this.ctx.storage.sql.exec<{ ends: number; count: number }>("SELECT ends, count FROM windows WHERE key = ?", key).toArray()[0];
    if (row === undefined) return undefined;
    const state = { ends: row.ends, count: row.count };
    this.#windows.set(key, state);
    return state;
  }

  #prune(now: number): void {
    for (const [key, state] of this.#windows) {
      if (state.ends <= now) {
        this.#windows.delete(key);
        this.#dirty.delete(key);
      }
    }
    this.#pruneBefore = now;
  }
}
