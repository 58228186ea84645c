import { describe, expect, it } from "vitest";
import type { SignBatchItem } from "@edgeca/shared";
import { auditRecordsOfEachTest } from "../test/support/audit-log.ts";
import { answersOf, batchAsPlain, budgetCalls, clusterEnv } from "../test/support/batch.ts";
import { call, fx, signAsPlain, signRequest, verdict } from "../test/support/client.ts";

const web = (name = "csr-web") => signRequest(fx.csrs.workloadP256, { object: { name } });
const api = (name = "csr-api") => signRequest(fx.csrs.workloadOther, { object: { name } });
const cp = () => signRequest(fx.csrs.controlPlane, { usages: ["digital signature", "key encipherment", "server auth"] });
const denied = () => signRequest(fx.csrs.workloadWrongTrustDomain, { object: { name: "csr-denied" } });
const forbidden = () => signRequest(fx.csrs.workloadP256, { signerName: "example.com/not-ours" });

/** `issued`, or the refusal's code. */
const codes = (answers: readonly SignBatchItem[]) => answers.map((a) => ("issued" in a ? "issued" : a.refused.code));

describe("POST /v1/sign-batch: budgets", () => {
  it("asks the budget object once per batch, and /v1/sign once per request", async () => {
    const e = clusterEnv("batch-calls");
    const before = await budgetCalls("batch-calls");
    const requests = Array.from({ length: 16 }, (_, i) => (i % 2 === 0 ? web(`w${i}`) : api(`a${i}`)));
    expect(codes(await answersOf(await batchAsPlain(requests, e), 16))).toEqual(Array<string>(16).fill("issued"));
    expect(await budgetCalls("batch-calls")).toEqual({ take: before.take, takeEach: before.takeEach + 1 });
    expect((await signAsPlain(web(), e)).status).toBe(200);
    expect(await budgetCalls("batch-calls")).toEqual({ take: before.take + 1, takeEach: before.takeEach + 1 });
    // A batch none of whose items passes policy draws nothing and asks nothing.
    expect(codes(await answersOf(await batchAsPlain([denied(), forbidden()], e), 2))).toEqual(["policy_denied", "forbidden"]);
    expect(await budgetCalls("batch-calls")).toEqual({ take: before.take + 1, takeEach: before.takeEach + 1 });
  });

  it("counts only admitted items, in request order, and the count holds for the next request", async () => {
    const e = clusterEnv("batch-count", { cluster: { limit: 4, windowSeconds: 60 } });
    const answers = await answersOf(await batchAsPlain([web(), denied(), web(), forbidden(), api(), web(), api()], e), 7);
    expect(codes(answers)).toEqual(["issued", "policy_denied", "issued", "forbidden", "issued", "issued", "rate_limited"]);
    expect(answers[6]).toMatchObject({ refused: { detail: expect.stringContaining('cluster "batch-count" may have 4 certificates per 60 s (cluster budget)') as unknown } });
    expect((await signAsPlain(api(), e)).status).toBe(429);
  });

  it("does not count a throttled item against the budgets it had room in", async () => {
    const e = clusterEnv("batch-throttled", { cluster: { limit: 3, windowSeconds: 60 }, perIdentity: { limit: 1, windowSeconds: 60 } });
    // The second web is throttled by its identity; had it counted for the cluster, the last would be too.
    expect(codes(await answersOf(await batchAsPlain([web(), web(), api(), cp()], e), 4))).toEqual(["issued", "rate_limited", "issued", "issued"]);
    expect(codes(await answersOf(await batchAsPlain([cp()], e), 1))).toEqual(["rate_limited"]);
  });

  const failing = {
    EDGECA_BUDGETS: {
      idFromName: (name: string) => name,
      get: () => ({ take: () => Promise.reject(new Error("Durable Object is overloaded")), takeEach: () => Promise.reject(new Error("Durable Object is overloaded")) }),
    },
  };

  it("fail-closed answers each item that reached the budgets 503, the others as they were refused", async () => {
    for (const [name, bindings, cause] of [["batch-closed-unbound", {}, "EDGECA_BUDGETS Durable Object binding is not configured"], ["batch-closed-failing", failing, "Durable Object is overloaded"]] as const) {
      const answers = await answersOf(await batchAsPlain([web(), denied(), api()], clusterEnv(name, { onBackendUnavailable: "fail-closed" }, bindings)), 3);
      expect(codes(answers)).toEqual(["unavailable", "policy_denied", "unavailable"]);
      for (const a of [answers[0], answers[2]]) {
        const detail = a !== undefined && "refused" in a ? a.refused.detail : "";
        expect(detail).toContain(cause);
        expect(detail).toContain(`cluster "${name}" is configured fail-closed`);
      }
    }
  });
});

