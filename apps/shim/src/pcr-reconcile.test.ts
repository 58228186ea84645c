import { generateKeyPairSync } from "node:crypto";
import type { V1beta1PodCertificateRequest } from "@kubernetes/client-node";
import type { PodSignRequest, PodSignResponse } from "@edgeca/shared";
import { beforeAll, beforeEach, describe, expect, it } from "vitest";
import { podSignRequestOf } from "./pcr-reconcile.ts";
import { MAX_VERIFICATION_FAILURES } from "./reconcile.ts";
import { SignerCallError } from "./signer-call-error.ts";
import { metricValue } from "../test/support/metric-value.ts";
import { createPodIssuer, pcrRig, POD_SIGNER, type PcrRig, type PodIssuer } from "../test/support/pod-signer-rig.ts";

const SPIFFE = "spiffe://cluster.local/ns/shop/sa/web";
const spki = generateKeyPairSync("ec", { namedCurve: "prime256v1" }).publicKey.export({ type: "spki", format: "der" }).toString("base64");
let issuer: PodIssuer;
let r: PcrRig;

function pcr(name: string, overrides: Partial<V1beta1PodCertificateRequest["spec"]> = {}, status?: V1beta1PodCertificateRequest["status"]): V1beta1PodCertificateRequest {
  return {
    metadata: { name, namespace: "shop", uid: `uid-${name}`, generation: 1 },
    spec: {
      signerName: POD_SIGNER,
      podName: "web-0",
      podUID: "pod-uid-1",
      serviceAccountName: "web",
      serviceAccountUID: "sa-uid-1",
      nodeName: "node-a",
      nodeUID: "node-uid-1",
      maxExpirationSeconds: 86_400,
      pkixPublicKey: spki,
      proofOfPossession: "c2lnbmF0dXJl",
      stubPKCS10Request: "",
      ...overrides,
    },
    ...(status === undefined ? {} : { status }),
  };
}

/** An answer as the signer gives it: `lifetimeS` from now − 60 s, refresh half-way, SAN `san`. */
async function answer(request: PodSignRequest, o: { san?: string; lifetimeS?: number } = {}): Promise<PodSignResponse> {
  const notBefore = new Date(Math.floor(r.now / 1000) * 1000 - 60_000);
  const notAfter = new Date(notBefore.getTime() + (o.lifetimeS ?? 86_400) * 1000);
  const chain = await issuer.issue(request.pkixPublicKey, { san: o.san ?? SPIFFE, notBefore, notAfter });
  const refresh = new Date((notBefore.getTime() + notAfter.getTime()) / 2);
  return { certificateChain: chain, serialNumber: "01", notBefore: notBefore.toISOString(), notAfter: notAfter.toISOString(), beginRefreshAt: refresh.toISOString() };
}

const denied = (status: number, code: "policy_denied" | "invalid_request" | "unavailable", detail: string, reason?: string): SignerCallError =>
  new SignerCallError(`the signer refused: ${code}`, { status, problem: { type: "about:blank", title: code, status, code, detail, ...(reason === undefined ? {} : { reason }) } });
const conditions = (key: string): (string | undefined)[][] => (r.api.objects.get(key)?.status?.conditions ?? []).map((c) => [c.type, c.reason, c.message]);

beforeAll(async () => {
  issuer = await createPodIssuer();
});

beforeEach(() => {
  r = pcrRig(issuer.rootPem);
  r.signer.answer = (request) => answer(request);
});

