/**
 * The Worker's audit records as a test sees them: every `console.log` line of the Worker must be one
 * `AuditRecord` (audit.ts), and none may carry PEM. Call inside a `describe`: it spies on console.log for
 * each test of the block and gives the records written since the last call.
 */
import { AuditRecord } from "@edgeca/shared";
import { afterEach, beforeEach, expect, vi, type MockInstance } from "vitest";

/** `forbidden`: texts no record may contain (e.g. a CSR's base64), besides "BEGIN". */
export function auditRecordsOfEachTest(forbidden: readonly string[] = []): () => AuditRecord[] {
  let log: MockInstance<typeof console.log>;
  beforeEach(() => {
    log = vi.spyOn(console, "log").mockImplementation(() => undefined);
  });
  afterEach(() => {
    log.mockRestore();
  });
  return () => {
    const lines = log.mock.calls.map((args) => String(args[0]));
    log.mockClear();
    for (const line of lines) {
      expect(line).not.toContain("BEGIN");
      for (const text of forbidden) expect(line).not.toContain(text);
    }
    return lines.map((l) => AuditRecord.parse(JSON.parse(l)));
  };
}
