import { describe, expect, it } from "vitest";
import { problemOf } from "@edgeca/shared";
import { createLogger, type LogRecord } from "./logger.ts";
import { createMetrics, type ShimMetrics } from "./metrics.ts";
import { SignFailures, type FailureSubject, type Refusal } from "./sign-failures.ts";
import { SignerCallError } from "./signer-call-error.ts";
import { MAX_IDENTITY_LABELS, OTHER_IDENTITY } from "./throttle.ts";

interface Obj {
  readonly key: string;
}

/** A subject whose writes land in `written` and whose Events in `events`. */
function subject(kind: string, written: Refusal[], events: string[]): FailureSubject<Obj> {
  return {
    kind,
    keyOf: (o) => o.key,
    signerNameOf: () => "example.com/foo",
    refusalOf: (error) => ({ type: "Denied", reason: error.reason, message: error.problem?.detail ?? error.message }),
    writeRefusal: (_o, refusal) => {
      written.push(refusal);
      return Promise.resolve("written");
    },
    answerKept: () => false,
    warning: (o, reason) => {
      events.push(`${o.key} ${reason}`);
      return Promise.resolve();
    },
  };
}

const throttled = (): SignerCallError => new SignerCallError("the signer refused", { status: 429, problem: problemOf("rate_limited", "issuance budget spent"), retryAfterMs: 1_000 });

function rig(metrics: ShimMetrics = createMetrics()): { failures: SignFailures<Obj>; written: Refusal[]; events: string[]; logs: LogRecord[]; metrics: ShimMetrics } {
  const written: Refusal[] = [];
  const events: string[] = [];
  const logs: LogRecord[] = [];
  return { failures: new SignFailures(metrics, subject("PodCertificateRequest", written, events)), written, events, logs, metrics };
}

describe("SignFailures", () => {
  it("refuses with the kind's refusal: written once, counted, logged with the kind, a Warning Event", async () => {
    const r = rig();
    const log = createLogger({ sink: (l) => r.logs.push(l) });
    const error = new SignerCallError("the signer refused: policy_denied", { status: 422, problem: problemOf("policy_denied", "not allowed") });
    await expect(r.failures.signerFault({ key: "ns/a" }, () => [], error, log)).resolves.toEqual({ kind: "done", outcome: "failed" });
    expect(r.written).toEqual([{ type: "Denied", reason: "PolicyDenied", message: "not allowed" }]);
    expect(r.events).toEqual(["ns/a PolicyDenied"]);
    expect(r.logs.map((l) => [l.msg, l.reason])).toEqual([["PodCertificateRequest marked Denied", "PolicyDenied"]]);
    expect((await r.metrics.failed.get()).values.map((v) => [v.labels.reason, v.value])).toEqual([["PolicyDenied", 1]]);
  });

  it("bounds the throttled identities per metrics registry across both reconcilers, not per reconciler", async () => {
    const metrics = createMetrics();
    const csrs = rig(metrics).failures;
    const pcrs = rig(metrics).failures;
    const log = createLogger({ sink: () => undefined });
    for (let i = 0; i < MAX_IDENTITY_LABELS; i++) await csrs.signerFault({ key: `c${i}` }, () => [`uri:spiffe://cluster.local/ns/n/sa/s${i}`], throttled(), log);
    await expect(pcrs.signerFault({ key: "ns/p" }, () => ["uri:ns/n/sa/pod"], throttled(), log)).resolves.toEqual({ kind: "retry", reason: "RateLimited", afterMs: 1_000 });
    const values = (await metrics.throttled.get()).values;
    expect(values).toHaveLength(MAX_IDENTITY_LABELS + 1);
    expect(values.find((v) => v.labels.identity === OTHER_IDENTITY)?.value).toBe(1);
  });
});
