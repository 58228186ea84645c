import { createLocalJWKSet, jwtVerify } from "jose";
import type { JSONWebKeySet, JWK } from "jose";
import { describe, expect, test } from "vitest";
import { useControlPlane } from "../vitest/index.ts";
import type { Jwks } from "./control-plane-client.ts";
import { uniqueName } from "./test-helpers.ts";

const cp = useControlPlane();

/** Keeps the string members jose needs to verify with an RSA or EC public key. */
function joseKeySet(jwks: Jwks): JSONWebKeySet {
  const keys = jwks.keys.map((key) => {
    const jwk: JWK = {};
    for (const field of ["kty", "kid", "use", "n", "e", "crv", "x", "y"] as const) {
      const value = key[field];
      if (typeof value === "string") jwk[field] = value;
    }
    return jwk;
  });
  return { keys };
}

describe("ServiceAccount tokens from the real apiserver", () => {
  test("a TokenRequest token verifies with jose against the served JWKS, issuer and audience", async () => {
    const ns = uniqueName("token");
    const token = await cp.mintToken({ namespace: ns, serviceAccount: "shim", audiences: ["edgeca-signer"], expirationSeconds: 600 });

    // The JWKS is what the apiserver serves now, not only what startControlPlane saw.
    const served = (await cp.admin.request("GET", "/openid/v1/jwks")) as Jwks;
    expect(served).toEqual(cp.jwks);
    const discovery = (await cp.admin.request("GET", "/.well-known/openid-configuration")) as { issuer: string };
    expect(discovery.issuer).toBe(cp.serviceAccountIssuer);

    const keySet = createLocalJWKSet(joseKeySet(served));
    const { payload, protectedHeader } = await jwtVerify(token, keySet, { issuer: cp.serviceAccountIssuer, audience: "edgeca-signer" });
    expect(payload.sub).toBe(`system:serviceaccount:${ns}:shim`);
    expect(protectedHeader.alg).toBe("RS256");
    expect((payload.exp ?? 0) - (payload.iat ?? 0)).toBe(600);

    await expect(jwtVerify(token, keySet, { issuer: cp.serviceAccountIssuer, audience: "someone-else" })).rejects.toThrow(/aud/);
  });
});
