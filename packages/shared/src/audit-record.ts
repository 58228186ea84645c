/**
 * One audit record: the signer's decision on one `POST /v1/sign`, written by the Worker as one JSON line
 * through `console.log` (so Workers Logs and Logpush carry it) and read back by `edgeca audit`.
 * Names, serial and validity only: never a key, a certificate or the CSR.
 */
import * as z from "zod";
import { ProblemCode } from "./wire.ts";

/** The value of `kind`, which tells an audit line apart from any other log line. */
export const AUDIT_RECORD_KIND = "edgeca.audit";

/** issued: a certificate was signed; throttled: a budget was spent (429); refused: any other refusal. */
export const AuditDecision = z.enum(["issued", "refused", "throttled"]);
export type AuditDecision = z.infer<typeof AuditDecision>;

/** Which budget a throttled request met (docs/configuration.md "Budgets"). */
export const BudgetScope = z.enum(["cluster", "identity", "dns-names"]);
export type BudgetScope = z.infer<typeof BudgetScope>;

const bounded = (max: number) => z.string().max(max);

export const AuditRecord = z.object({
  kind: z.literal(AUDIT_RECORD_KIND),
  version: z.literal(1),
  /** When the signer decided (ISO 8601 UTC). */
  time: z.iso.datetime({ offset: true }),
  decision: AuditDecision,
  /** The authenticated cluster; absent when the request was refused before authentication. */
  cluster: bounded(63).optional(),
  signerName: bounded(571).optional(),
  /** The CSR's `spec.username` (istiod's ServiceAccount, normally). */
  requestor: bounded(1024).optional(),
  /** The CSR object in the cluster. */
  csr: z.object({ name: bounded(253).optional(), uid: bounded(128).optional() }).optional(),
  profile: z.enum(["workload", "control-plane", "pod"]).optional(),
  /** The workload's SPIFFE ID (the URI SAN the CSR asked for, whether or not it was allowed). */
  spiffeId: bounded(2048).optional(),
  /** The DNS SANs the CSR asked for (control-plane profile). */
  dnsNames: z.array(bounded(253)).max(64).optional(),
  /** e.g. `ECDSA P-256`, `RSA-2048`. */
  keyType: bounded(64).optional(),
  /** Issued only. */
  serialNumber: z.string().regex(/^[0-9a-f]+$/).optional(),
  notBefore: z.iso.datetime({ offset: true }).optional(),
  notAfter: z.iso.datetime({ offset: true }).optional(),
  /** The issuing CA's id in the configuration. */
  issuer: bounded(32).optional(),
  /** Refused and throttled: the problem code, status and detail the client was given. */
  code: ProblemCode.optional(),
  status: z.number().int().optional(),
  reason: bounded(1024).optional(),
  /** Throttled: the budget that was spent, and the Retry-After given. */
  budget: z
    .object({ scope: BudgetScope, limit: z.number().int(), windowSeconds: z.number().int(), retryAfterSeconds: z.number().int() })
    .optional(),
  /** Issued although the budget backend could not be asked (fail-open): why it could not. */
  budgetUnchecked: bounded(1024).optional(),
});
export type AuditRecord = z.infer<typeof AuditRecord>;

/** The identity a record is about: the SPIFFE ID, else the DNS names joined by ",", else undefined. */
export function auditIdentity(record: Pick<AuditRecord, "spiffeId" | "dnsNames">): string | undefined {
  if (record.spiffeId !== undefined) return record.spiffeId;
  if (record.dnsNames !== undefined && record.dnsNames.length > 0) return record.dnsNames.join(",");
  return undefined;
}
