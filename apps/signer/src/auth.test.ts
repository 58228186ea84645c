import { describe, expect, it } from "vitest";
import { call, fx, problemCode, signRequest, token, verdict } from "../test/support/client.ts";

const body = () => signRequest(fx.csrs.workloadP256);

describe("client certificate from cf.tlsClientAuth", () => {
  it("refuses a request without cf information", async () => {
    const res = await call("/v1/sign", { body: body() });
    expect(res.status).toBe(401);
    expect(await problemCode(res)).toBe("unauthenticated");
  });

  it.each([
    ["no certificate presented", { certPresented: "0", certVerified: "NONE" }],
    ["certVerified NONE", { certVerified: "NONE" }],
    ["certVerified FAILED", { certVerified: "FAILED:certificate has expired" }],
    ["revoked (still says SUCCESS)", { certRevoked: "1" }],
    ["certPresented as a truthy non-\"1\" string", { certPresented: "true" }],
    ["empty fingerprint", { certFingerprintSHA256: "" }],
  ])("refuses %s with 401", async (_, overrides) => {
    const res = await call("/v1/sign", { body: body(), cf: verdict(fx.fingerprints.plain, overrides) });
    expect(res.status).toBe(401);
    expect(await problemCode(res)).toBe("unauthenticated");
  });

  it("refuses a verified certificate with an unknown fingerprint", async () => {
    const res = await call("/v1/sign", { body: body(), cf: verdict("ab".repeat(32)) });
    expect(res.status).toBe(401);
    expect(await res.text()).toContain("not one this signer knows");
  });

  it("refuses a tlsClientAuth whose fields are not strings (fails closed)", async () => {
    const res = await call("/v1/sign", { body: body(), cf: { ...verdict(fx.fingerprints.plain), certPresented: 1 } as unknown as Record<string, string> });
    expect(res.status).toBe(401);
  });

  it("accepts the fingerprint in upper case with colons", async () => {
    const colons = (fx.fingerprints.plain.toUpperCase().match(/../g) ?? []).join(":");
    const res = await call("/v1/sign", { body: body(), cf: verdict(colons) });
    expect(res.status).toBe(200);
  });

  it("accepts an unknown fingerprint when the issuer SKI identifies the cluster", async () => {
    const ski = (fx.clientCaSki.toUpperCase().match(/../g) ?? []).join(":");
    const res = await call("/v1/sign", { body: body(), cf: verdict("cd".repeat(32), { certIssuerSKI: ski }) });
    expect(res.status).toBe(200);
  });

  it("protects /v1/bundle the same way", async () => {
    expect((await call("/v1/bundle")).status).toBe(401);
    const ok = await call("/v1/bundle", { cf: verdict(fx.fingerprints.plain) });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ roots: [fx.roots.a], pem: fx.roots.a });
  });
});

describe("ServiceAccount token (cluster dev requires one)", () => {
  const asDev = async (authorization?: string) =>
    call("/v1/sign", { body: body(), cf: verdict(fx.fingerprints.dev), headers: authorization === undefined ? {} : { authorization } });

  it("issues with a valid token", async () => {
    const res = await asDev(`Bearer ${await token()}`);
    expect(res.status).toBe(200);
  });

  it("refuses a missing token", async () => {
    const res = await asDev();
    expect(res.status).toBe(401);
    expect(res.headers.get("www-authenticate")).toContain("Bearer");
    expect(await res.text()).toContain("bearer token is required");
  });

  it.each(["bearer", "BEARER", "bEaReR"])("accepts the scheme spelt %s (RFC 9110 §11.1: case-insensitive)", async (scheme) => {
    expect((await asDev(`${scheme} ${await token()}`)).status).toBe(200);
  });

  it("accepts more than one space between scheme and token (RFC 9110 §11.4: 1*SP)", async () => {
    expect((await asDev(`Bearer   ${await token()}`)).status).toBe(200);
  });

  it.each([
    ["another scheme", () => "Basic Zm9vOmJhcg==", 'authorization scheme \\"Basic\\" is not Bearer'],
    ["a scheme that only starts like Bearer", async () => `Bearerx ${await token()}`, 'authorization scheme \\"Bearerx\\" is not Bearer'],
    ["the scheme alone", () => "Bearer", "names the Bearer scheme but carries no token"],
    ["the scheme and spaces", () => "Bearer   ", "names the Bearer scheme but carries no token"],
    ["a token with characters no JWT has", async () => `Bearer ${await token()} extra`, "the bearer token is not a JWT"],
    ["a tab instead of a space", async () => `Bearer\t${await token()}`, "must be separated by spaces"],
    ["a scheme that is not a word", async () => `${await token()} x`, "the authorization scheme is not Bearer"],
    ["a token that is not three JWS segments", () => "Bearer abc.def", "token invalid (ERR_JWS_INVALID): Invalid Compact JWS"],
  ])("refuses %s with 401 naming what was wrong", async (_, header, message) => {
    const res = await asDev(await header());
    expect(res.status).toBe(401);
    expect(await problemCode(res.clone())).toBe("unauthenticated");
    expect(await res.text()).toContain(message);
  });

  it.each([
    ["issuer", { iss: "https://other.example" }, "iss"],
    ["audience", { aud: "someone-else" }, "aud"],
    ["subject", { sub: "system:serviceaccount:default:attacker" }, "sub"],
  ])("refuses a wrong %s", async (_, claims, claim) => {
    const res = await asDev(`Bearer ${await token(claims)}`);
    expect(res.status).toBe(401);
    expect(await res.text()).toContain(`claim \\"${claim}\\"`);
  });

  it("refuses an expired token", async () => {
    const past = Math.floor(Date.now() / 1000) - 3600;
    const res = await asDev(`Bearer ${await token({ iat: past - 600, exp: past })}`);
    expect(res.status).toBe(401);
    expect(await res.text()).toContain("token expired");
  });

  it("refuses a token signed by a key outside the cluster's JWKS", async () => {
    const res = await asDev(`Bearer ${await token({}, "stranger")}`);
    expect(res.status).toBe(401);
    expect(await res.text()).toContain("signature does not verify");
  });

  it("refuses a token without exp", async () => {
    const res = await asDev(`Bearer ${await token({ exp: undefined })}`);
    expect(res.status).toBe(401);
  });
});

describe("authorization of signer names", () => {
  it("refuses a signer name the cluster may not use with 403", async () => {
    const res = await call("/v1/sign", { body: body(), cf: verdict(fx.fingerprints.other) });
    expect(res.status).toBe(403);
    expect(await problemCode(res)).toBe("forbidden");
  });

  it("refuses a signer name the signer does not serve with 403", async () => {
    const res = await call("/v1/sign", { body: signRequest(fx.csrs.workloadP256, { signerName: "example.com/unknown" }), cf: verdict(fx.fingerprints.plain) });
    expect(res.status).toBe(403);
  });
});
