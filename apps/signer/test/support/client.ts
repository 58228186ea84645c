/**
 * Test helpers for the workerd tests: the fixtures, an edge verdict (`cf.tlsClientAuth`) as Cloudflare
 * fills it, ServiceAccount-like tokens, and calls through the Worker's real entry point.
 */
import { env, exports } from "cloudflare:workers";
import { importJWK, SignJWT } from "jose";
import type { SignRequest } from "@edgeca/shared";
import worker from "../../src/index.ts";
import type { SignerEnv } from "../../src/env.ts";
import type { TestFixtures } from "./fixtures.ts";

export const fx = JSON.parse(env.TEST_FIXTURES) as TestFixtures;

/** `cf.tlsClientAuth` as Cloudflare's edge fills it for a verified, unrevoked client certificate. */
export function verdict(fingerprint: string, overrides: Record<string, string> = {}): Record<string, string> {
  return {
    certPresented: "1",
    certVerified: "SUCCESS",
    certRevoked: "0",
    certFingerprintSHA256: fingerprint,
    certFingerprintSHA1: "",
    certIssuerSKI: "",
    certSKI: "",
    certIssuerDN: "CN=edgeca test client CA",
    certSubjectDN: "CN=edgeca-shim",
    certIssuerDNRFC2253: "CN=edgeca test client CA",
    certSubjectDNRFC2253: "CN=edgeca-shim",
    certIssuerDNLegacy: "/CN=edgeca test client CA",
    certSubjectDNLegacy: "/CN=edgeca-shim",
    certNotBefore: "Dec 22 19:39:00 2025 GMT",
    certNotAfter: "Dec 22 19:39:00 2030 GMT",
    certSerial: "01",
    ...overrides,
  };
}

/** A token for cluster "dev"; every claim can be overridden, `key: "stranger"` signs with a key outside the JWKS. */
export async function token(claims: Record<string, unknown> = {}, key: "good" | "stranger" = "good"): Promise<string> {
  const jwk = key === "good" ? fx.token.privateJwk : fx.token.strangerJwk;
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ iss: fx.token.issuer, aud: fx.token.audience, sub: fx.token.subject, iat: now, exp: now + 600, ...claims })
    .setProtectedHeader({ alg: "RS256", kid: "test-key-1" })
    .sign(await importJWK(jwk, "RS256"));
}

/** A sign request for `csr` with Istio's defaults. */
export function signRequest(csr: string, overrides: Partial<SignRequest> = {}): SignRequest {
  return {
    signerName: fx.signerName,
    csr,
    usages: ["digital signature", "key encipherment", "server auth", "client auth"],
    expirationSeconds: 86_400,
    requestor: { username: "system:serviceaccount:istio-system:istiod", groups: ["system:serviceaccounts"] },
    object: { name: "csr-workload-abcde" },
    ...overrides,
  };
}

export interface CallOptions {
  readonly method?: string;
  /** An object is sent as JSON; a string as is. */
  readonly body?: unknown;
  readonly cf?: Record<string, string> | undefined;
  readonly headers?: Record<string, string>;
  /** Call the default export with this env instead of the configured bindings. */
  readonly env?: SignerEnv;
}

/** Calls the Worker: through `exports.default.fetch` (configured bindings) or the default export with `env`. */
export async function call(path: string, options: CallOptions = {}): Promise<Response> {
  const headers: Record<string, string> = { ...options.headers };
  let body: string | undefined;
  if (typeof options.body === "string") body = options.body;
  else if (options.body !== undefined) {
    body = JSON.stringify(options.body);
    headers["content-type"] ??= "application/json";
  }
  const init: RequestInit<Record<string, unknown>> = { method: options.method ?? (body === undefined ? "GET" : "POST"), headers };
  if (body !== undefined) init.body = body;
  if (options.cf !== undefined) init.cf = { tlsClientAuth: options.cf };
  const request = new Request(`https://signer.example.com${path}`, init);
  if (options.env !== undefined) return worker.fetch(request, options.env);
  return exports.default.fetch(request);
}

/** Calls `/v1/sign` as the token-less cluster "plain". */
export async function signAsPlain(request: unknown, env?: SignerEnv): Promise<Response> {
  return call("/v1/sign", { body: request, cf: verdict(fx.fingerprints.plain), ...(env === undefined ? {} : { env }) });
}

/** An env for one of the fixture configurations. */
export function envFor(name: keyof TestFixtures["configs"]): SignerEnv {
  return { EDGECA_CONFIG: JSON.stringify(fx.configs[name]), ...fx.secrets };
}

/** The problem document's `code`, or the status when the body is not one. */
export async function problemCode(response: Response): Promise<string> {
  const body: unknown = await response.json();
  return typeof body === "object" && body !== null && "code" in body && typeof body.code === "string" ? body.code : `status ${response.status}`;
}