describe("PcrReconciler", () => {
  it("sends the spec with the node as requestor and writes Issued with chain, notBefore, beginRefreshAt, notAfter", async () => {
    const key = r.add(pcr("a"));
    await expect(r.reconciler.reconcile(key)).resolves.toEqual({ kind: "done", outcome: "issued" });
    expect(r.signer.requests[0]).toMatchObject({ namespace: "shop", serviceAccountName: "web", podUID: "pod-uid-1", nodeName: "node-a", requestor: { username: "system:node:node-a" }, maxExpirationSeconds: 86_400 });
    const status = r.api.objects.get(key)?.status;
    expect(conditions(key)).toEqual([["Issued", "Issued", "issued by edgeca"]]);
    expect(status?.certificateChain).toContain("BEGIN CERTIFICATE");
    expect([status?.notBefore, status?.beginRefreshAt, status?.notAfter].every((d) => d instanceof Date)).toBe(true);
    expect(await metricValue(r.metrics.registry, "edgeca_shim_certificates_issued_total", { signer: POD_SIGNER })).toBe(1);
  });

  it("sends annotation keys, never values, so the signer can deny them", () => {
    expect(podSignRequestOf(pcr("a", { unverifiedUserAnnotations: { "example.com/x": "secret" } })).unverifiedUserAnnotationKeys).toEqual(["example.com/x"]);
  });

  it("denies with the signer's reason (UnsupportedKeyType), or PolicyDenied when it names none, and sets nothing else", async () => {
    const a = r.add(pcr("a"));
    r.signer.answer = () => Promise.reject(denied(422, "policy_denied", "key type ECDSA P-521 is not supported", "UnsupportedKeyType"));
    await expect(r.reconciler.reconcile(a)).resolves.toEqual({ kind: "done", outcome: "failed" });
    expect(conditions(a)).toEqual([["Denied", "UnsupportedKeyType", "key type ECDSA P-521 is not supported"]]);
    expect(Object.keys(r.api.objects.get(a)?.status ?? {})).toEqual(["conditions"]);
    const b = r.add(pcr("b"));
    r.signer.answer = () => Promise.reject(denied(422, "policy_denied", "pod certificates are not enabled"));
    await r.reconciler.reconcile(b);
    expect(conditions(b)).toEqual([["Denied", "PolicyDenied", "pod certificates are not enabled"]]);
    // A Warning Event on each, in the request's namespace, as the CSR path records one.
    expect(r.events).toEqual([
      { pcr: "shop/a", reason: "UnsupportedKeyType", note: "key type ECDSA P-521 is not supported" },
      { pcr: "shop/b", reason: "PolicyDenied", note: "pod certificates are not enabled" },
    ]);
    expect(await metricValue(r.metrics.registry, "edgeca_shim_csrs_failed_total", { signer: POD_SIGNER, reason: "PolicyDenied" })).toBe(1);
  });

  it("fails a request the signer cannot issue (400 InvalidRequest), retries a 503 without writing", async () => {
    const a = r.add(pcr("a"));
    r.signer.answer = () => Promise.reject(denied(503, "unavailable", "issuing CA expired"));
    await expect(r.reconciler.reconcile(a)).resolves.toMatchObject({ kind: "retry", reason: "Unavailable" });
    expect(r.api.calls).toEqual([]);
    expect(r.events).toEqual([]);
    r.signer.answer = () => Promise.reject(denied(400, "invalid_request", "proofOfPossession does not verify"));
    await r.reconciler.reconcile(a);
    expect(conditions(a)).toEqual([["Failed", "InvalidRequest", "proofOfPossession does not verify"]]);
    expect(r.events).toEqual([{ pcr: "shop/a", reason: "InvalidRequest", note: "proofOfPossession does not verify" }]);
  });

  it("a spent issuance budget (429 rate_limited): retried after Retry-After, counted per identity as for CSRs", async () => {
    const a = r.add(pcr("a"));
    const problem = { type: "about:blank", title: "rate_limited", status: 429, code: "rate_limited" as const, detail: "issuance budget spent: 3 certificates per 60 s (identity budget)" };
    r.signer.answer = () => Promise.reject(new SignerCallError("the signer refused: rate_limited", { status: 429, problem, retryAfterMs: 7_000 }));
    await expect(r.reconciler.reconcile(a)).resolves.toEqual({ kind: "retry", reason: "RateLimited", afterMs: 7_000 });
    expect(r.api.calls).toEqual([]);
    expect(await metricValue(r.metrics.registry, "edgeca_shim_throttled_total", { signer: POD_SIGNER, identity: "ns/shop/sa/web" })).toBe(1);
    expect(await metricValue(r.metrics.registry, "edgeca_shim_retries_total", { signer: POD_SIGNER, reason: "RateLimited" })).toBe(1);
    expect(r.logs.filter((l) => l.level === "warn").map((l) => [l.identity, l.retryAfterSeconds])).toEqual([["ns/shop/sa/web", 7]]);
    expect(r.events).toEqual([]);
  });

  it("never writes an answer for another identity or beyond maxExpirationSeconds; Failed InvalidSignerAnswer after repeated bad answers", async () => {
    const a = r.add(pcr("a"));
    r.signer.answer = (request) => answer(request, { san: "spiffe://cluster.local/ns/shop/sa/admin" });
    await expect(r.reconciler.reconcile(a)).resolves.toEqual({ kind: "retry", reason: "VerificationFailed" });
    r.signer.answer = (request) => answer(request, { lifetimeS: 86_401 });
    await expect(r.reconciler.reconcile(a)).resolves.toEqual({ kind: "retry", reason: "VerificationFailed" });
    expect(r.api.calls).toEqual([]);
    expect(r.logs.some((l) => typeof l.error === "string" && l.error.includes("maxExpirationSeconds 86400"))).toBe(true);
    for (let i = 2; i < MAX_VERIFICATION_FAILURES; i++) await r.reconciler.reconcile(a);
    expect(conditions(a)[0]?.slice(0, 2)).toEqual(["Failed", "InvalidSignerAnswer"]);
    expect(r.events).toMatchObject([{ pcr: "shop/a", reason: "InvalidSignerAnswer" }]);
  });

  it("a 200 that is no valid answer: retried as InvalidSignerAnswer, then Failed InvalidSignerAnswer", async () => {
    const a = r.add(pcr("a"));
    r.signer.answer = () => Promise.reject(new SignerCallError("the signer's /v1/sign-pod answer does not match the schema: notAfter", { status: 200, invalidAnswer: true }));
    for (let i = 1; i < MAX_VERIFICATION_FAILURES; i++) await expect(r.reconciler.reconcile(a)).resolves.toEqual({ kind: "retry", reason: "InvalidSignerAnswer" });
    expect(r.api.calls).toEqual([]);
    await r.reconciler.reconcile(a);
    expect(conditions(a)[0]).toEqual(["Failed", "InvalidSignerAnswer", expect.stringMatching(/^the signer's answer was refused 5 times: .*does not match the schema/)]);
  });

  it("skips a finished request and another signer's without calling the signer", async () => {
    const done = r.add(pcr("done", {}, { conditions: [{ type: "Denied", status: "True", reason: "X", message: "", lastTransitionTime: new Date() }] }));
    const other = r.add(pcr("other", { signerName: "example.com/other" }));
    await expect(r.reconciler.reconcile(done)).resolves.toEqual({ kind: "done", outcome: "skipped" });
    await expect(r.reconciler.reconcile(other)).resolves.toEqual({ kind: "done", outcome: "skipped" });
    await expect(r.reconciler.reconcile("shop/missing")).resolves.toEqual({ kind: "done", outcome: "gone" });
    expect(r.signer.requests).toEqual([]);
  });
});
