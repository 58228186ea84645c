/**
 * The signer's HTTP API (docs/signer-api.md) as a Hono app. Order of checks on `/v1/*`:
 * configuration loaded (503) → client certificate and token (401) → media type (415) → body size (413)
 * → JSON and schema (400) → signer name (403) → policy (422/400) → issuance budgets (429) → issue.
 * Every `/v1/sign` decision is written as one audit record (audit.ts).
 */
import { ConfigurationError, PodSignRequest, SignRequest } from "@edgeca/shared";
import { Hono } from "hono";
import { AuditTrail } from "./audit.ts";
import { readLimitedText, requireJson } from "./body.ts";
import { budgetGate } from "./budget-gate.ts";
import { getSigningCore } from "./core-cache.ts";
import type { SigningCore } from "./core.ts";
import type { SignerEnv } from "./env.ts";
import { InvalidRequestError, problemResponse, SignerError, UnavailableError } from "./errors.ts";

type AppEnv = { Bindings: SignerEnv };

async function loadedCore(env: SignerEnv): Promise<SigningCore> {
  try {
    return await getSigningCore(env);
  } catch (error) {
    if (error instanceof ConfigurationError) throw new UnavailableError(`signer not configured: ${error.message}`, { cause: error });
    throw error;
  }
}

function cfOf(request: Request): unknown {
  // `cf` exists only on requests that came through Cloudflare's edge (or Miniflare's emulation of it).
  return "cf" in request ? request.cf : undefined;
}

const JSON_HEADERS = { "cache-control": "no-store" };

export const app = new Hono<AppEnv>();

app.get("/healthz", (c) => c.json({ status: "ok" }, 200, JSON_HEADERS));

app.get("/readyz", async (c) => {
  try {
    const unready = (await getSigningCore(c.env)).unreadiness();
    if (unready !== undefined) return problemResponse("unavailable", `signer not ready: ${unready}`);
    return c.json({ status: "ready" }, 200, JSON_HEADERS);
  } catch (error) {
    const detail = error instanceof ConfigurationError ? error.message : "configuration could not be loaded";
    if (!(error instanceof ConfigurationError)) console.error("readyz: unexpected load failure", error);
    return problemResponse("unavailable", `signer not ready: ${detail}`);
  }
});

app.get("/v1/bundle", async (c) => {
  const core = await loadedCore(c.env);
  await core.authenticate(cfOf(c.req.raw), c.req.header("authorization") ?? null);
  return c.json(core.bundle, 200, JSON_HEADERS);
});

async function parseSignRequest(raw: Request): Promise<SignRequest> {
  return await parseBody(raw, SignRequest, "sign request");
}

/** Reads a JSON body and parses it with `schema`; 415/413/400 as for every sign route. */
async function parseBody<T>(raw: Request, schema: { safeParse(json: unknown): { success: true; data: T } | { success: false; error: { issues: readonly { path: readonly PropertyKey[]; message: string }[] } } }, what: string): Promise<T> {
  requireJson(raw.headers.get("content-type"));
  const text = await readLimitedText(raw);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    // V8's message says where parsing stopped ("Unexpected end of JSON input", "Unexpected token …").
    throw new InvalidRequestError(`body is not valid JSON: ${error instanceof Error ? error.message.slice(0, 200) : "parse failed"}`);
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const issues = parsed.error.issues.slice(0, 5).map((i) => `${i.path.map(String).join(".") || "(body)"}: ${i.message}`);
    throw new InvalidRequestError(`body does not match the ${what} schema: ${issues.join("; ")}`);
  }
  return parsed.data;
}

// Every answer of /v1/sign, refusals included, leaves exactly one audit record (audit.ts).
app.post("/v1/sign", async (c) => {
  const audit = new AuditTrail();
  try {
    const core = await loadedCore(c.env);
    const cluster = await core.authenticate(cfOf(c.req.raw), c.req.header("authorization") ?? null);
    audit.cluster = cluster.name;
    audit.request = await parseSignRequest(c.req.raw);
    const answer = await core.sign(audit.request, cluster, { gate: budgetGate(c.env), facts: audit.facts });
    audit.issued(answer);
    return c.json(answer, 200, JSON_HEADERS);
  } catch (error) {
    audit.refused(error);
    throw error;
  }
});

// Pod certificates (PodCertificateRequests): the same order of checks and one audit record per answer.
app.post("/v1/sign-pod", async (c) => {
  const audit = new AuditTrail();
  try {
    const core = await loadedCore(c.env);
    const cluster = await core.authenticate(cfOf(c.req.raw), c.req.header("authorization") ?? null);
    audit.cluster = cluster.name;
    const request = await parseBody(c.req.raw, PodSignRequest, "pod sign request");
    audit.request = request;
    const answer = await core.signPod(request, cluster, { gate: budgetGate(c.env), facts: audit.facts });
    audit.issued(answer);
    return c.json(answer, 200, JSON_HEADERS);
  } catch (error) {
    audit.refused(error);
    throw error;
  }
});

for (const path of ["/healthz", "/readyz", "/v1/bundle", "/v1/sign", "/v1/sign-pod"]) {
  app.all(path, (c) => problemResponse("method_not_allowed", `${c.req.method} is not allowed on ${path}`));
}

app.notFound((c) => problemResponse("not_found", `no route for ${c.req.method} ${new URL(c.req.url).pathname}`));

app.onError((error) => {
  if (error instanceof SignerError) return error.toResponse();
  // Only a signer fault reaches here; the client sees a generic message, the log keeps the cause.
  console.error("unexpected error", error);
  return problemResponse("internal", "internal error");
});
