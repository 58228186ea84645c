import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { AuditRecord } from "@edgeca/shared";
import { UsageError } from "../command.ts";
import { auditCommand } from "../commands/audit.ts";
import { matches, parseTime, readRecords, summarise } from "./index.ts";

const WEB = "spiffe://cluster.local/ns/default/sa/web";
const API = "spiffe://cluster.local/ns/default/sa/api";

function record(over: Partial<AuditRecord>): AuditRecord {
  return { kind: "edgeca.audit", version: 1, time: "2026-12-01T21:00:00.000Z", decision: "issued", cluster: "prod", spiffeId: WEB, ...over };
}

const issuedWeb = record({ serialNumber: "5d0fa139dc27b791a84b6fe0b170cb0d", notBefore: "2026-12-01T20:55:00.000Z", notAfter: "2026-12-02T21:00:00.000Z", issuer: "ca1", keyType: "ECDSA P-256", csr: { name: "csr-web-1" } });
const throttledWeb = (time: string) => record({ time, decision: "throttled", code: "rate_limited", status: 429, budget: { scope: "identity", limit: 3, windowSeconds: 10, retryAfterSeconds: 7 } });
const refusedApi = record({ time: "2026-12-01T21:05:00.000Z", decision: "refused", cluster: "dev", spiffeId: API, code: "policy_denied", status: 422, reason: "csr: trust domain" });

/** The lines the formats of read-records.ts produce, mixed with other output. */
function sampleInput(): string {
  const tailEvent = { outcome: "ok", scriptName: "edgeca-signer", logs: [{ message: [JSON.stringify(throttledWeb("2026-12-01T21:01:00.000Z"))], level: "log", timestamp: 1 }], exceptions: [] };
  const logpush = { Outcome: "ok", Logs: [{ Level: "log", Message: [JSON.stringify(throttledWeb("2026-12-01T21:02:00.000Z"))], TimestampMs: 2 }] };
  return [
    "⛅️ wrangler 4.164.0",
    JSON.stringify(issuedWeb),
    `  (log) ${JSON.stringify(refusedApi)}`,
    JSON.stringify(tailEvent, null, 2),
    JSON.stringify(logpush),
    '{"level":"info","msg":"not a record"}',
    '{"kind":"edgeca.audit","version":1,"decision":"issued"}',
    "",
  ].join("\n");
}

describe("readRecords", () => {
  it("reads JSON lines, wrangler tail events (pretty-printed), Logpush events and prefixed lines; counts the rest", async () => {
    const read = await readRecords(Readable.from([sampleInput()]));
    expect(read.records.map((r) => r.decision)).toEqual(["issued", "refused", "throttled", "throttled"]);
    expect(read.records[0]).toEqual(issuedWeb);
    expect(read.ignoredLines).toBe(2);
    expect(read.invalidRecords).toBe(1);
    expect(read.firstInvalid).toMatch(/^line \d+: time: /);
  });
});

describe("filters and summary", () => {
  const all = [issuedWeb, throttledWeb("2026-12-01T21:01:00.000Z"), throttledWeb("2026-12-01T21:02:00.000Z"), refusedApi];
  const read = { records: all, ignoredLines: 0, invalidRecords: 0, firstInvalid: undefined };

  it("filters by identity (exact or prefix), cluster, decision and time", () => {
    expect(all.filter((r) => matches({ identity: WEB }, r))).toHaveLength(3);
    expect(all.filter((r) => matches({ identity: "spiffe://cluster.local/ns/default/*" }, r))).toHaveLength(4);
    expect(all.filter((r) => matches({ cluster: "dev" }, r))).toEqual([refusedApi]);
    expect(all.filter((r) => matches({ decision: "issued", identity: WEB }, r))).toEqual([issuedWeb]);
    const since = Date.parse("2026-12-01T21:01:00Z");
    const until = Date.parse("2026-12-01T21:05:00Z");
    expect(all.filter((r) => matches({ since, until }, r)).map((r) => r.time)).toEqual(["2026-12-01T21:01:00.000Z", "2026-12-01T21:02:00.000Z"]);
  });

  it("summarises the throttled identities with count, first, last and budget", () => {
    const s = summarise(read, all);
    expect([s.matched, s.issued, s.refused, s.throttled]).toEqual([4, 1, 1, 2]);
    expect(s.throttledIdentities).toEqual([{ identity: WEB, cluster: "prod", count: 2, first: "2026-12-01T21:01:00.000Z", last: "2026-12-01T21:02:00.000Z", budget: "identity 3/10s" }]);
  });

  it("parses times as ISO 8601 or a duration ago, and names the flag otherwise", () => {
    expect(parseTime("--since", "2026-12-01T20:00:00Z", 0)).toBe(Date.parse("2026-12-01T20:00:00Z"));
    expect(parseTime("--since", "30m", 10_000_000)).toBe(10_000_000 - 1_800_000);
    expect(() => parseTime("--until", "yesterday", 0)).toThrow(/^--until: "yesterday" is neither/);
    expect(() => parseTime("--since", "2026-12-01T20:00:00", 0)).toThrow(UsageError);
  });
});

describe("edgeca audit", () => {
  let dir: string | undefined;
  afterEach(async () => {
    vi.restoreAllMocks();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
    dir = undefined;
  });

  async function run(argv: string[]): Promise<string> {
    dir ??= await mkdtemp(join(tmpdir(), "edgeca-audit-"));
    const file = join(dir, "audit.log");
    await writeFile(file, sampleInput());
    const out: string[] = [];
    vi.spyOn(console, "log").mockImplementation((line: unknown) => out.push(String(line)));
    expect(await auditCommand.run(["--file", file, ...argv])).toBe(0);
    return out.join("\n");
  }

  it("answers what was issued for an identity, by which cluster", async () => {
    const text = await run(["--identity", WEB, "--decision", "issued"]);
    expect(text).toContain("records: 1 matching of 4 read (issued 1, refused 0, throttled 0); other lines ignored: 2; invalid records: 1");
    expect(text).toMatch(/2026-12-01T21:00:00.000Z\s+prod\s+spiffe:\/\/cluster.local\/ns\/default\/sa\/web\s+ECDSA P-256\s+5d0fa139dc27b791a84b6fe0b170cb0d/);
  });

  it("prints the throttled identities as a table, and everything as JSON with --json", async () => {
    expect(await run([])).toMatch(/throttled identities:\nIDENTITY\s+CLUSTER\s+THROTTLED\s+FIRST\s+LAST\s+BUDGET\nspiffe:\/\/cluster.local\/ns\/default\/sa\/web\s+prod\s+2\s+/);
    const json = JSON.parse(await run(["--json", "--cluster", "prod"])) as { matched: number; throttled: number; throttledIdentities: { identity: string }[] };
    expect(json.matched).toBe(3);
    expect(json.throttled).toBe(2);
    expect(json.throttledIdentities.map((t) => t.identity)).toEqual([WEB]);
  });

  it("refuses a bad flag value or a missing file, naming it", async () => {
    await expect(auditCommand.run(["--decision", "denied"])).rejects.toThrow(/^--decision: "denied" is not one of issued, refused, throttled$/);
    await expect(auditCommand.run(["--file", "/nonexistent/audit.log"])).rejects.toThrow(/^--file \/nonexistent\/audit.log: ENOENT/);
    await expect(auditCommand.run(["--since", "1h", "--until", "2h"])).rejects.toThrow("--since must be before --until");
  });
});
