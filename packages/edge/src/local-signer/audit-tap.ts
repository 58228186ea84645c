/**
 * Picks the Worker's audit records (`AuditRecord` of @edgeca/shared, one JSON line per /v1/sign decision)
 * out of workerd's stdout while passing every byte on unchanged. It pays only for what is asked: the lines
 * for `DIR/audit.jsonl` are found as bytes (a newline, the record's prefix) and kept as the Worker wrote
 * them, no decoding or parsing; only an `onRecord` listener has each line parsed and checked against the
 * schema, and a line that looks like a record but does not match is passed on and not reported (it is not
 * ours). `edgeca audit --file` checks every line it reads. `openAuditFile` keeps the lines.
 */
import { createWriteStream } from "node:fs";
import { Writable } from "node:stream";
import { AUDIT_RECORD_KIND, AuditRecord } from "@edgeca/shared";

const PREFIX = Buffer.from(`{"kind":"${AUDIT_RECORD_KIND}"`);
const NEWLINE = 0x0a;
/** A partial line longer than this is passed on without being read (no record is that long). */
const MAX_LINE = 64 * 1024;

/** What the tap is asked for; either may be absent. */
export interface AuditSinks {
  /** Each record line, without its newline, as the Worker wrote it. */
  readonly onRecordLine?: (line: Buffer) => void;
  /** Each record line that parses and matches the schema. */
  readonly onRecord?: (record: AuditRecord) => void;
}

const isBlank = (byte: number | undefined): boolean => byte === 0x20 || byte === 0x09 || byte === 0x0d;

/** The line between `start` and `end` without surrounding blanks, if it starts as a record does. */
function recordLine(data: Buffer, start: number, end: number): Buffer | undefined {
  while (start < end && isBlank(data[start])) start += 1;
  while (end > start && isBlank(data[end - 1])) end -= 1;
  if (end - start < PREFIX.length || data.compare(PREFIX, 0, PREFIX.length, start, start + PREFIX.length) !== 0) return undefined;
  return data.subarray(start, end);
}

function parsed(line: Buffer): AuditRecord | undefined {
  let json: unknown;
  try {
    json = JSON.parse(line.toString("utf8"));
  } catch {
    return undefined;
  }
  const result = AuditRecord.safeParse(json);
  return result.success ? result.data : undefined;
}

export function auditTap(sinks: AuditSinks, passthrough: NodeJS.WritableStream): Writable {
  const { onRecordLine, onRecord } = sinks;
  /** The start of a line the last chunk did not finish; `skipping`: an overlong one, read no further. */
  let partial: Buffer | undefined;
  let skipping = false;
  const scan = (data: Buffer, start: number, end: number): void => {
    const line = recordLine(data, start, end);
    if (line === undefined) return;
    onRecordLine?.(line);
    if (onRecord === undefined) return;
    const record = parsed(line);
    if (record !== undefined) onRecord(record);
  };
  return new Writable({
    write(chunk: Buffer, _encoding, done) {
      passthrough.write(chunk);
      const data = partial === undefined ? chunk : Buffer.concat([partial, chunk]);
      partial = undefined;
      let start = 0;
      for (let nl = data.indexOf(NEWLINE); nl >= 0; nl = data.indexOf(NEWLINE, start)) {
        if (skipping) skipping = false;
        else scan(data, start, nl);
        start = nl + 1;
      }
      if (start < data.length && !skipping) {
        if (data.length - start > MAX_LINE) skipping = true;
        else partial = data.subarray(start);
      }
      done();
    },
    final(done) {
      if (partial !== undefined) scan(partial, 0, partial.length);
      done();
    },
  });
}

/** An append-only JSON-lines file of audit records (`DIR/audit.jsonl`), read by `edgeca audit --file`. */
export interface AuditFile {
  readonly path: string;
  /** Appends one record line (without its newline). */
  readonly writeLine: (line: Buffer) => void;
  close(): Promise<void>;
}

export function openAuditFile(path: string): AuditFile {
  const stream = createWriteStream(path, { flags: "a" });
  // A full disk must not take the signer down; the Worker's output still carries every record.
  stream.on("error", (error) => {
    console.error(`cannot write audit records to ${path}: ${error.message}`);
  });
  const newline = Buffer.from("\n");
  return {
    path,
    writeLine: (line) => stream.write(Buffer.concat([line, newline])),
    close: () =>
      new Promise<void>((resolve) => {
        stream.end(resolve);
      }),
  };
}
