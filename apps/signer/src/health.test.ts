import { describe, expect, it } from "vitest";
import { call, envFor, fx } from "../test/support/client.ts";

describe("health and readiness", () => {
  it("answers /healthz without a client certificate and reveals nothing", async () => {
    const res = await call("/healthz");
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: "ok" });
  });

  it("is ready with a valid configuration and keys", async () => {
    const res = await call("/readyz");
    expect(res.status).toBe(200);
  });

  it("is not ready without EDGECA_CONFIG, and says so", async () => {
    const res = await call("/readyz", { env: { EDGECA_CONFIG: "" } });
    expect(res.status).toBe(503);
    expect(res.headers.get("content-type")).toBe("application/problem+json");
    expect(await res.json()).toMatchObject({ code: "unavailable", detail: expect.stringContaining("EDGECA_CONFIG is not set") as unknown });
  });

  it("is not ready with invalid JSON configuration", async () => {
    const res = await call("/readyz", { env: { EDGECA_CONFIG: "{nope" } });
    expect(res.status).toBe(503);
    expect(await res.text()).toContain("not valid JSON");
  });

  it("is not ready when a field is wrong, naming the field", async () => {
    const res = await call("/readyz", { env: { ...envFor("a"), EDGECA_CONFIG: JSON.stringify({ ...fx.configs.a, activeIssuer: "nope" }) } });
    expect(res.status).toBe(503);
    expect(await res.text()).toContain("activeIssuer");
  });

  it("is not ready when the CA key secret is missing", async () => {
    const res = await call("/readyz", { env: { EDGECA_CONFIG: JSON.stringify(fx.configs.a) } });
    expect(res.status).toBe(503);
    expect(await res.text()).toContain("secret EDGECA_CA_KEY_CA1 is not set");
  });

  it("is not ready when the key does not belong to the CA certificate", async () => {
    const res = await call("/readyz", { env: { ...envFor("a"), EDGECA_CA_KEY_CA1: fx.secrets.EDGECA_CA_KEY_CA2 } });
    expect(res.status).toBe(503);
    expect(await res.text()).toContain("does not match the CA certificate");
  });

  it("is not ready when the chain does not lead to a configured root", async () => {
    const res = await call("/readyz", { env: { ...envFor("a"), EDGECA_CONFIG: JSON.stringify({ ...fx.configs.a, roots: [fx.roots.b] }) } });
    expect(res.status).toBe(503);
    expect(await res.text()).toContain("does not lead to any configured root");
  });

  it("is not ready when a cluster's JWKS holds an unusable key", async () => {
    const broken = structuredClone(fx.configs.a);
    const dev = broken.clusters[0];
    if (dev?.token === undefined) throw new Error("fixture: cluster dev has no token");
    dev.token.jwks = { keys: [{ kty: "RSA", alg: "RS256", n: "AQAB" }] };
    const res = await call("/readyz", { env: { ...envFor("a"), EDGECA_CONFIG: JSON.stringify(broken) } });
    expect(res.status).toBe(503);
    expect(await res.text()).toContain(`cluster \\"dev\\" token: jwks.keys.0`);
  });

  it("refuses to sign with an invalid configuration: 503, never half configured", async () => {
    const res = await call("/v1/sign", { env: { EDGECA_CONFIG: "{}" }, body: {} });
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ code: "unavailable" });
  });

  it("answers unknown paths and wrong methods with problem documents", async () => {
    const missing = await call("/nope");
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ code: "not_found" });
    const wrong = await call("/v1/sign");
    expect(wrong.status).toBe(405);
    expect(await wrong.json()).toMatchObject({ code: "method_not_allowed" });
  });
});
