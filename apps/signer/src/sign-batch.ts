/**
 * The items of an accepted `POST /v1/sign-batch` (docs/signer-api.md "Batches"), each decided as
 * `POST /v1/sign` would decide it alone, in three phases so that the budgets cost one Durable Object call
 * per batch instead of one per item:
 *
 * 1. every item is read and checked up to the budgets (`SigningCore.prepare`): its size and schema, signer
 *    name, policy with the proof of possession, the issuing CA;
 * 2. the budgets of the items that passed are drawn in one `IssuanceGate.takeEach`, in request order (an
 *    item is admitted only if its budgets have room after the earlier items were admitted); when the
 *    counter cannot answer, the cluster's `onBackendUnavailable` applies to each of them;
 * 3. the admitted items are signed.
 *
 * One audit record per item, written in request order once every item is decided.
 */
import { MAX_BODY_BYTES, problemOf, SignRequest, type ClusterConfig, type SignBatchItem, type SignResponse } from "@edgeca/shared";
import { AuditTrail } from "./audit.ts";
import { describeIssues } from "./body.ts";
import { budgetRequests, type IssuanceGate, type TakeResult } from "./budget.ts";
import type { PreparedLeaf, SigningCore } from "./core.ts";
import { InvalidRequestError, PayloadTooLargeError, RateLimitedError, SignerError } from "./errors.ts";
import { admitOrThrottle, budgetBackendFailed } from "./issuance-checks.ts";

/** How one item ended: its certificate, or what refused it. */
type Outcome = { readonly issued: SignResponse } | { readonly error: unknown };

/** One item on its way: its audit trail, its leaf once prepared, its outcome once decided. */
interface Item {
  readonly trail: AuditTrail;
  prepared?: PreparedLeaf;
  outcome?: Outcome;
}

/** Decides every item of a batch the authenticated `cluster` sent; `answers[i]` answers `requests[i]`. */
export async function signBatch(core: SigningCore, cluster: ClusterConfig, requests: readonly unknown[], gate: IssuanceGate): Promise<SignBatchItem[]> {
  const items = requests.map((): Item => {
    const trail = new AuditTrail();
    trail.cluster = cluster.name;
    return { trail };
  });
  await Promise.all(
    requests.map(async (raw, index) => {
      const item = items[index];
      if (item === undefined) return;
      await settle(item, async () => {
        const request = parseItem(raw, index);
        item.trail.request = request;
        item.prepared = await core.prepare(request, cluster, item.trail.facts);
      });
    }),
  );
  await drawBudgets(gate, cluster, items.filter((i) => i.prepared !== undefined && i.outcome === undefined));
  await Promise.all(
    items.map(async (item) => {
      const prepared = item.prepared;
      if (prepared === undefined || item.outcome !== undefined) return;
      await settle(item, async () => {
        item.outcome = { issued: await core.issue(prepared, item.trail.facts) };
      });
    }),
  );
  return items.map(answerOf);
}

/** Runs one step of an item; what it throws becomes the item's outcome. */
async function settle(item: Item, step: () => Promise<void>): Promise<void> {
  try {
    await step();
  } catch (error) {
    item.outcome = { error };
  }
}

/** `settle` for a step that does not wait. */
function settleNow(item: Item, step: () => void): void {
  try {
    step();
  } catch (error) {
    item.outcome = { error };
  }
}

/** One item as `/v1/sign` reads its body: no more than MAX_BODY_BYTES written alone (413), then the schema (400). */
function parseItem(raw: unknown, index: number): SignRequest {
  const json = JSON.stringify(raw);
  // UTF-8 takes 1–3 bytes per UTF-16 unit: the text is encoded only when its length cannot decide.
  const size = json.length * 3 <= MAX_BODY_BYTES ? json.length : new TextEncoder().encode(json).byteLength;
  if (size > MAX_BODY_BYTES) {
    throw new PayloadTooLargeError(`requests.${index} is ${size} bytes as JSON, over the limit of ${MAX_BODY_BYTES} of one sign request`);
  }
  const parsed = SignRequest.safeParse(raw);
  if (!parsed.success) {
    throw new InvalidRequestError(`requests.${index} does not match the sign request schema: ${describeIssues(parsed.error.issues)}`);
  }
  return parsed.data;
}

/** The budgets of every prepared item, in one call of the gate; refused items get their outcome. */
async function drawBudgets(gate: IssuanceGate, cluster: ClusterConfig, pending: readonly Item[]): Promise<void> {
  if (pending.length === 0) return;
  const lists = pending.map((item) => (item.prepared === undefined ? [] : budgetRequests(cluster, item.prepared.approved)));
  let results: TakeResult[];
  try {
    results = await gate.takeEach(cluster.name, lists);
  } catch (error) {
    for (const item of pending) {
      settleNow(item, () => {
        budgetBackendFailed(error, cluster, item.trail.facts);
      });
    }
    return;
  }
  for (const [k, item] of pending.entries()) {
    const result = results[k];
    const requests = lists[k];
    settleNow(item, () => {
      if (result === undefined || requests === undefined) throw new Error(`the budget backend answered ${results.length} of ${lists.length} issuances`);
      admitOrThrottle(result, requests, cluster, item.trail.facts);
    });
  }
}

/** The item's answer, its audit record written. */
function answerOf(item: Item): SignBatchItem {
  const outcome = item.outcome ?? { error: new Error("a batch item was left undecided") };
  if ("issued" in outcome) {
    item.trail.issued(outcome.issued);
    return { issued: outcome.issued };
  }
  const error = outcome.error;
  item.trail.refused(error);
  if (error instanceof RateLimitedError) return { refused: problemOf(error.code, error.message), retryAfterSeconds: error.budget.retryAfterSeconds };
  if (error instanceof SignerError) return { refused: problemOf(error.code, error.message) };
  // Only a signer fault reaches here; as on /v1/sign the client sees a generic message, the log keeps the cause.
  console.error("sign-batch: unexpected error", error);
  return { refused: problemOf("internal", "internal error") };
}