describe("POST /v1/sign-batch: audit records", () => {
  const records = auditRecordsOfEachTest();

  it("writes one record per item, in request order, each with that item's facts", async () => {
    const e = clusterEnv("batch-audit", { perIdentity: { limit: 1, windowSeconds: 60 } });
    const answers = await answersOf(await batchAsPlain([web("csr-a"), denied(), { signerName: fx.signerName }, web("csr-b"), api("csr-c")], e), 5);
    const r = records();
    expect(r.map((x) => x.decision)).toEqual(["issued", "refused", "refused", "throttled", "issued"]);
    expect(r.every((x) => x.cluster === "batch-audit")).toBe(true);
    const first = answers[0];
    expect(r[0]).toMatchObject({ csr: { name: "csr-a" }, spiffeId: "spiffe://cluster.local/ns/default/sa/web", keyType: "ECDSA P-256", issuer: "ca1", serialNumber: first !== undefined && "issued" in first ? first.issued.serialNumber : "?" });
    expect(r[1]).toMatchObject({ code: "policy_denied", status: 422, csr: { name: "csr-denied" }, spiffeId: "spiffe://evil.example/ns/default/sa/web" });
    expect(r[2]).toMatchObject({ code: "invalid_request", status: 400 });
    expect(r[2]?.reason).toMatch(/^requests\.2 does not match the sign request schema: /);
    expect(r[2]?.signerName).toBeUndefined();
    expect(r[3]).toMatchObject({ code: "rate_limited", csr: { name: "csr-b" }, budget: { scope: "identity", limit: 1, windowSeconds: 60 } });
    expect(r[4]).toMatchObject({ csr: { name: "csr-c" }, spiffeId: "spiffe://cluster.local/ns/default/sa/api" });
    expect(new Set([r[0]?.serialNumber, r[4]?.serialNumber]).size).toBe(2);
  });

  it("marks each item issued without a budget check (fail-open)", async () => {
    await answersOf(await batchAsPlain([web(), api()], clusterEnv("batch-open", {}, {})), 2);
    const r = records();
    expect(r).toHaveLength(2);
    for (const x of r) expect(x).toMatchObject({ decision: "issued", budgetUnchecked: "the EDGECA_BUDGETS Durable Object binding is not configured" });
  });

  it("writes one record for a batch refused as a whole", async () => {
    await call("/v1/sign-batch", { body: { requests: [web()] }, cf: verdict("00".repeat(32)) });
    await call("/v1/sign-batch", { body: { requests: Array.from({ length: 33 }, () => web()) }, cf: verdict(fx.fingerprints.plain), env: clusterEnv("batch-audit-33") });
    await call("/v1/sign-batch", { body: "[", headers: { "content-type": "application/json" }, cf: verdict(fx.fingerprints.plain), env: clusterEnv("batch-audit-json") });
    const r = records();
    expect(r.map((x) => [x.decision, x.code, x.cluster])).toEqual([
      ["refused", "unauthenticated", undefined],
      ["refused", "invalid_request", "batch-audit-33"],
      ["refused", "invalid_request", "batch-audit-json"],
    ]);
  });
});
