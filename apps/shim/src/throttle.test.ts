import { describe, expect, it } from "vitest";
import { problemOf } from "@edgeca/shared";
import { createLogger, type LogRecord } from "./logger.ts";
import { createMetrics } from "./metrics.ts";
import { SignerCallError } from "./signer-call-error.ts";
import { identityOf, MAX_IDENTITY_LABELS, OTHER_IDENTITY, ThrottleRecorder } from "./throttle.ts";

function throttled(retryAfterMs: number): SignerCallError {
  const problem = problemOf("rate_limited", 'issuance budget spent: identity "x" of cluster "c" may have 3 certificates per 10 s (identity budget); retry after 7 s');
  return new SignerCallError("the signer refused", { status: 429, problem, retryAfterMs });
}

describe("ThrottleRecorder", () => {
  it("names the identity in the metric and in a warn log with Retry-After and the signer's detail", async () => {
    const metrics = createMetrics();
    const records: LogRecord[] = [];
    const log = createLogger({ sink: (r) => records.push(r) });
    new ThrottleRecorder(metrics).record("example.com/foo", ["uri:spiffe://cluster.local/ns/default/sa/web"], throttled(6500), log);
    const text = await metrics.registry.metrics();
    expect(text).toContain('edgeca_shim_throttled_total{signer="example.com/foo",identity="spiffe://cluster.local/ns/default/sa/web"} 1');
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ level: "warn", identity: "spiffe://cluster.local/ns/default/sa/web", retryAfterSeconds: 7 });
    expect(JSON.stringify(records[0])).toContain("3 certificates per 10 s");
  });

  it(`bounds the identity label to ${MAX_IDENTITY_LABELS} series and counts the rest as "${OTHER_IDENTITY}", still logging each`, async () => {
    const metrics = createMetrics();
    const records: LogRecord[] = [];
    const recorder = new ThrottleRecorder(metrics);
    const log = createLogger({ sink: (r) => records.push(r) });
    for (let i = 0; i < MAX_IDENTITY_LABELS + 10; i++) recorder.record("s", [`uri:spiffe://cluster.local/ns/n/sa/sa${i}`], throttled(1000), log);
    recorder.record("s", ["uri:spiffe://cluster.local/ns/n/sa/sa0"], throttled(1000), log);
    const values = (await metrics.throttled.get()).values;
    expect(values).toHaveLength(MAX_IDENTITY_LABELS + 1);
    expect(values.find((v) => v.labels.identity === OTHER_IDENTITY)?.value).toBe(10);
    expect(values.find((v) => v.labels.identity === "spiffe://cluster.local/ns/n/sa/sa0")?.value).toBe(2);
    expect(records.at(-2)).toMatchObject({ identity: `spiffe://cluster.local/ns/n/sa/sa${MAX_IDENTITY_LABELS + 9}` });
  });

  it("takes the URI SAN, else the DNS names, as the identity", () => {
    expect(identityOf(["dns:a.example", "dns:b.example"])).toBe("a.example,b.example");
    expect(identityOf(["uri:spiffe://td/ns/a/sa/b"])).toBe("spiffe://td/ns/a/sa/b");
  });
});
