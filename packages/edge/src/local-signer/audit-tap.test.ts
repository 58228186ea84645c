import { Writable } from "node:stream";
import { AUDIT_RECORD_KIND, type AuditRecord } from "@edgeca/shared";
import { describe, expect, it } from "vitest";
import { auditTap, type AuditSinks } from "./audit-tap.ts";

const record: AuditRecord = { kind: AUDIT_RECORD_KIND, version: 1, time: "2026-12-02T03:00:00.000Z", decision: "issued", cluster: "default", spiffeId: "spiffe://cluster.local/ns/a/sa/b", serialNumber: "0abc" };
const line = JSON.stringify(record);

/** Feeds `chunks` through a tap asking for `sinks`; resolves with what passed through. */
async function feed(chunks: readonly string[], sinks: AuditSinks): Promise<string> {
  let passed = "";
  const passthrough = new Writable({ write: (c: Buffer, _e, done) => { passed += c.toString("utf8"); done(); } });
  const tap = auditTap(sinks, passthrough);
  for (const c of chunks) tap.write(Buffer.from(c, "utf8"));
  await new Promise<void>((resolve) => tap.end(resolve));
  return passed;
}

describe("auditTap", () => {
  const output = [`starting\n${line.slice(0, 20)}`, `${line.slice(20)}\n{"kind":"other"}\n  ${line}\r\n`, `{"kind":"${AUDIT_RECORD_KIND}","version":2}\n{"kind":"${AUDIT_RECORD_KIND}" broken\n`, line];

  it("passes every byte on and hands over record lines as written, split across chunks or not, with blanks trimmed", async () => {
    const lines: string[] = [];
    const passed = await feed(output, { onRecordLine: (l) => lines.push(l.toString("utf8")) });
    expect(passed).toBe(output.join(""));
    // Lines are not checked here (edgeca audit checks what it reads): the two malformed ones are kept too.
    expect(lines).toEqual([line, line, `{"kind":"${AUDIT_RECORD_KIND}","version":2}`, `{"kind":"${AUDIT_RECORD_KIND}" broken`, line]);
  });

  it("reports only lines that parse and match the schema to onRecord", async () => {
    const records: AuditRecord[] = [];
    await feed(output, { onRecord: (r) => records.push(r) });
    expect(records).toEqual([record, record, record]);
  });

  it("reads no further into a line over 64 KiB, and finds the records after it", async () => {
    const lines: string[] = [];
    const long = `${line.slice(0, -1)},"reason":"${"x".repeat(70 * 1024)}"}`;
    await feed([long.slice(0, 40 * 1024), long.slice(40 * 1024), `\n${line}\n`], { onRecordLine: (l) => lines.push(l.toString("utf8")) });
    expect(lines).toEqual([line]);
  });
});
