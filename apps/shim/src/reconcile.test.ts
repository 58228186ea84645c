import { beforeAll, beforeEach, describe, expect, it } from "vitest";
import { ANSWER_REUSE_MS, MAX_VERIFICATION_FAILURES } from "./reconcile.ts";
import { SignerCallError } from "./signer-call-error.ts";
import { certificateOf, TEST_SIGNER } from "../test/support/csr-object.ts";
import { apiError, unreachable } from "../test/support/kube-errors.ts";
import { metricValue } from "../test/support/metric-value.ts";
import { reconcilerRig, type ReconcilerRig } from "../test/support/reconciler-rig.ts";
import { createTestCsr, createTestIssuer, type TestCsr, type TestIssuer } from "../test/support/test-issuer.ts";

let issuer: TestIssuer;
let stranger: TestIssuer;
let request: TestCsr;
let goodChain: string;
let strangeChain: string;
let r: ReconcilerRig;

beforeAll(async () => {
  issuer = await createTestIssuer("CN=bundle root");
  stranger = await createTestIssuer("CN=unknown root");
  request = await createTestCsr();
  goodChain = await issuer.issue(request.publicKey);
  strangeChain = await stranger.issue(request.publicKey);
});

beforeEach(() => {
  r = reconcilerRig(issuer.rootPem);
  r.signer.answer = () => Promise.resolve(goodChain);
});

const count = (name: string, labels: Record<string, string> = {}): Promise<number> => metricValue(r.metrics.registry, name, { signer: TEST_SIGNER, ...labels });
const problem = (status: number, code: "policy_denied" | "rate_limited" | "unavailable", detail: string, retryAfterMs?: number): SignerCallError =>
  new SignerCallError(`the signer refused: ${code}`, { status, problem: { type: "about:blank", title: code, status, code, detail }, ...(retryAfterMs === undefined ? {} : { retryAfterMs }) });
const conditionsOf = (name: string): (string | undefined)[][] => (r.api.get(name)?.status?.conditions ?? []).map((c) => [c.type, c.reason, c.message]);

describe("Reconciler guard clauses", () => {
  it("gone: a CSR not in the cache is done without a call", async () => {
    await expect(r.reconciler.reconcile("a")).resolves.toEqual({ kind: "done", outcome: "gone" });
    expect([r.signer.requests.length, r.signer.bundles, r.api.calls.length]).toEqual([0, 0, 0]);
  });

  it.each([
    ["another signer name", { signerName: "example.com/bar" }],
    ["already issued", { certificatePem: "someone else's" }],
    ["Failed", { conditions: ["Approved", "Failed"] as const }],
    ["Denied", { conditions: ["Denied"] as const }],
    ["not approved", { conditions: [] }],
  ])("%s: skipped without a call", async (_what, options) => {
    r.add("a", { requestPem: request.pem, ...options });
    await expect(r.reconciler.reconcile("a")).resolves.toEqual({ kind: "done", outcome: "skipped" });
    expect([r.signer.requests.length, r.api.calls.length]).toEqual([0, 0]);
    expect(await count("edgeca_shim_certificates_issued_total")).toBe(0);
  });
});

