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
  const min = RANK[options.level ?? "info"];
  const sink = options.sink ?? stdoutSink;
  const base = options.fields ?? {};
  const write = (level: LogLevel, msg: string, fields?: Record<string, unknown>): void => {
    if (RANK[level] < min) return;
    sink({ ...base, ...fields, time: new Date().toISOString(), level, msg });
  };
  return {
    debug: (msg, fields) => { write("debug", msg, fields); },
    info: (msg, fields) => { write("info", msg, fields); },
    warn: (msg, fields) => { write("warn", msg, fields); },
    error: (msg, fields) => { write("error", msg, fields); },
    child: (fields) => createLogger({ level: options.level ?? "info", sink, fields: { ...base, ...fields } }),
  };
}
