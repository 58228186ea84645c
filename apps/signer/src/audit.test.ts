import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { SignResponse } from "@edgeca/shared";
import type { SignerEnv } from "./env.ts";
import { auditRecordsOfEachTest } from "../test/support/audit-log.ts";
import { call, fx, signAsPlain, signRequest, verdict } from "../test/support/client.ts";

function auditEnv(cluster: string, budgets: object = {}): SignerEnv {
  const config = { ...fx.configs.a, clusters: fx.configs.a.clusters.map((c) => (c.name === "plain" ? { ...c, name: cluster, budgets } : c)) };
  return { EDGECA_CONFIG: JSON.stringify(config), ...fx.secrets, EDGECA_BUDGETS: env.EDGECA_BUDGETS };
}

/** The body of a CSR PEM (base64 lines), to prove no record carries it. */
function pemBody(pem: string): string {
  return pem.split("\n").filter((l) => !l.startsWith("-----") && l !== "").join("");
}

describe("audit records", () => {
  const records = auditRecordsOfEachTest([pemBody(fx.csrs.workloadP256).slice(0, 40)]);

  it("writes one record for an issuance with names, key type, serial, validity, issuer and the CSR object", async () => {
    const res = await signAsPlain(signRequest(fx.csrs.workloadP256, { object: { name: "csr-web-1", uid: "uid-1" } }), auditEnv("audit-issued"));
    const answer = SignResponse.parse(await res.json());
    const [record, ...more] = records();
    expect(more).toEqual([]);
    expect(record).toMatchObject({
      kind: "edgeca.audit",
      decision: "issued",
      cluster: "audit-issued",
      signerName: fx.signerName,
      requestor: "system:serviceaccount:istio-system:istiod",
      csr: { name: "csr-web-1", uid: "uid-1" },
      profile: "workload",
      spiffeId: "spiffe://cluster.local/ns/default/sa/web",
      keyType: "ECDSA P-256",
      serialNumber: answer.serialNumber,
      notBefore: answer.notBefore,
      notAfter: answer.notAfter,
      issuer: "ca1",
    });
    expect(record?.code).toBeUndefined();
    expect(Math.abs(Date.parse(record?.time ?? "") - Date.now())).toBeLessThan(10_000);
  });

  it("writes one record for a policy refusal, naming what the CSR asked for and the reason", async () => {
    await signAsPlain(signRequest(fx.csrs.workloadWrongTrustDomain), auditEnv("audit-refused"));
    const [record, ...more] = records();
    expect(more).toEqual([]);
    expect(record).toMatchObject({ decision: "refused", cluster: "audit-refused", code: "policy_denied", status: 422, spiffeId: "spiffe://evil.example/ns/default/sa/web", keyType: "ECDSA P-256" });
    expect(record?.reason).toContain('trust domain "evil.example"');
    expect(record?.serialNumber).toBeUndefined();
    expect(record?.issuer).toBeUndefined();
  });

  it("writes one record for a throttled request, with the budget and Retry-After", async () => {
    const e = auditEnv("audit-throttled", { perIdentity: { limit: 1, windowSeconds: 60 } });
    await signAsPlain(signRequest(fx.csrs.workloadP256), e);
    records();
    const res = await signAsPlain(signRequest(fx.csrs.workloadP256), e);
    const [record, ...more] = records();
    expect(more).toEqual([]);
    expect(record).toMatchObject({ decision: "throttled", code: "rate_limited", status: 429, spiffeId: "spiffe://cluster.local/ns/default/sa/web" });
    expect(record?.budget).toEqual({ scope: "identity", limit: 1, windowSeconds: 60, retryAfterSeconds: Number(res.headers.get("retry-after")) });
  });

  it("writes one record for refusals before the body is read (401) and for a malformed body (400)", async () => {
    await call("/v1/sign", { body: signRequest(fx.csrs.workloadP256), cf: verdict("00".repeat(32)) });
    const [unauthenticated, ...more] = records();
    expect(more).toEqual([]);
    expect(unauthenticated).toMatchObject({ decision: "refused", code: "unauthenticated", status: 401 });
    expect(unauthenticated?.cluster).toBeUndefined();
    await call("/v1/sign", { body: "{not json", headers: { "content-type": "application/json" }, cf: verdict(fx.fingerprints.plain), env: auditEnv("audit-malformed") });
    const [malformed, ...rest] = records();
    expect(rest).toEqual([]);
    expect(malformed).toMatchObject({ decision: "refused", code: "invalid_request", cluster: "audit-malformed" });
  });

  it("marks an issuance whose budget could not be checked (fail-open)", async () => {
    const config = { ...fx.configs.a, clusters: fx.configs.a.clusters.map((c) => (c.name === "plain" ? { ...c, name: "audit-open" } : c)) };
    await signAsPlain(signRequest(fx.csrs.workloadP256), { EDGECA_CONFIG: JSON.stringify(config), ...fx.secrets });
    const [record] = records();
    expect(record).toMatchObject({ decision: "issued", budgetUnchecked: "the EDGECA_BUDGETS Durable Object binding is not configured" });
  });
});
