import { createReadStream } from "node:fs";
import { once } from "node:events";
import type { Readable } from "node:stream";
import { parseFlags, UsageError, type Command } from "../command.ts";
import { formatSummary, matches, parseDecision, parseTime, readRecords, summarise, type AuditFilter } from "../audit/index.ts";

const help = `usage: edgeca audit [--file FILE] [--identity ID] [--cluster NAME] [--since TIME] [--until TIME]
                    [--decision issued|refused|throttled] [--json]

Reads the signer's audit records (one per /v1/sign decision) and answers what was issued for an
identity, by which cluster, between two times, what was refused and why, and which identities were
throttled by an issuance budget (a table: identity, cluster, count, first, last, budget).

input (--file FILE, or standard input when absent or "-"), formats mixed freely:
  JSON lines of records           the Worker's console output, DIR/audit.jsonl of \`edgeca signer serve\`
  log events with logs[].message  \`wrangler tail --format json\` (one per line or pretty-printed),
                                  Logpush Workers Trace Events (Logs[].Message)
  text lines ending in a record   \`wrangler tail --format pretty\` ("(log) {…}"), prefixed collector lines
Other lines are counted as ignored, not refused.

flags:
  --file FILE        the log to read (default: standard input)
  --identity ID      a SPIFFE ID, or DNS names joined by ","; a trailing * matches a prefix
                     (spiffe://cluster.local/ns/shop/*)
  --cluster NAME     the cluster name of the signer's configuration
  --since TIME       from TIME (inclusive): ISO 8601 (2026-12-01T20:00:00Z, 2026-12-01) or a duration ago (30m, 12h, 7d)
  --until TIME       up to TIME (exclusive), same forms
  --decision D       only issued, refused or throttled records
  --json             one JSON object: counts, throttledIdentities and the matching records

exit status: 0 read (even when nothing matched), 2 usage or file error

examples:
  wrangler tail edgeca-signer --format json | edgeca audit --decision throttled
  edgeca audit --file DIR/audit.jsonl --identity spiffe://cluster.local/ns/default/sa/web --since 24h
  edgeca audit --file logpush.jsonl --cluster prod --decision issued --since 2026-12-01T00:00:00Z --json`;

async function openInput(file: string | undefined): Promise<Readable> {
  if (file === undefined || file === "-") return process.stdin;
  const stream = createReadStream(file, { encoding: "utf8" });
  try {
    await once(stream, "open");
  } catch (error) {
    throw new UsageError(`--file ${file}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  return stream;
}

/** \`edgeca audit\`: filters and summarises audit records. */
export const auditCommand: Command = {
  name: "audit",
  summary: "read the signer's audit records: what was issued, refused, throttled",
  help,
  async run(argv) {
    const v = parseFlags(argv, {
      file: { type: "string" },
      identity: { type: "string" },
      cluster: { type: "string" },
      since: { type: "string" },
      until: { type: "string" },
      decision: { type: "string" },
      json: { type: "boolean", default: false },
    });
    const now = Date.now();
    const filter: AuditFilter = {
      ...(v.identity === undefined ? {} : { identity: v.identity }),
      ...(v.cluster === undefined ? {} : { cluster: v.cluster }),
      ...(v.since === undefined ? {} : { since: parseTime("--since", v.since, now) }),
      ...(v.until === undefined ? {} : { until: parseTime("--until", v.until, now) }),
      ...(v.decision === undefined ? {} : { decision: parseDecision(v.decision) }),
    };
    if (filter.since !== undefined && filter.until !== undefined && filter.since >= filter.until) throw new UsageError("--since must be before --until");
    const read = await readRecords(await openInput(v.file));
    const summary = summarise(read, read.records.filter((r) => matches(filter, r)));
    console.log(v.json ? JSON.stringify(summary, null, 2) : formatSummary(summary));
    return 0;
  },
};
