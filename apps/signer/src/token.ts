/**
 * Step 2 of docs/signer-api.md "Authentication": the shim's projected ServiceAccount token, verified
 * against the cluster's JWKS from configuration (no network): signature, issuer, audience, expiry, subject.
 */
import type { TokenConfig } from "@edgeca/shared";
import { createLocalJWKSet, errors, importJWK, jwtVerify } from "jose";
import { UnauthenticatedError } from "./errors.ts";

/** Algorithms kube-apiserver can sign ServiceAccount tokens with (RS256 by default, ES* with EC keys). */
const ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512"];

/** Verifies `Authorization: Bearer <token>` for one cluster. */
export type TokenVerifier = (authorization: string | null) => Promise<void>;

function describe(error: unknown): string {
  if (error instanceof errors.JWTExpired) return "token expired";
  if (error instanceof errors.JWTClaimValidationFailed) return `token claim "${error.claim}" is not what this signer expects`;
  if (error instanceof errors.JWSSignatureVerificationFailed) return "token signature does not verify";
  if (error instanceof errors.JWKSNoMatchingKey) return "token is not signed by a key of this cluster's JWKS";
  if (error instanceof errors.JOSEAlgNotAllowed) return "token algorithm not allowed";
  // jose's messages name the fault ("Invalid Compact JWS", "JWT Claims Set must be a top-level JSON object") without echoing the token.
  if (error instanceof errors.JOSEError) return `token invalid (${error.code}): ${error.message.slice(0, 200)}`;
  return "token invalid";
}

/** The algorithm to try a JWK with when it names none (kube-apiserver's JWKS normally does). */
function defaultAlgorithm(jwk: { kty: string; crv?: unknown }): string {
  if (jwk.kty === "EC") return jwk.crv === "P-384" ? "ES384" : jwk.crv === "P-521" ? "ES512" : "ES256";
  return "RS256";
}

/**
 * Imports every key of a JWKS once, so a broken key is a configuration error at load (`/readyz` 503)
 * instead of a 401 on every request. Returns the problem, or undefined when all keys import.
 */
export async function checkJwks(config: TokenConfig): Promise<string | undefined> {
  for (const [i, jwk] of config.jwks.keys.entries()) {
    const alg = typeof jwk.alg === "string" ? jwk.alg : defaultAlgorithm(jwk);
    if (!ALGORITHMS.includes(alg)) return `jwks.keys.${i}: algorithm ${alg} is not one kube-apiserver signs with`;
    try {
      await importJWK(jwk, alg);
    } catch (error) {
      return `jwks.keys.${i}: not a usable ${alg} public key (${error instanceof Error ? error.message : "import failed"})`;
    }
  }
  return undefined;
}

/** What a JWT can contain (base64url segments joined by '.'), checked before jose sees it. */
function isJwtText(token: string): boolean {
  for (let i = 0; i < token.length; i++) {
    const c = token.charCodeAt(i);
    const ok = (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c === 0x2d || c === 0x5f || c === 0x2e;
    if (!ok) return false;
  }
  return true;
}

/**
 * The token of `Authorization: Bearer <token>`. RFC 9110 §11.1 makes the auth-scheme case-insensitive
 * and §11.4 separates it from the credentials by one or more spaces (1*SP), so "bearer", "BEARER" and
 * two spaces are all accepted. Throws `UnauthenticatedError` naming what was wrong otherwise.
 */
export function bearerToken(authorization: string | null): string {
  if (authorization === null || authorization === "") throw new UnauthenticatedError("a ServiceAccount bearer token is required (Authorization: Bearer <token>)");
  let end = 0;
  while (end < authorization.length && authorization[end] !== " " && authorization[end] !== "\t") end++;
  const scheme = authorization.slice(0, end);
  if (scheme.toLowerCase() !== "bearer") {
    // Name the scheme only when it looks like one: the header may hold a credential that should not be echoed.
    const named = /^[A-Za-z0-9-]{1,20}$/.test(scheme) ? `authorization scheme "${scheme}"` : "the authorization scheme";
    throw new UnauthenticatedError(`${named} is not Bearer; a ServiceAccount bearer token is required`);
  }
  if (authorization[end] === "\t") throw new UnauthenticatedError("the Bearer scheme and the token must be separated by spaces (RFC 9110 §11.4), not a tab");
  let start = end;
  while (authorization[start] === " ") start++;
  const token = authorization.slice(start);
  if (token === "") throw new UnauthenticatedError("the Authorization header names the Bearer scheme but carries no token");
  if (!isJwtText(token)) throw new UnauthenticatedError("the bearer token is not a JWT: only A-Z, a-z, 0-9, '-', '_' and '.' may appear in it");
  return token;
}

/** Verified tokens one verifier remembers at once (a cluster's shim presents one at a time, a few around a rotation). */
export const MAX_REMEMBERED_TOKENS = 16;

/**
 * Tokens this verifier has verified, each with its `exp` (epoch seconds): an exact token string seen
 * again before its `exp` is accepted without verifying its signature again. Nothing else is remembered,
 * so a changed, absent or refused token is verified (or refused) as on first sight. The memo lives in
 * the verifier, which lives in the isolate's signing core: a configuration with another JWKS, issuer,
 * audience or subject loads a new core (core-cache.ts) and starts with an empty memo.
 */
class VerifiedTokens {
  readonly #exp = new Map<string, number>();

  /** True when `token` verified before and `nowSeconds` is still before its `exp` (jose's own test: expired when exp <= now). */
  has(token: string, nowSeconds: number): boolean {
    const exp = this.#exp.get(token);
    if (exp === undefined) return false;
    if (nowSeconds < exp) return true;
    this.#exp.delete(token);
    return false;
  }

  add(token: string, exp: number): void {
    if (this.#exp.size >= MAX_REMEMBERED_TOKENS) {
      const oldest = this.#exp.keys().next();
      if (oldest.done !== true) this.#exp.delete(oldest.value);
    }
    this.#exp.set(token, exp);
  }
}

/**
 * Builds the verifier once per isolate (the JWKS is imported lazily by jose and then cached). `now`
 * (epoch ms) is the clock of expiry checks, remembered tokens' included; tests move it.
 */
export function tokenVerifier(config: TokenConfig, now: () => number = Date.now): TokenVerifier {
  const jwks = createLocalJWKSet(config.jwks);
  const verified = new VerifiedTokens();
  return async (authorization) => {
    const token = bearerToken(authorization);
    const at = now();
    // jose compares exp with the current time in whole seconds (epoch(date) = floor(ms / 1000)).
    if (verified.has(token, Math.floor(at / 1000))) return;
    let exp: unknown;
    try {
      const { payload } = await jwtVerify(token, jwks, {
        issuer: config.issuer,
        audience: config.audience,
        subject: config.subject,
        algorithms: ALGORITHMS,
        requiredClaims: ["exp"],
        currentDate: new Date(at),
      });
      exp = payload.exp;
    } catch (error) {
      throw new UnauthenticatedError(describe(error), { cause: error });
    }
    // requiredClaims makes jose refuse a token without a numeric exp; only such a token is remembered.
    if (typeof exp === "number") verified.add(token, exp);
  };
}
