import { describe, expect, it } from "vitest";
import { decodePemBlocks, MAX_BATCH_BODY_BYTES, MAX_BATCH_ITEMS, MAX_BODY_BYTES, OID, parseCertificateDer, Problem, SignResponse, type SignBatchItem } from "@edgeca/shared";
import type { SignerEnv } from "./env.ts";
import { answersOf, batchAsPlain, clusterEnv } from "../test/support/batch.ts";
import { call, fx, problemCode, signAsPlain, signRequest, verdict } from "../test/support/client.ts";

/** What `/v1/sign` answers for `request` alone, in the shape of a batch item. */
async function alone(request: unknown, e: SignerEnv): Promise<SignBatchItem> {
  const res = await signAsPlain(request, e);
  if (res.status === 200) return { issued: SignResponse.parse(await res.json()) };
  const refused = Problem.parse(await res.json());
  expect(refused.status).toBe(res.status);
  const retryAfter = res.headers.get("retry-after");
  return retryAfter === null ? { refused } : { refused, retryAfterSeconds: Number(retryAfter) };
}

/** What identifies an issued leaf apart from its serial and time: the SAN extension, the key, the lifetime. */
function leafFacts(answer: SignResponse): { san: string; spki: string; seconds: number } {
  const der = decodePemBlocks(answer.certificateChain)[0];
  if (der === undefined) throw new Error("no certificate in the chain");
  const leaf = parseCertificateDer(der);
  const hex = (b: Uint8Array | undefined) => {
    if (b === undefined || b.length === 0) throw new Error("an empty extension or key");
    return [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
  };
  return { san: hex(leaf.extensions.get(OID.subjectAltName)?.value), spki: hex(leaf.spki), seconds: (leaf.notAfter.getTime() - leaf.notBefore.getTime()) / 1000 };
}

const web = (name: string) => signRequest(fx.csrs.workloadP256, { object: { name } });

/** Issued, policy denied, wrong signer name, malformed, throttled (identity budget of 2), bad proof, another identity. */
const mixed = (): unknown[] => [
  web("csr-0"),
  signRequest(fx.csrs.workloadWrongTrustDomain, { object: { name: "csr-1" } }),
  signRequest(fx.csrs.workloadP256, { signerName: "example.com/not-ours" }),
  { signerName: fx.signerName, usages: ["digital signature"] },
  web("csr-4"),
  web("csr-5"),
  signRequest(fx.csrs.badSignature),
  signRequest(fx.csrs.workloadOther, { object: { name: "csr-7" } }),
  signRequest(fx.csrs.workloadP256, { requestor: { username: "system:serviceaccount:default:attacker" } }),
];
const MIXED_STATUS = [200, 422, 403, 400, 200, 429, 400, 200, 422];

describe("POST /v1/sign-batch: each item as /v1/sign answers it alone", () => {
  it("answers a mixed batch item by item, in order, as /v1/sign answers the same requests one by one", async () => {
    const budgets = { perIdentity: { limit: 2, windowSeconds: 60 } };
    const batch = await answersOf(await batchAsPlain(mixed(), clusterEnv("batch-mixed", budgets)), MIXED_STATUS.length);
    const one = clusterEnv("batch-mixed-alone", budgets);
    const single: SignBatchItem[] = [];
    for (const request of mixed()) single.push(await alone(request, one));
    expect(batch.map((a) => ("issued" in a ? 200 : a.refused.status))).toEqual(MIXED_STATUS);
    expect(single.map((a) => ("issued" in a ? 200 : a.refused.status))).toEqual(MIXED_STATUS);
    for (const [i, b] of batch.entries()) {
      const s = single[i];
      if (s === undefined) throw new Error(`no single answer ${i}`);
      if ("issued" in b && "issued" in s) {
        expect(leafFacts(b.issued), `item ${i}`).toEqual(leafFacts(s.issued));
        continue;
      }
      if ("issued" in b || "issued" in s) throw new Error(`item ${i}: one issued, the other refused`);
      // Only a malformed item's detail differs: it names the item instead of the body (and the cluster is another).
      const named = s.refused.detail.replace('cluster "batch-mixed-alone"', 'cluster "batch-mixed"');
      const detail = i === 3 ? named.replace(/^body does not match/, "requests.3 does not match") : named;
      expect(b, `item ${i}`).toEqual({ ...s, refused: { ...s.refused, detail } });
    }
  });

  it("names the malformed item's index and fields, and the throttled item's budget with retryAfterSeconds", async () => {
    const answers = await answersOf(await batchAsPlain(mixed(), clusterEnv("batch-mixed-details", { perIdentity: { limit: 2, windowSeconds: 60 } })), MIXED_STATUS.length);
    const malformed = answers[3];
    expect(malformed).toMatchObject({ refused: { code: "invalid_request" } });
    expect(malformed && "refused" in malformed ? malformed.refused.detail : "").toMatch(/^requests\.3 does not match the sign request schema: .*csr: .*requestor: /);
    const throttled = answers[5];
    expect(throttled).toMatchObject({ refused: { code: "rate_limited", status: 429 } });
    expect(throttled && "refused" in throttled ? throttled.refused.detail : "").toContain('identity "spiffe://cluster.local/ns/default/sa/web" of cluster "batch-mixed-details" may have 2 certificates per 60 s');
    const retry = throttled && "refused" in throttled ? throttled.retryAfterSeconds : undefined;
    expect(retry).toBeGreaterThanOrEqual(1);
    expect(retry).toBeLessThanOrEqual(60);
  });

  it("keeps the order of the requests in its answers", async () => {
    const cp = signRequest(fx.csrs.controlPlane, { usages: ["digital signature", "key encipherment", "server auth"] });
    const requests = [signRequest(fx.csrs.workloadOther), web("w1"), cp, signRequest(fx.csrs.workloadOther), web("w2")];
    const answers = await answersOf(await batchAsPlain(requests, clusterEnv("batch-order")), requests.length);
    const wanted = await Promise.all(requests.map(async (r) => alone(r, clusterEnv("batch-order-alone"))));
    expect(answers.map((a) => ("issued" in a ? leafFacts(a.issued).san : "refused"))).toEqual(wanted.map((a) => ("issued" in a ? leafFacts(a.issued).san : "refused")));
    expect(answers.every((a) => "issued" in a)).toBe(true);
    expect(new Set(answers.map((a) => ("issued" in a ? leafFacts(a.issued).san : ""))).size).toBe(3);
  });

  it("refuses an item over 64 KiB written alone with 413, as /v1/sign does the same body, and serves the others", async () => {
    const groups = Array.from({ length: 80 }, (_, i) => `group-${i}-${"g".repeat(1000)}`);
    const big = signRequest(fx.csrs.workloadP256, { requestor: { username: "system:serviceaccount:istio-system:istiod", groups } });
    expect(JSON.stringify(big).length).toBeGreaterThan(MAX_BODY_BYTES);
    const answers = await answersOf(await batchAsPlain([web("before"), big, web("after")], clusterEnv("batch-big-item")), 3);
    expect(answers.map((a) => ("issued" in a ? "issued" : a.refused.code))).toEqual(["issued", "payload_too_large", "issued"]);
    const refused = answers[1];
    expect(refused && "refused" in refused ? refused.refused.detail : "").toMatch(/^requests\.1 is \d+ bytes as JSON, over the limit of 65536 of one sign request$/);
    expect((await signAsPlain(big, clusterEnv("batch-big-item-alone"))).status).toBe(413);
  });
});

describe("POST /v1/sign-batch: the batch refused as a whole", () => {
  const plain = verdict(fx.fingerprints.plain);
  const json = { "content-type": "application/json" };

  it("refuses an unknown client certificate with 401 before reading the body", async () => {
    const res = await call("/v1/sign-batch", { body: { requests: [web("x")] }, cf: verdict("00".repeat(32)) });
    expect(res.status).toBe(401);
    expect(await problemCode(res)).toBe("unauthenticated");
    expect(res.headers.get("www-authenticate")).toBe('Bearer realm="edgeca"');
  });

  it("refuses a non-JSON media type with 415", async () => {
    const res = await call("/v1/sign-batch", { body: "requests=1", headers: { "content-type": "text/plain" }, cf: plain });
    expect(res.status).toBe(415);
    expect(await problemCode(res)).toBe("unsupported_media_type");
  });

  it("refuses a body over MAX_BATCH_BODY_BYTES with 413 and accepts one over 64 KiB below it", async () => {
    const over = JSON.stringify({ requests: [web("x")], pad: "x".repeat(MAX_BATCH_BODY_BYTES) });
    const res = await call("/v1/sign-batch", { body: over, headers: json, cf: plain });
    expect(res.status).toBe(413);
    expect((await res.json<{ detail: string }>()).detail).toContain(`over the limit of ${MAX_BATCH_BODY_BYTES}`);
    const under = JSON.stringify({ requests: [web("x")], pad: "x".repeat(2 * MAX_BODY_BYTES) });
    await answersOf(await call("/v1/sign-batch", { body: under, headers: json, cf: plain }), 1);
  });

  it.each([
    ["no items", { requests: [] }, /requests: .*>=1/],
    [`${MAX_BATCH_ITEMS + 1} items`, { requests: Array.from({ length: MAX_BATCH_ITEMS + 1 }, () => web("x")) }, /requests: .*<=32/],
    ["no requests field", { request: [web("x")] }, /requests: /],
    ["requests not an array", { requests: web("x") }, /requests: /],
  ])("refuses %s with 400 naming the fault", async (_, body, detail) => {
    const res = await call("/v1/sign-batch", { body, cf: plain });
    expect(res.status).toBe(400);
    const problem = Problem.parse(await res.json());
    expect(problem.code).toBe("invalid_request");
    expect(problem.detail).toMatch(/^body does not match the sign batch request schema: /);
    expect(problem.detail).toMatch(detail);
  });

  it("refuses a body that is not JSON with 400 saying where parsing stopped", async () => {
    const res = await call("/v1/sign-batch", { body: '{"requests": [', headers: json, cf: plain });
    expect(res.status).toBe(400);
    expect((await res.json<{ detail: string }>()).detail).toMatch(/^body is not valid JSON: /);
  });

  it("answers 503 when the signer is not configured, and 405 to other methods", async () => {
    const res = await call("/v1/sign-batch", { body: { requests: [web("x")] }, cf: plain, env: { EDGECA_CONFIG: "" } });
    expect(res.status).toBe(503);
    expect((await res.json<{ detail: string }>()).detail).toContain("EDGECA_CONFIG is not set");
    for (const method of ["GET", "PUT", "DELETE"]) {
      const wrong = await call("/v1/sign-batch", { method, cf: plain });
      expect(wrong.status).toBe(405);
      expect((await wrong.json<{ detail: string }>()).detail).toBe(`${method} is not allowed on /v1/sign-batch`);
    }
  });
});
