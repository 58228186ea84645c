/** The readable text `edgeca verify` prints. */
import type { ChainVerification } from "./chain-verification.ts";

const MARK = { pass: "ok  ", fail: "FAIL", skip: "skip" } as const;

/** Formats a verification as aligned lines: the leaf's details, then one line per check, then the result. */
export function formatVerification(v: ChainVerification): string {
  const { leaf } = v;
  const failed = v.checks.filter((c) => c.result === "fail").length;
  return [
    "leaf certificate",
    `  subject    ${leaf.subject}`,
    `  SANs       ${leaf.sans.length === 0 ? "(none)" : leaf.sans.join(", ")}${leaf.sanCritical ? " (critical)" : ""}`,
    `  issuer     ${leaf.issuer}`,
    `  notBefore  ${leaf.notBefore.toISOString()}`,
    `  notAfter   ${leaf.notAfter.toISOString()}`,
    `  serial     ${leaf.serial}`,
    `  key        ${leaf.keyType}`,
    "checks",
    ...v.checks.map((c) => `  ${MARK[c.result]}  ${c.name}: ${c.detail}`),
    v.ok ? "result: OK" : `result: FAILED (${failed} of ${v.checks.length} checks)`,
  ].join("\n");
}
