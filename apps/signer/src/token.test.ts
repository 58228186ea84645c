import { TokenConfig } from "@edgeca/shared";
import { importJWK, SignJWT } from "jose";
import { describe, expect, it } from "vitest";
import { fx } from "../test/support/client.ts";
import { MAX_REMEMBERED_TOKENS, tokenVerifier } from "./token.ts";

// The verifier remembers the tokens it verified (token.ts VerifiedTokens); these tests fail when a
// remembered token outlives its exp, when anything but the exact string verified is let through, or when
// the memo outlives the JWKS it was verified against.

const devCluster = fx.configs.a.clusters.find((c) => c.name === "dev");
const config = TokenConfig.parse(devCluster?.token);
const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);

async function tokenAt(issuedAtMs: number, claims: Record<string, unknown> = {}): Promise<string> {
  const iat = Math.floor(issuedAtMs / 1000);
  return new SignJWT({ iss: fx.token.issuer, aud: fx.token.audience, sub: fx.token.subject, iat, exp: iat + 600, ...claims })
    .setProtectedHeader({ alg: "RS256", kid: "test-key-1" })
    .sign(await importJWK(fx.token.privateJwk, "RS256"));
}

/** A verifier on a clock the test moves. */
function verifierAt(start: number, cfg: TokenConfig = config): { verify: (token: string) => Promise<void>; clock: { ms: number } } {
  const clock = { ms: start };
  const verifier = tokenVerifier(cfg, () => clock.ms);
  return { verify: (token) => verifier(`Bearer ${token}`), clock };
}

/** `token` with one character of segment `segment` (0 header, 1 payload, 2 signature) changed, mid-segment. */
function tampered(token: string, segment: number): string {
  const parts = token.split(".");
  const part = parts[segment] ?? "";
  const at = Math.floor(part.length / 2);
  parts[segment] = part.slice(0, at) + (part[at] === "A" ? "B" : "A") + part.slice(at + 1);
  return parts.join(".");
}

describe("verified tokens remembered per verifier", () => {
  it("accepts a remembered token until the second before its exp and refuses it from its exp on, as jose does", async () => {
    const { verify, clock } = verifierAt(T0);
    const token = await tokenAt(T0);
    await verify(token);
    const exp = Math.floor(T0 / 1000) + 600;
    clock.ms = exp * 1000 - 1;
    await verify(token);
    clock.ms = exp * 1000;
    await expect(verify(token)).rejects.toThrow("token expired");
    clock.ms = exp * 1000 - 1;
    // Once refused as expired it is forgotten: jose decides again (and the clock here says it is valid).
    await verify(token);
  });

  it("refuses a token that differs from a remembered one in its signature or its claims", async () => {
    const { verify } = verifierAt(T0);
    const token = await tokenAt(T0);
    await verify(token);
    await expect(verify(tampered(token, 2))).rejects.toThrow("token signature does not verify");
    const otherClaims = await tokenAt(T0, { sub: "system:serviceaccount:default:attacker" });
    const [header, payload] = otherClaims.split(".");
    const signature = token.split(".")[2] ?? "";
    await expect(verify(`${header ?? ""}.${payload ?? ""}.${signature}`)).rejects.toThrow("token signature does not verify");
    await verify(token);
  });

  it("refuses a refused token again, and remembers nothing of a token whose claims are wrong", async () => {
    const { verify } = verifierAt(T0);
    const wrongAudience = await tokenAt(T0, { aud: "someone-else" });
    await expect(verify(wrongAudience)).rejects.toThrow('token claim "aud"');
    await expect(verify(wrongAudience)).rejects.toThrow('token claim "aud"');
    const early = await tokenAt(T0, { nbf: Math.floor(T0 / 1000) + 60 });
    await expect(verify(early)).rejects.toThrow('token claim "nbf"');
  });

  it("does not let another verifier (another JWKS in force) accept what this one verified", async () => {
    const first = verifierAt(T0);
    const token = await tokenAt(T0);
    await first.verify(token);
    const stranger: Record<string, unknown> = fx.token.strangerJwk;
    const strangerPublic = { kty: "RSA", kid: stranger["kid"], alg: "RS256", use: "sig", n: stranger["n"], e: stranger["e"] };
    const rotated = TokenConfig.parse({ ...config, jwks: { keys: [strangerPublic] } });
    const second = verifierAt(T0, rotated);
    await expect(second.verify(token)).rejects.toThrow("token signature does not verify");
    await first.verify(token);
  });

  it(`checks every token's exp when more than ${MAX_REMEMBERED_TOKENS} are remembered`, async () => {
    const { verify, clock } = verifierAt(T0);
    const tokens = await Promise.all(Array.from({ length: MAX_REMEMBERED_TOKENS + 4 }, (_, i) => tokenAt(T0 + i * 1000, { jti: `t${i}` })));
    for (const t of tokens) await verify(t);
    for (const t of tokens) await verify(t);
    clock.ms = T0 + 600_000 + 2_000;
    const outcomes = await Promise.allSettled(tokens.map((t) => verify(t)));
    // exp = T0/1000 + i + 600: tokens 0–2 have expired at T0 + 602 s, the later ones have not.
    expect(outcomes.map((o) => o.status)).toEqual(tokens.map((_, i) => (i <= 2 ? "rejected" : "fulfilled")));
  });
});
