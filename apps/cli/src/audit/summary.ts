/**
 * What `edgeca audit` answers: the matching records by decision (what was issued for an identity, by
 * which cluster, when), and which identities were throttled, with how often and by which budget.
 */
import { auditIdentity, type AuditRecord } from "@edgeca/shared";
import type { ReadResult } from "./read-records.ts";

export interface ThrottledIdentity {
  readonly identity: string;
  readonly cluster: string;
  count: number;
  first: string;
  last: string;
  /** The last budget met, e.g. `identity 3/10s`. */
  budget: string;
}

export interface AuditSummary {
  /** Records read, before filtering. */
  readonly recordsRead: number;
  readonly ignoredLines: number;
  readonly invalidRecords: number;
  readonly firstInvalid?: string;
  /** Matching records, by decision. */
  readonly matched: number;
  readonly issued: number;
  readonly refused: number;
  readonly throttled: number;
  readonly throttledIdentities: ThrottledIdentity[];
  readonly records: AuditRecord[];
}

function budgetText(r: AuditRecord): string {
  return r.budget === undefined ? "-" : `${r.budget.scope} ${r.budget.limit}/${r.budget.windowSeconds}s`;
}

export function summarise(read: ReadResult, matched: readonly AuditRecord[]): AuditSummary {
  const records = [...matched].sort((a, b) => a.time.localeCompare(b.time));
  const throttled = new Map<string, ThrottledIdentity>();
  for (const r of records) {
    if (r.decision !== "throttled") continue;
    const identity = auditIdentity(r) ?? "(unknown)";
    const cluster = r.cluster ?? "(unknown)";
    const key = `${cluster}\u0000${identity}`;
    const t = throttled.get(key);
    if (t === undefined) throttled.set(key, { identity, cluster, count: 1, first: r.time, last: r.time, budget: budgetText(r) });
    else {
      t.count++;
      t.last = r.time;
      t.budget = budgetText(r);
    }
  }
  const count = (d: AuditRecord["decision"]) => records.filter((r) => r.decision === d).length;
  return {
    recordsRead: read.records.length,
    ignoredLines: read.ignoredLines,
    invalidRecords: read.invalidRecords,
    ...(read.firstInvalid === undefined ? {} : { firstInvalid: read.firstInvalid }),
    matched: records.length,
    issued: count("issued"),
    refused: count("refused"),
    throttled: count("throttled"),
    throttledIdentities: [...throttled.values()].sort((a, b) => b.count - a.count || a.identity.localeCompare(b.identity)),
    records,
  };
}

function table(header: readonly string[], rows: readonly (readonly string[])[]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: readonly string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join("  ");
  return [line(header), ...rows.map(line)];
}

/** The human-readable answer. */
export function formatSummary(s: AuditSummary): string {
  const out = [
    `records: ${s.matched} matching of ${s.recordsRead} read (issued ${s.issued}, refused ${s.refused}, throttled ${s.throttled}); other lines ignored: ${s.ignoredLines}` +
      (s.invalidRecords > 0 ? `; invalid records: ${s.invalidRecords} (first: ${s.firstInvalid ?? "?"})` : ""),
  ];
  const issued = s.records.filter((r) => r.decision === "issued");
  if (issued.length > 0) {
    out.push("", "issued:");
    out.push(...table(["TIME", "CLUSTER", "IDENTITY", "KEY", "SERIAL", "NOT AFTER", "ISSUER", "CSR"], issued.map((r) => [r.time, r.cluster ?? "-", auditIdentity(r) ?? "-", r.keyType ?? "-", r.serialNumber ?? "-", r.notAfter ?? "-", r.issuer ?? "-", r.csr?.name ?? "-"])));
  }
  const refused = s.records.filter((r) => r.decision === "refused");
  if (refused.length > 0) {
    out.push("", "refused:");
    out.push(...table(["TIME", "CLUSTER", "IDENTITY", "CODE", "REASON"], refused.map((r) => [r.time, r.cluster ?? "-", auditIdentity(r) ?? "-", r.code ?? "-", r.reason ?? "-"])));
  }
  if (s.throttledIdentities.length > 0) {
    out.push("", "throttled identities:");
    out.push(...table(["IDENTITY", "CLUSTER", "THROTTLED", "FIRST", "LAST", "BUDGET"], s.throttledIdentities.map((t) => [t.identity, t.cluster, String(t.count), t.first, t.last, t.budget])));
  }
  return out.join("\n");
}