describe("Reconciler issuing", () => {
  it("signs, verifies, writes the chain, counts it and updates the cache", async () => {
    r.add("a", { requestPem: request.pem, uid: "u1", created: new Date(r.now - 2_000) });
    await expect(r.reconciler.reconcile("a")).resolves.toEqual({ kind: "done", outcome: "issued" });
    expect(certificateOf(r.api.get("a"))).toBe(goodChain);
    expect(certificateOf(r.cache.get("a"))).toBe(goodChain);
    expect(r.signer.requests).toMatchObject([{ signerName: TEST_SIGNER, csr: request.pem, object: { name: "a", uid: "u1" }, requestor: { username: "system:serviceaccount:istio-system:istiod" } }]);
    expect(await count("edgeca_shim_certificates_issued_total")).toBe(1);
    expect(await count("edgeca_shim_issue_latency_seconds_sum")).toBe(2);
  });

  it("unreadable CSR: Failed InvalidRequest with a Warning Event, the signer not asked", async () => {
    r.add("a", { requestPem: "garbage" });
    await expect(r.reconciler.reconcile("a")).resolves.toEqual({ kind: "done", outcome: "failed" });
    expect(conditionsOf("a")).toEqual([["Approved", "TestApproved", undefined], ["Failed", "InvalidRequest", expect.stringMatching(/certificate request/)]]);
    expect(r.events).toMatchObject([{ csr: "a", reason: "InvalidRequest" }]);
    expect(r.signer.requests).toHaveLength(0);
    expect(await count("edgeca_shim_csrs_failed_total", { reason: "InvalidRequest" })).toBe(1);
  });

  it("terminal refusal (422 policy_denied): Failed PolicyDenied with the detail, and a Warning Event", async () => {
    r.add("a", { requestPem: request.pem });
    r.signer.answer = () => Promise.reject(problem(422, "policy_denied", "namespace kube-system is not allowed"));
    await expect(r.reconciler.reconcile("a")).resolves.toEqual({ kind: "done", outcome: "failed" });
    expect(conditionsOf("a")[1]).toEqual(["Failed", "PolicyDenied", "namespace kube-system is not allowed"]);
    expect(r.events).toEqual([{ csr: "a", reason: "PolicyDenied", note: "namespace kube-system is not allowed" }]);
    expect(await count("edgeca_shim_csrs_failed_total", { reason: "PolicyDenied" })).toBe(1);
    // The cache holds the written copy: a second reconcile sees Failed and asks nobody.
    await expect(r.reconciler.reconcile("a")).resolves.toEqual({ kind: "done", outcome: "skipped" });
    expect(r.signer.requests).toHaveLength(1);
  });

  it("deleted while being signed: gone, nothing written", async () => {
    r.add("a", { requestPem: request.pem });
    r.signer.during = () => { r.cache.delete("a"); };
    await expect(r.reconciler.reconcile("a")).resolves.toEqual({ kind: "done", outcome: "gone" });
    expect(r.api.calls).toEqual([]);
  });

  it("deleted before the write (404): gone, not counted", async () => {
    r.add("a", { requestPem: request.pem });
    r.api.delete("a");
    await expect(r.reconciler.reconcile("a")).resolves.toEqual({ kind: "done", outcome: "gone" });
    expect(await count("edgeca_shim_certificates_issued_total")).toBe(0);
  });
});

describe("Reconciler transient signer faults: retried, never Failed", () => {
  it.each([
    ["network", new SignerCallError("cannot reach the signer: connect ECONNREFUSED"), { kind: "retry", reason: "SignerUnreachable" }],
    ["5xx without a problem", new SignerCallError("the signer refused: HTTP 502", { status: 502 }), { kind: "retry", reason: "SignerHttp502" }],
    ["503 unavailable", problem(503, "unavailable", "try later"), { kind: "retry", reason: "Unavailable" }],
    ["429 with Retry-After", problem(429, "rate_limited", "slow down", 7_000), { kind: "retry", reason: "RateLimited", afterMs: 7_000 }],
    ["401", new SignerCallError("the signer refused: HTTP 401", { status: 401 }), { kind: "retry", reason: "SignerHttp401" }],
  ])("%s", async (_what, error, expected) => {
    r.add("a", { requestPem: request.pem });
    r.signer.answer = () => Promise.reject(error);
    await expect(r.reconciler.reconcile("a")).resolves.toEqual(expected);
    expect(conditionsOf("a")).toHaveLength(1);
    expect(r.events).toEqual([]);
    expect(await count("edgeca_shim_retries_total", { reason: expected.reason })).toBe(1);
    expect(await count("edgeca_shim_csrs_failed_total")).toBe(0);
    // 401/403 mean the shim's credentials are wrong: loud. Everything else is not an error of the shim.
    const errors = r.logs.filter((l) => l.level === "error").map((l) => l.reason);
    expect(errors).toEqual(expected.reason === "SignerHttp401" ? ["SignerHttp401"] : []);
  });

  it("a signer that cannot serve the bundle: retried", async () => {
    r.add("a", { requestPem: request.pem });
    r.signer.bundle = () => Promise.reject(new SignerCallError("cannot reach the signer"));
    await expect(r.reconciler.reconcile("a")).resolves.toEqual({ kind: "retry", reason: "SignerUnreachable" });
    expect(r.signer.requests).toHaveLength(0);
  });
});

