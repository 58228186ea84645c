/**
 * The demo's budget and audit step (issue 13). The demo's signer gives each identity DEMO_BUDGETS (4
 * certificates per 10 s: far below production's defaults, so one greedy identity can show the budget at
 * work in seconds; no workload of the mesh needs more than 3). After the mesh, a greedy identity asks for
 * 6 at once (greedy-identity.ts); then the signer's audit records of the whole run
 * (`<state>/signer/audit.jsonl`) are counted and checked against what the cluster saw: every certificate
 * a CSR received is one `issued` record, every Failed CSR one refusal, and the throttled answers are the
 * rest of the refusals. `refused` counts every record that is not an issuance (throttled included), so
 * `records = issued + refused`; `throttled` is that subset.
 */
import { createReadStream } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import type { CsrRecord } from "@edgeca/testenv";
import { readRecords } from "../audit/index.ts";
import type { BudgetsInput } from "../signer/index.ts";
import type { GreedyResult } from "./greedy-identity.ts";

export const DEMO_BUDGETS: BudgetsInput = { perIdentity: { limit: 4, windowSeconds: 10 } };
export const GREEDY_CSRS = 6;

export interface DemoAudit {
  readonly records: number;
  readonly issued: number;
  readonly refused: number;
}

export interface AuditCheck {
  readonly audit: DemoAudit;
  readonly throttled: number;
  /** Empty when the records match the cluster and the greedy identity was throttled, never Failed. */
  readonly problems: readonly string[];
}

async function count(path: string): Promise<{ audit: DemoAudit; throttled: number }> {
  const { records } = await readRecords(createReadStream(path, { encoding: "utf8" }));
  const issued = records.filter((r) => r.decision === "issued").length;
  return { audit: { records: records.length, issued, refused: records.length - issued }, throttled: records.filter((r) => r.decision === "throttled").length };
}

/** Reads the audit file (waiting up to 10 s for the last lines to arrive) and compares it with the cluster's CSRs. */
export async function checkAudit(path: string, csrs: readonly CsrRecord[], greedy: GreedyResult): Promise<AuditCheck> {
  const issuedCsrs = csrs.filter((c) => c.issuedAt !== undefined).length;
  const failedCsrs = csrs.filter((c) => c.conditions.some((x) => x.type === "Failed")).length;
  const matches = (c: { audit: DemoAudit; throttled: number }): boolean => c.audit.issued === issuedCsrs && c.audit.refused - c.throttled === failedCsrs;
  const deadline = Date.now() + 10_000;
  let counted = await count(path);
  while (!matches(counted) && Date.now() < deadline) {
    await sleep(200);
    counted = await count(path);
  }
  const problems: string[] = [];
  if (counted.audit.issued !== issuedCsrs) problems.push(`${counted.audit.issued} issued records, but ${issuedCsrs} CSRs received a certificate`);
  if (counted.audit.refused - counted.throttled !== failedCsrs) problems.push(`${counted.audit.refused - counted.throttled} refusal records (not throttled), but ${failedCsrs} CSRs are Failed`);
  if (counted.throttled < 1) problems.push(`the greedy identity ${greedy.spiffeId} was never throttled`);
  if (greedy.failed > 0 || greedy.issued !== greedy.requested) problems.push(`the greedy identity got ${greedy.issued} of ${greedy.requested} certificates, ${greedy.failed} CSRs Failed`);
  return { ...counted, problems };
}

/** The step's lines in the demo's summary. */
export function auditLines(check: AuditCheck, greedy: GreedyResult, path: string): string[] {
  return [
    `budgets: the greedy identity ${greedy.spiffeId} asked for ${greedy.requested} certificates at once (its budget: ${String(DEMO_BUDGETS.perIdentity?.limit)} per ${String(DEMO_BUDGETS.perIdentity?.windowSeconds)} s);`,
    `  ${check.throttled} answers were 429 with Retry-After, the shim retried, all ${greedy.issued} were issued within ${(greedy.elapsedMs / 1000).toFixed(1)} s, ${greedy.failed} Failed`,
    `audit: ${check.audit.records} records (issued ${check.audit.issued}, refused ${check.audit.refused} of which throttled ${check.throttled}) in ${path}${check.problems.length === 0 ? ", matching the cluster's CSRs" : `; MISMATCH: ${check.problems.join("; ")}`}`,
    `  e.g. edgeca audit --file ${path} --decision throttled`,
  ];
}
