/**
 * The batcher's grouping only. The transport is scripted (a SignerClient that records each request and
 * answers when the test says), because what is tested is which calls go out when and together: the in-flight
 * cap, grouping up to the maximum, a call alone over /v1/sign, order, aborts, how outcomes reach their
 * callers, and the fallback for a signer without /v1/sign-batch. The HTTP side of batches is tested with a
 * real TLS server in signer-client.test.ts and with the real Worker in test/e2e/batches.e2e.test.ts.
 */
import { problemOf } from "@edgeca/shared";
import { describe, expect, it } from "vitest";
import { BatchRequestError } from "./sign-batch-wire.ts";
import { SKEW_PAUSE_MS } from "./sign-batcher.ts";
import { SignerCallError } from "./signer-call-error.ts";
import { flush, issued, names, rig } from "../test/support/batcher-rig.ts";

describe("SignBatcher", () => {
  it("derives R = ceil(concurrency / batchMax)", () => {
    expect([rig(16, 32).batcher.limit, rig(16, 33).batcher.limit, rig(32, 8).batcher.limit, rig(1, 32).batcher.limit]).toEqual([2, 3, 1, 32]);
  });

  it("sends a call alone over /v1/sign when it is the only one: a quiet cluster is served as without batches", async () => {
    const r = rig(16, 32);
    for (const name of ["a", "b", "c"]) {
      const done = r.sign(name);
      await flush();
      r.transport.sent.at(-1)?.answer();
      await done;
    }
    expect(r.shape()).toEqual(["v1/sign a", "v1/sign b", "v1/sign c"]);
    expect(r.results.get("b")).toEqual({ ok: true, value: issued("b") });
  });

  it("keeps at most R requests in flight, opens a second only for a full batch, and groups what waits oldest first", async () => {
    const r = rig(4, 8); // R = 2
    const all = names("c", 12).map((n) => r.sign(n));
    await flush();
    // c0 goes at once, alone; while it is out, a second request opens only once batchMax (4) calls wait.
    expect(r.shape()).toEqual(["v1/sign c0", "v1/sign-batch c1,c2,c3,c4"]);
    r.transport.sent[0]?.answer();
    await flush();
    // One still in flight and seven waiting: a full batch goes.
    expect(r.shape().slice(2)).toEqual(["v1/sign-batch c5,c6,c7,c8"]);
    r.transport.sent[1]?.answer();
    await flush();
    // One in flight and three waiting: they wait for it rather than go half full.
    expect(r.shape()).toHaveLength(3);
    r.transport.sent[2]?.answer();
    await flush();
    expect(r.shape().slice(3)).toEqual(["v1/sign-batch c9,c10,c11"]);
    r.transport.sent[3]?.answer();
    await Promise.all(all);
    expect(names("c", 12).map((n) => r.results.get(n))).toEqual(names("c", 12).map((n) => ({ ok: true, value: issued(n) })));
    expect(r.transport.sent).toHaveLength(4);
  });

  it("while a request is out, calls wait for its answer instead of going alone over an idle second request", async () => {
    const r = rig(16, 32); // R = 2
    const first = r.sign("a");
    await flush();
    const later = [r.sign("b"), r.sign("c")];
    await flush();
    expect(r.shape()).toEqual(["v1/sign a"]);
    r.transport.sent[0]?.answer();
    await flush();
    expect(r.shape()).toEqual(["v1/sign a", "v1/sign-batch b,c"]);
    r.transport.sent[1]?.answer();
    await Promise.all([first, ...later]);
    expect(r.results.get("c")).toEqual({ ok: true, value: issued("c") });
  });

  it("sends the one call waiting alone when a request returns", async () => {
    const r = rig(16, 16); // R = 1
    const all = [r.sign("a"), r.sign("b")];
    await flush();
    r.transport.sent[0]?.answer();
    await flush();
    r.transport.sent[1]?.answer();
    await Promise.all(all);
    expect(r.shape()).toEqual(["v1/sign a", "v1/sign b"]);
  });

  it("gives each caller its own item's outcome: a refused item fails alone", async () => {
    const r = rig(8, 8); // R = 1
    const all = ["x", "a", "b", "c"].map((n) => r.sign(n));
    await flush();
    r.transport.sent[0]?.answer();
    await flush();
    const denied = new SignerCallError("the signer refused: policy_denied: no", { status: 422, problem: problemOf("policy_denied", "no") });
    r.transport.sent[1]?.answer([issued("a"), denied, issued("c")]);
    await Promise.all(all);
    expect(r.shape()).toEqual(["v1/sign x", "v1/sign-batch a,b,c"]);
    expect([r.results.get("a"), r.results.get("b"), r.results.get("c")]).toEqual([{ ok: true, value: issued("a") }, { ok: false, value: denied }, { ok: true, value: issued("c") }]);
  });

  it("fails every call of a batch alike when the whole request failed", async () => {
    const r = rig(8, 8);
    const all = ["x", "a", "b"].map((n) => r.sign(n));
    await flush();
    r.transport.sent[0]?.answer();
    await flush();
    const unavailable = new BatchRequestError("the signer refused: unavailable: config", { status: 503, problem: problemOf("unavailable", "config") });
    r.transport.sent[1]?.answer([unavailable, unavailable]);
    await Promise.all(all);
    expect([r.results.get("a"), r.results.get("b")]).toEqual([{ ok: false, value: unavailable }, { ok: false, value: unavailable }]);
    // A 5xx of the whole batch is retried by each CSR as a 5xx of /v1/sign would be; batching goes on.
    expect(r.logs.filter((l) => l.level === "warn")).toEqual([]);
    expect(r.transport.sent).toHaveLength(2);
  });

  it("removes a call aborted while it waits; the others still go, in order", async () => {
    const r = rig(8, 8);
    const controller = new AbortController();
    const all = [r.sign("x"), r.sign("a"), r.sign("b", controller.signal), r.sign("c")];
    await flush();
    controller.abort(new Error("reconcile cancelled"));
    await flush();
    expect(r.results.get("b")).toEqual({ ok: false, value: new Error("reconcile cancelled") });
    r.transport.sent[0]?.answer();
    await flush();
    r.transport.sent[1]?.answer();
    await Promise.all(all);
    expect(r.shape()).toEqual(["v1/sign x", "v1/sign-batch a,c"]);
  });

  it("refuses a call whose signal is already aborted without sending it", async () => {
    const r = rig(8, 8);
    await r.sign("a", AbortSignal.abort(new Error("gone")));
    expect([r.results.get("a"), r.transport.sent.length]).toEqual([{ ok: false, value: new Error("gone") }, 0]);
  });

  it("with batchMax 1 sends every call alone at once, as without a batcher", async () => {
    const r = rig(1, 4);
    const all = names("c", 6).map((n) => r.sign(n));
    await flush();
    expect(r.shape()).toEqual(names("c", 6).map((n) => `v1/sign ${n}`));
    for (const s of r.transport.sent) s.answer();
    await Promise.all(all);
  });
});

