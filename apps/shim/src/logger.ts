/**
 * JSON logs, one object per line: `{"time","level","msg",...fields}`. Kubernetes log pipelines parse them
 * without configuration; tests inject a sink to assert on what was (or was not) logged.
 */
export type LogLevel = "debug" | "info" | "warn" | "error";

const RANK: Readonly<Record<LogLevel, number>> = { debug: 10, info: 20, warn: 30, error: 40 };

/** One log record as handed to a sink. */
export interface LogRecord {
  readonly time: string;
  readonly level: LogLevel;
  readonly msg: string;
  readonly [field: string]: unknown;
}

/** A structured logger; `child` adds fields to every record it writes. */
export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  child(fields: Record<string, unknown>): Logger;
}

/** Where records go; the default writes one JSON line to stdout. */
export type LogSink = (record: LogRecord) => void;

export const stdoutSink: LogSink = (record) => {
  process.stdout.write(`${JSON.stringify(record, errorReplacer)}\n`);
};

// Errors serialise as {} by default; keep their name, message and cause so a log line explains itself.
function errorReplacer(_key: string, value: unknown): unknown {
  if (value instanceof Error) {
    const out: Record<string, unknown> = { name: value.name, message: value.message };
    if (value.cause !== undefined) out["cause"] = value.cause;
    return out;
  }
  return value;
}

/** Creates a logger writing records at `level` and above to `sink`. */
export function createLogger(options: { level?: LogLevel; sink?: LogSink; fields?: Record<string, unknown> } = {}): Logger {
  return new FieldLogger(RANK[options.level ?? "info"], options.sink ?? stdoutSink, options.fields ?? {});
}

/** A logger is its level, sink and fields; a child shares the first two (one per reconcile: no closures). */
class FieldLogger implements Logger {
  readonly #min: number;
  readonly #sink: LogSink;
  readonly #fields: Record<string, unknown>;

  constructor(min: number, sink: LogSink, fields: Record<string, unknown>) {
    this.#min = min;
    this.#sink = sink;
    this.#fields = fields;
  }

  debug(msg: string, fields?: Record<string, unknown>): void {
    this.#write("debug", msg, fields);
  }

  info(msg: string, fields?: Record<string, unknown>): void {
    this.#write("info", msg, fields);
  }

  warn(msg: string, fields?: Record<string, unknown>): void {
    this.#write("warn", msg, fields);
  }

  error(msg: string, fields?: Record<string, unknown>): void {
    this.#write("error", msg, fields);
  }

  child(fields: Record<string, unknown>): Logger {
    return new FieldLogger(this.#min, this.#sink, { ...this.#fields, ...fields });
  }

  #write(level: LogLevel, msg: string, fields?: Record<string, unknown>): void {
    if (RANK[level] < this.#min) return;
    this.#sink({ ...this.#fields, ...fields, time: new Date().toISOString(), level, msg });
  }
}
