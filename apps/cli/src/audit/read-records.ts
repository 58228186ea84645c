/**
 * Reads audit records (`AuditRecord` of @edgeca/shared) out of log text, tolerating everything else in it.
 * Accepted, mixed freely:
 *   1. JSON lines, one record each: what the Worker writes, `DIR/audit.jsonl` of `edgeca signer serve`;
 *   2. log events carrying console output as `logs[].message[]` (`wrangler tail --format json`, one per
 *      line or pretty-printed over several lines) or `Logs[].Message[]` (Logpush, Workers Trace Events);
 *   3. any text line with a record's JSON after a prefix (`wrangler tail --format pretty`'s `(log) {…}`,
 *      a log collector's timestamp).
 * Every other line is counted, not refused; a line that names itself a record but does not match the
 * schema is counted as invalid, with the first problem kept to report.
 */
import { createInterface } from "node:readline";
import type { Readable } from "node:stream";
import { AUDIT_RECORD_KIND, AuditRecord } from "@edgeca/shared";

export interface ReadResult {
  readonly records: AuditRecord[];
  /** Lines that carried no record (other log output). */
  ignoredLines: number;
  /** Things that said `"kind":"edgeca.audit"` but did not match the schema. */
  invalidRecords: number;
  /** The first invalid record's problem, with its line number. */
  firstInvalid: string | undefined;
}

/** A pretty-printed event is buffered up to this many lines before its lines count as ignored. */
const MAX_EVENT_LINES = 10_000;
const MARKER = `"kind":"${AUDIT_RECORD_KIND}"`;

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Console messages inside a log event (wrangler tail's `logs[].message[]`, Logpush's `Logs[].Message[]`). */
function eventMessages(event: Record<string, unknown>): unknown[] | undefined {
  const logs: unknown = event["logs"] ?? event["Logs"];
  if (!Array.isArray(logs)) return undefined;
  const messages: unknown[] = [];
  for (const entry of logs as unknown[]) {
    if (!isObject(entry)) continue;
    const message: unknown = entry["message"] ?? entry["Message"];
    if (Array.isArray(message)) messages.push(...(message as unknown[]));
    else messages.push(message);
  }
  return messages;
}

export class RecordReader {
  readonly result: ReadResult = { records: [], ignoredLines: 0, invalidRecords: 0, firstInvalid: undefined };
  #line = 0;
  #pending: string[] = [];

  /** Feeds one line of input. */
  line(text: string): void {
    this.#line++;
    if (this.#pending.length > 0) {
      this.#pending.push(text);
      if (text.startsWith("}")) this.#flushPending(true);
      else if (this.#pending.length > MAX_EVENT_LINES) this.#flushPending(false);
      return;
    }
    const trimmed = text.trim();
    if (trimmed.startsWith("{")) {
      const json = parseJson(trimmed);
      if (json !== undefined) {
        if (!this.#value(json)) this.result.ignoredLines++;
        return;
      }
      // The first line of a pretty-printed event: `{` alone at the start of the line.
      if (trimmed === "{" && text.startsWith("{")) {
        this.#pending.push(text);
        return;
      }
    }
    const at = text.indexOf(`{${MARKER}`);
    if (at >= 0) {
      this.#candidate(parseJson(text.slice(at).trim()) ?? text.slice(at));
      return;
    }
    this.result.ignoredLines++;
  }

  /** Ends the input: an unfinished pretty-printed event counts as ignored lines. */
  end(): ReadResult {
    if (this.#pending.length > 0) this.#flushPending(false);
    return this.result;
  }

  #flushPending(complete: boolean): void {
    const lines = this.#pending;
    this.#pending = [];
    const json = complete ? parseJson(lines.join("\n")) : undefined;
    if (json === undefined || !this.#value(json)) this.result.ignoredLines += lines.length;
  }

  /** A parsed JSON value: a record, or an event carrying records. False when it carried none. */
  #value(json: unknown): boolean {
    if (!isObject(json)) return false;
    if (json["kind"] === AUDIT_RECORD_KIND) {
      this.#candidate(json);
      return true;
    }
    const messages = eventMessages(json);
    if (messages === undefined) return false;
    let found = false;
    for (const m of messages) {
      const value = typeof m === "string" && m.includes(MARKER) ? parseJson(m) ?? m : m;
      if (isObject(value) && value["kind"] === AUDIT_RECORD_KIND) {
        this.#candidate(value);
        found = true;
      } else if (typeof value === "string" && value.includes(MARKER)) {
        this.#candidate(value);
        found = true;
      }
    }
    return found;
  }

  #candidate(value: unknown): void {
    const parsed = AuditRecord.safeParse(value);
    if (parsed.success) {
      this.result.records.push(parsed.data);
      return;
    }
    this.result.invalidRecords++;
    const issue = parsed.error.issues[0];
    this.result.firstInvalid ??= `line ${this.#line}: ${issue === undefined ? "not JSON" : `${issue.path.join(".") || "(record)"}: ${issue.message}`}`;
  }
}

/** Reads every record of a stream of text. */
export async function readRecords(input: Readable): Promise<ReadResult> {
  const reader = new RecordReader();
  for await (const line of createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY })) reader.line(line);
  return reader.end();
}