describe("SignBatcher and a signer without /v1/sign-batch", () => {
  const notFound = () => new BatchRequestError("the signer refused: not_found: no route for POST /v1/sign-batch", { status: 404, problem: problemOf("not_found", "no route for POST /v1/sign-batch") });

  it("on 404 sends the batch's calls one by one over /v1/sign, stops batching for 10 minutes, warns once", async () => {
    const r = rig(8, 8);
    const first = ["x", "a", "b", "c"].map((n) => r.sign(n));
    await flush();
    r.transport.sent[0]?.answer();
    await flush();
    const skew = notFound();
    r.transport.sent[1]?.answer([skew, skew, skew]);
    await flush();
    expect(r.shape()).toEqual(["v1/sign x", "v1/sign-batch a,b,c", "v1/sign a", "v1/sign b", "v1/sign c"]);
    for (const s of r.transport.sent.slice(2)) s.answer();
    await Promise.all(first);
    expect(["a", "b", "c"].map((n) => r.results.get(n))).toEqual(["a", "b", "c"].map((n) => ({ ok: true, value: issued(n) })));

    // Within the window every call goes alone at once, whatever is in flight.
    r.advance(SKEW_PAUSE_MS - 1);
    const during = names("d", 3).map((n) => r.sign(n));
    await flush();
    expect(r.shape().slice(5)).toEqual(names("d", 3).map((n) => `v1/sign ${n}`));
    for (const s of r.transport.sent.slice(5)) s.answer();
    await Promise.all(during);

    const warnings = r.logs.filter((l) => l.level === "warn");
    expect(warnings.map((w) => w.msg)).toEqual(["the signer answered POST /v1/sign-batch with 404: it predates batches; sending CSRs one by one over /v1/sign for 10 minutes"]);
    expect(warnings[0]?.["status"]).toBe(404);

    // After it, batching resumes.
    r.advance(1);
    const after = names("e", 3).map((n) => r.sign(n));
    await flush();
    r.transport.sent.at(-1)?.answer();
    await flush();
    expect(r.shape().slice(8)).toEqual(["v1/sign e0", "v1/sign-batch e1,e2"]);
    r.transport.sent.at(-1)?.answer();
    await Promise.all(after);
  });

  it("treats 405 the same, and sends what was waiting alone once batching is off", async () => {
    const r = rig(2, 2); // R = 1
    const all = ["x", "a", "b", "c", "d"].map((n) => r.sign(n));
    await flush();
    r.transport.sent[0]?.answer();
    await flush();
    const notAllowed = new BatchRequestError("the signer refused: method_not_allowed", { status: 405, problem: problemOf("method_not_allowed", "POST is not allowed") });
    r.transport.sent[1]?.answer([notAllowed, notAllowed]);
    await flush();
    // a and b again alone; c and d, which waited for the batch, go alone too without waiting.
    expect(r.shape()).toEqual(["v1/sign x", "v1/sign-batch a,b", "v1/sign a", "v1/sign b", "v1/sign c", "v1/sign d"]);
    for (const s of r.transport.sent.slice(2)) s.answer();
    await Promise.all(all);
    expect(r.logs.filter((l) => l.level === "warn")).toHaveLength(1);
  });

  it("sends a batch refused as a whole with a verdict (413) one by one, so no CSR is Failed for the batch's size", async () => {
    const r = rig(8, 8);
    const all = ["x", "a", "b"].map((n) => r.sign(n));
    await flush();
    r.transport.sent[0]?.answer();
    await flush();
    const tooLarge = new BatchRequestError("the signer refused: payload_too_large", { status: 413, problem: problemOf("payload_too_large", "body over 262144 bytes") });
    r.transport.sent[1]?.answer([tooLarge, tooLarge]);
    await flush();
    expect(r.shape()).toEqual(["v1/sign x", "v1/sign-batch a,b", "v1/sign a", "v1/sign b"]);
    const denied = new SignerCallError("the signer refused: policy_denied: no", { status: 422, problem: problemOf("policy_denied", "no") });
    r.transport.sent[2]?.answer();
    r.transport.sent[3]?.answer([denied]);
    await Promise.all(all);
    // Each CSR has /v1/sign's verdict on it alone.
    expect([r.results.get("a"), r.results.get("b")]).toEqual([{ ok: true, value: issued("a") }, { ok: false, value: denied }]);
    expect(r.logs.filter((l) => l.level === "warn").map((w) => w.msg)).toEqual(["the signer answered POST /v1/sign-batch with 413: a refusal of the batch as a whole; sending CSRs one by one over /v1/sign for 10 minutes"]);
  });
});
