/** The filters of `edgeca audit`, checked and applied (each mistake names its flag). */
import { AuditDecision, auditIdentity, type AuditRecord } from "@edgeca/shared";
import { UsageError } from "../command.ts";

export interface AuditFilter {
  /** Exact, or a prefix when it ends with `*` (`spiffe://cluster.local/ns/shop/*`). */
  readonly identity?: string;
  readonly cluster?: string;
  /** Epoch ms, inclusive. */
  readonly since?: number;
  /** Epoch ms, exclusive. */
  readonly until?: number;
  readonly decision?: AuditDecision;
}

const UNIT_MS: Readonly<Record<string, number>> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** An ISO 8601 time with a zone, or a duration ago (`90s`, `30m`, `12h`, `7d`). */
export function parseTime(flag: string, value: string, now: number): number {
  const relative = /^(\d+)([smhd])$/.exec(value);
  if (relative !== null) return now - Number(relative[1]) * (UNIT_MS[relative[2] ?? "s"] ?? 1000);
  if (/^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2}))?$/.test(value)) {
    const ms = Date.parse(value);
    if (!Number.isNaN(ms)) return ms;
  }
  throw new UsageError(`${flag}: "${value}" is neither an ISO 8601 time (2026-12-01T20:00:00Z, or a date) nor a duration ago (90s, 30m, 12h, 7d)`);
}

export function parseDecision(value: string): AuditDecision {
  const parsed = AuditDecision.safeParse(value);
  if (!parsed.success) throw new UsageError(`--decision: "${value}" is not one of ${AuditDecision.options.join(", ")}`);
  return parsed.data;
}

function identityMatches(pattern: string, record: AuditRecord): boolean {
  const identity = auditIdentity(record);
  if (identity === undefined) return false;
  return pattern.endsWith("*") ? identity.startsWith(pattern.slice(0, -1)) : identity === pattern;
}

export function matches(filter: AuditFilter, record: AuditRecord): boolean {
  if (filter.identity !== undefined && !identityMatches(filter.identity, record)) return false;
  if (filter.cluster !== undefined && record.cluster !== filter.cluster) return false;
  if (filter.decision !== undefined && record.decision !== filter.decision) return false;
  const t = Date.parse(record.time);
  if (filter.since !== undefined && t < filter.since) return false;
  if (filter.until !== undefined && t >= filter.until) return false;
  return true;
}
