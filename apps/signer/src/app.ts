/**
 * The signer's HTTP API (docs/signer-api.md) as a Hono app. Order of checks on `/v1/*`:
 * configuration loaded (503) → client certificate and token (401) → media type (415) → body size (413)
 * → JSON and schema (400) → signer name (403) → policy (422/400) → issuance budgets (429) → issue.
 * Every `/v1/sign` decision is written as one audit record (audit.ts); `/v1/sign-batch` (sign-batch.ts)
 * applies the same checks to the whole request, then those from the signer name on to each item.
 */
import { ConfigurationError, MAX_BATCH_BODY_BYTES, PodSignRequest, SignBatchRequest, SignRequest, type ClusterConfig, type SignBatchResponse } from "@edgeca/shared";
import { Hono } from "hono";
import { AuditTrail } from "./audit.ts";
import { readJsonBody } from "./body.ts";
import { budgetGate } from "./budget-gate.ts";
import { getSigningCore } from "./core-cache.ts";
import type { SigningCore } from "./core.ts";
import { signBatch } from "./sign-batch.ts";
import type { SignerEnv } from "./env.ts";
import { problemResponse, SignerError, UnavailableError } from "./errors.ts";

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

// Every answer of /v1/sign, refusals included, leaves exactly one audit record (audit.ts).
app.post("/v1/sign", async (c) => {
  const audit = new AuditTrail();
  try {
    const core = await loadedCore(c.env);
    const cluster = await core.authenticate(cfOf(c.req.raw), c.req.header("authorization") ?? null);
    audit.cluster = cluster.name;
    audit.request = await readJsonBody(c.req.raw, SignRequest, "sign request");
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
    const request = await readJsonBody(c.req.raw, PodSignRequest, "pod sign request");
    audit.request = request;
    const answer = await core.signPod(request, cluster, { gate: budgetGate(c.env), facts: audit.facts });
    audit.issued(answer);
    return c.json(answer, 200, JSON_HEADERS);
  } catch (error) {
    audit.refused(error);
    throw error;
  }
});

// Several sign requests in one (sign-batch.ts): a refusal of the whole batch leaves one audit record as on
// /v1/sign; an accepted batch leaves one per item, and signBatch answers every item, so it is past the catch.
app.post("/v1/sign-batch", async (c) => {
  const audit = new AuditTrail();
  let accepted: { core: SigningCore; cluster: ClusterConfig; batch: SignBatchRequest };
  try {
    const core = await loadedCore(c.env);
    const cluster = await core.authenticate(cfOf(c.req.raw), c.req.header("authorization") ?? null);
    audit.cluster = cluster.name;
    accepted = { core, cluster, batch: await readJsonBody(c.req.raw, SignBatchRequest, "sign batch request", MAX_BATCH_BODY_BYTES) };
  } catch (error) {
    audit.refused(error);
    throw error;
  }
  const answer: SignBatchResponse = { answers: await signBatch(accepted.core, accepted.cluster, accepted.batch.requests, budgetGate(c.env)) };
  return c.json(answer, 200, JSON_HEADERS);
});

for (const path of ["/healthz", "/readyz", "/v1/bundle", "/v1/sign", "/v1/sign-pod", "/v1/sign-batch"]) {
  app.all(path, (c) => problemResponse("method_not_allowed", `${c.req.method} is not allowed on ${path}`));
}

app.notFound((c) => problemResponse("not_found", `no route for ${c.req.method} ${new URL(c.req.url).pathname}`));

app.onError((error) => {
  if (error instanceof SignerError) return error.toResponse();
  // Only a signer fault reaches here; the client sees a generic message, the log keeps the cause.
  console.error("unexpected error", error);
  return problemResponse("internal", "internal error");
});