describe("Reconciler answers that fail verification", () => {
  it("refreshes the bundle once and accepts the answer when the new bundle has its root (rotation)", async () => {
    r.add("a", { requestPem: request.pem });
    r.signer.answer = () => {
      r.signer.roots = [issuer.rootPem, stranger.rootPem];
      return Promise.resolve(strangeChain);
    };
    await expect(r.reconciler.reconcile("a")).resolves.toEqual({ kind: "done", outcome: "issued" });
    expect(r.signer.bundles).toBe(2);
  });

  it("never writes a bad answer; retried, then Failed InvalidSignerAnswer after 5", async () => {
    r.add("a", { requestPem: request.pem });
    r.signer.answer = () => Promise.resolve(strangeChain);
    for (let i = 1; i < MAX_VERIFICATION_FAILURES; i++) {
      await expect(r.reconciler.reconcile("a")).resolves.toEqual({ kind: "retry", reason: "VerificationFailed" });
      expect(r.signer.bundles).toBe(1 + i);
    }
    expect(r.api.calls).toEqual([]);
    await expect(r.reconciler.reconcile("a")).resolves.toEqual({ kind: "done", outcome: "failed" });
    expect(conditionsOf("a")[1]).toEqual(["Failed", "InvalidSignerAnswer", expect.stringMatching(/failed verification 5 times/)]);
    expect(r.api.get("a")?.status?.certificate).toBeUndefined();
    expect(r.events).toMatchObject([{ reason: "InvalidSignerAnswer" }]);
    expect(await count("edgeca_shim_verification_failures_total")).toBe(5);
    expect(await count("edgeca_shim_retries_total", { reason: "VerificationFailed" })).toBe(4);
  });

  it("a 200 that is no valid answer (not the schema): retried as InvalidSignerAnswer, counted with bad answers, Failed after 5", async () => {
    r.add("a", { requestPem: request.pem });
    const invalid = new SignerCallError("the signer's /v1/sign answer does not match the schema: certificateChain", { status: 200, invalidAnswer: true });
    r.signer.answer = () => Promise.reject(invalid);
    for (let i = 1; i < MAX_VERIFICATION_FAILURES - 1; i++) {
      await expect(r.reconciler.reconcile("a")).resolves.toEqual({ kind: "retry", reason: "InvalidSignerAnswer" });
    }
    // One answer that fails verification in the run: the same count of bad answers in a row.
    r.signer.answer = () => Promise.resolve(strangeChain);
    await expect(r.reconciler.reconcile("a")).resolves.toEqual({ kind: "retry", reason: "VerificationFailed" });
    r.signer.answer = () => Promise.reject(invalid);
    await expect(r.reconciler.reconcile("a")).resolves.toEqual({ kind: "done", outcome: "failed" });
    expect(conditionsOf("a")[1]).toEqual(["Failed", "InvalidSignerAnswer", expect.stringMatching(/^the signer's answer was refused 5 times: .*does not match the schema/)]);
    expect(await count("edgeca_shim_retries_total", { reason: "InvalidSignerAnswer" })).toBe(MAX_VERIFICATION_FAILURES - 2);
    expect(await count("edgeca_shim_retries_total", { reason: "SignerHttp200" })).toBe(0);
    expect(await count("edgeca_shim_verification_failures_total")).toBe(1);
  });

  it("a good answer between bad ones starts the count over", async () => {
    r.add("a", { requestPem: request.pem });
    r.signer.answer = () => Promise.resolve(strangeChain);
    for (let i = 1; i < MAX_VERIFICATION_FAILURES; i++) await r.reconciler.reconcile("a");
    // A good answer whose write fails: verified (the count is reset), kept, not written.
    r.signer.answer = () => Promise.resolve(goodChain);
    r.api.fail("replace", unreachable());
    await expect(r.reconciler.reconcile("a")).resolves.toEqual({ kind: "retry", reason: "ApiserverUnreachable" });
    // Once the kept answer is too old to reuse, the signer is asked again and answers badly once more.
    r.now += ANSWER_REUSE_MS;
    r.signer.answer = () => Promise.resolve(strangeChain);
    await expect(r.reconciler.reconcile("a")).resolves.toEqual({ kind: "retry", reason: "VerificationFailed" });
    expect(r.signer.requests).toHaveLength(MAX_VERIFICATION_FAILURES + 1);
  });
});

describe("Reconciler when kube-apiserver fails the write", () => {
  it("down: retry ApiserverUnreachable; the next reconcile writes the same chain without signing again", async () => {
    r.add("a", { requestPem: request.pem });
    r.api.fail("replace", unreachable());
    await expect(r.reconciler.reconcile("a")).resolves.toEqual({ kind: "retry", reason: "ApiserverUnreachable" });
    expect(await count("edgeca_shim_retries_total", { reason: "ApiserverUnreachable" })).toBe(1);
    const logged = r.logs.find((l) => l.reason === "ApiserverUnreachable");
    expect(logged).toMatchObject({ level: "warn", signedCertificateKept: true });
    expect(logged?.error).toMatch(/ECONNREFUSED/);
    await expect(r.reconciler.reconcile("a")).resolves.toEqual({ kind: "done", outcome: "issued" });
    expect(r.signer.requests).toHaveLength(1);
    expect(certificateOf(r.api.get("a"))).toBe(goodChain);
    expect(await count("edgeca_shim_certificates_issued_total")).toBe(1);
  });

  it("5xx on the write: retry ApiserverHttp503", async () => {
    r.add("a", { requestPem: request.pem });
    r.api.fail("replace", apiError(503));
    await expect(r.reconciler.reconcile("a")).resolves.toEqual({ kind: "retry", reason: "ApiserverHttp503" });
  });

  it("a write that landed although its answer was lost is counted once, when the cache shows our certificate", async () => {
    r.add("a", { requestPem: request.pem });
    r.api.fail("replace", unreachable(), { landed: true });
    await expect(r.reconciler.reconcile("a")).resolves.toEqual({ kind: "retry", reason: "ApiserverUnreachable" });
    expect(await count("edgeca_shim_certificates_issued_total")).toBe(0);
    r.sync("a");
    await expect(r.reconciler.reconcile("a")).resolves.toEqual({ kind: "done", outcome: "issued" });
    await expect(r.reconciler.reconcile("a")).resolves.toEqual({ kind: "done", outcome: "skipped" });
    expect(await count("edgeca_shim_certificates_issued_total")).toBe(1);
    expect(r.signer.requests).toHaveLength(1);
  });

  it("a landed write whose watch event has not come yet: the retry's 409 re-read finds our certificate, counted once", async () => {
    r.add("a", { requestPem: request.pem });
    r.api.fail("replace", unreachable(), { landed: true });
    await r.reconciler.reconcile("a");
    await expect(r.reconciler.reconcile("a")).resolves.toEqual({ kind: "done", outcome: "issued" });
    expect(r.api.calls).toEqual(["replace a", "replace a", "read a"]);
    expect(certificateOf(r.cache.get("a"))).toBe(goodChain);
    expect(await count("edgeca_shim_certificates_issued_total")).toBe(1);
    expect(r.signer.requests).toHaveLength(1);
  });

  it("forget() drops the kept answer: the next reconcile signs again", async () => {
    r.add("a", { requestPem: request.pem });
    r.api.fail("replace", unreachable());
    await r.reconciler.reconcile("a");
    r.reconciler.forget("a");
    await expect(r.reconciler.reconcile("a")).resolves.toEqual({ kind: "done", outcome: "issued" });
    expect(r.signer.requests).toHaveLength(2);
  });

  it("a kept answer is not reused after ANSWER_REUSE_MS, nor for a new CSR object of the same name", async () => {
    r.add("a", { requestPem: request.pem, uid: "u1" });
    r.api.fail("replace", unreachable(), { times: 2 });
    await r.reconciler.reconcile("a");
    r.now += ANSWER_REUSE_MS;
    await r.reconciler.reconcile("a");
    expect(r.signer.requests).toHaveLength(2);
    r.add("a", { requestPem: request.pem, uid: "u2" });
    await expect(r.reconciler.reconcile("a")).resolves.toEqual({ kind: "done", outcome: "issued" });
    expect(r.signer.requests).toHaveLength(3);
  });

  it("down while writing the Failed condition: retried, no Event yet", async () => {
    r.add("a", { requestPem: "garbage" });
    r.api.fail("replace", unreachable());
    await expect(r.reconciler.reconcile("a")).resolves.toEqual({ kind: "retry", reason: "ApiserverUnreachable" });
    expect(r.events).toEqual([]);
    await expect(r.reconciler.reconcile("a")).resolves.toEqual({ kind: "done", outcome: "failed" });
    expect(r.events).toHaveLength(1);
  });
});
