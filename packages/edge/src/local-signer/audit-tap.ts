/**
 * Picks the Worker's audit records (`AuditRecord` of @edgeca/shared, one JSON line per /v1/sign decision)
 * out of workerd's stdout while passing every byte on unchanged: the local signer's `onAuditRecord`.
 * A line that looks like a record but does not parse is passed on and not reported (it is not ours).
 * `openAuditFile` keeps them as `DIR/audit.jsonl`.
 */
import { createWriteStream } from "node:fs";
import { Writable } from "node:stream";
import { AUDIT_RECORD_KIND, AuditRecord } from "@edgeca/shared";

const PREFIX = `{"kind":"${AUDIT_RECORD_KIND}"`;
/** A partial line longer than this is passed on without being read (no record is that long). */
const MAX_LINE = 64 * 1024;

export function auditTap(onRecord: (record: AuditRecord) => void, passthrough: NodeJS.WritableStream): Writable {
  let partial = "";
  const scan = (line: string): void => {
    if (!line.startsWith(PREFIX)) return;
    let json: unknown;
    try {
      json = JSON.parse(line);
    } catch {
      return;
    }
    const parsed = AuditRecord.safeParse(json);
    if (parsed.success) onRecord(parsed.data);
  };
  return new Writable({
    write(chunk: Buffer, _encoding, done) {
      passthrough.write(chunk);
      const lines = (partial + chunk.toString("utf8")).split("\n");
      partial = lines.pop() ?? "";
      if (partial.length > MAX_LINE) partial = "";
      for (const line of lines) scan(line.trim());
      done();
    },
    final(done) {
      scan(partial.trim());
      done();
    },
  });
}

/** An append-only JSON-lines file of audit records (`DIR/audit.jsonl`), read by `edgeca audit --file`. */
export interface AuditFile {
  readonly path: string;
  write(record: AuditRecord): void;
  close(): Promise<void>;
}

export function openAuditFile(path: string): AuditFile {
  const stream = createWriteStream(path, { flags: "a" });
  // A full disk must not take the signer down; the Worker's output still carries every record.
  stream.on("error", (error) => {
    console.error(`cannot write audit records to ${path}: ${error.message}`);
  });
  return {
    path,
    write: (record) => stream.write(`${JSON.stringify(record)}\n`),
    close: () =>
      new Promise<void>((resolve) => {
        stream.end(resolve);
      }),
  };
}
