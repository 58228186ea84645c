import { describe, expect, it } from "vitest";
import { parseRetryAfter } from "./signer-client.ts";
import { SignerCallError, titleCase } from "./signer-call-error.ts";

const problem = (code: "policy_denied" | "invalid_request" | "rate_limited" | "unavailable" | "unauthenticated", status: number) => ({
  type: "about:blank",
  title: code,
  status,
  code,
  detail: `detail of ${code}`,
});

describe("SignerCallError classification (docs/signer-api.md, table 'Problems')", () => {
  it("treats 400/413/415/422 problems as terminal, with a TitleCase reason", () => {
    const denied = new SignerCallError("x", { status: 422, problem: problem("policy_denied", 422) });
    expect(denied.terminal).toBe(true);
    expect(denied.reason).toBe("PolicyDenied");
    expect(new SignerCallError("x", { status: 400, problem: problem("invalid_request", 400) }).reason).toBe("InvalidRequest");
  });

  it("treats 429, 5xx, 401/403 and network faults as transient", () => {
    expect(new SignerCallError("x", { status: 429, problem: problem("rate_limited", 429), retryAfterMs: 2000 }).terminal).toBe(false);
    expect(new SignerCallError("x", { status: 503, problem: problem("unavailable", 503) }).terminal).toBe(false);
    const unauthenticated = new SignerCallError("x", { status: 401, problem: problem("unauthenticated", 401) });
    expect(unauthenticated.terminal).toBe(false);
    expect(unauthenticated.misconfiguration).toBe(true);
    const network = new SignerCallError("cannot reach");
    expect(network.terminal).toBe(false);
    expect(network.reason).toBe("SignerUnreachable");
  });

  it("does not take a bare 400 without a problem document (a proxy's page) as the signer's verdict", () => {
    const bare = new SignerCallError("x", { status: 400 });
    expect(bare.terminal).toBe(false);
    expect(bare.reason).toBe("SignerHttp400");
  });

  it("names a 200 that is no valid answer InvalidSignerAnswer (the signer's fault, retried), not after its status", () => {
    const invalid = new SignerCallError("the signer's /v1/sign answer does not match the schema", { status: 200, invalidAnswer: true });
    expect([invalid.reason, invalid.terminal, invalid.misconfiguration]).toEqual(["InvalidSignerAnswer", false, false]);
    expect(new SignerCallError("x", { status: 502 }).invalidAnswer).toBe(false);
  });
});

describe("parseRetryAfter", () => {
  it("reads delay-seconds and HTTP-dates", () => {
    expect(parseRetryAfter("3")).toBe(3000);
    expect(parseRetryAfter("Thu, 01 Jan 2026 00:00:10 GMT", Date.parse("2026-01-01T00:00:00Z"))).toBe(10_000);
    expect(parseRetryAfter("soon")).toBeUndefined();
    expect(parseRetryAfter(undefined)).toBeUndefined();
  });

  it("titleCases codes", () => {
    expect(titleCase("payload_too_large")).toBe("PayloadTooLarge");
  });
});
