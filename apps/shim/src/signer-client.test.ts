import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:https";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TLSSocket } from "node:tls";
import { createServerCertificate } from "@edgeca/edge";
import { createTestCa, type TestCa } from "@edgeca/testenv";
import { MAX_BATCH_ITEMS, MAX_BODY_BYTES, problemOf, type SignBatchItem, type SignRequest } from "@edgeca/shared";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createHttpSignerClient, type BatchSigner, type HttpSignerClientOptions, type SignerClient } from "./signer-client.ts";
import { SignerCallError } from "./signer-call-error.ts";
import { BatchRequestError } from "./sign-batch-wire.ts";

/** What the signer saw of one request. */
interface Seen {
  readonly method: string;
  readonly path: string;
  readonly authorization: string | undefined;
  readonly contentType: string | undefined;
  readonly clientSubject: string | undefined;
  readonly body: string;
}

type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => void;

const REQUEST: SignRequest = { signerName: "example.com/foo", csr: "-----BEGIN CERTIFICATE REQUEST-----\n", usages: ["client auth"], requestor: { username: "istiod" } };
const ANSWER = { certificateChain: "-----BEGIN CERTIFICATE-----\n", serialNumber: "0a", notBefore: "2026-01-01T00:00:00Z", notAfter: "2026-01-02T00:00:00Z" };

let server: Server;
let url: string;
let dir: string;
let clientCa: TestCa;
let handler: Handler;
const seen: Seen[] = [];
const clients: SignerClient[] = [];
/** The signer's /v1/sign-batch: each item's answer decided by `decide` from the item. */
const batch = (decide: (item: SignRequest) => SignBatchItem): Handler => (_req, res, body) => {
  json(200, { answers: (JSON.parse(body) as { requests: SignRequest[] }).requests.map(decide) })(_req, res, body);
};

const json = (status: number, body: unknown, headers: Record<string, string> = {}): Handler => (_req, res) => {
  res.writeHead(status, { "content-type": status === 200 ? "application/json" : "application/problem+json", ...headers }).end(JSON.stringify(body));
};
const problem = (status: number, code: string, detail: string) => ({ type: "about:blank", title: code, status, code, detail });

/** Writes the shim's files (client certificate for `subject`, key, the signer's CA, token) into `dir`. */
async function writeMaterial(subject: string, token: string, caPem: string): Promise<void> {
  const client = await clientCa.issueClient(subject);
  await writeFile(join(dir, "client.pem"), client.certPem);
  await writeFile(join(dir, "client-key.pem"), client.keyPem);
  await writeFile(join(dir, "ca.pem"), caPem);
  await writeFile(join(dir, "token"), `${token}\n`);
}

function client(overrides: Partial<HttpSignerClientOptions> = {}): SignerClient & BatchSigner {
  const c = createHttpSignerClient({
    url,
    clientCertFile: join(dir, "client.pem"),
    clientKeyFile: join(dir, "client-key.pem"),
    caFile: join(dir, "ca.pem"),
    tokenFile: join(dir, "token"),
    timeoutMs: 5_000,
    ...overrides,
  });
  clients.push(c);
  return c;
}

/** The SignerCallError `promise` rejects with. */
async function signerError(promise: Promise<unknown>): Promise<SignerCallError> {
  const error: unknown = await promise.then(() => undefined, (e: unknown) => e);
  if (!(error instanceof SignerCallError)) throw new Error(`expected a SignerCallError, got ${String(error)}`);
  return error;
}

let serverCaPem: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "edgeca-signer-client-"));
  const identity = await createServerCertificate();
  serverCaPem = identity.caPem;
  clientCa = await createTestCa("CN=test shim client CA");
  await writeMaterial("CN=edgeca-shim", "token-1", serverCaPem);
  // The signer's edge: TLS with a client certificate required from the test CA.
  server = createServer({ key: identity.keyPem, cert: identity.certPem, ca: clientCa.certPem, requestCert: true, rejectUnauthorized: true }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      const cn = (req.socket as TLSSocket).getPeerCertificate().subject.CN;
      const clientSubject = Array.isArray(cn) ? cn.join(",") : cn;
      seen.push({ method: req.method ?? "", path: req.url ?? "", authorization: req.headers.authorization, contentType: req.headers["content-type"], clientSubject, body });
      handler(req, res, body);
    });
    res.on("error", () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

beforeEach(() => {
  seen.length = 0;
  handler = json(200, ANSWER);
});

afterEach(() => {
  for (const c of clients.splice(0)) c.close();
  server.closeAllConnections();
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  await rm(dir, { recursive: true, force: true });
});

describe("createHttpSignerClient", () => {
  it("POSTs the request as JSON with the bearer token and the client certificate, and parses the 200 answer", async () => {
    const observed: string[] = [];
    const c = client({ observe: (endpoint, status) => observed.push(`${endpoint} ${status}`) });
    await expect(c.sign(REQUEST)).resolves.toEqual(ANSWER);
    expect(seen).toEqual([{ method: "POST", path: "/v1/sign", authorization: "Bearer token-1", contentType: "application/json", clientSubject: "edgeca-shim", body: JSON.stringify(REQUEST) }]);
    expect(observed).toEqual(["v1/sign 200"]);
  });

  it("GETs and parses the bundle", async () => {
    handler = json(200, { roots: ["r"], pem: "r" });
    await expect(client().bundle()).resolves.toEqual({ roots: ["r"], pem: "r" });
    expect(seen[0]).toMatchObject({ method: "GET", path: "/v1/bundle" });
  });

  it("sends no Authorization header without a token file", async () => {
    await client({ tokenFile: undefined }).sign(REQUEST);
    expect(seen[0]?.authorization).toBeUndefined();
  });

  it("turns a problem+json answer into a SignerCallError with status, problem and terminal verdict", async () => {
    handler = json(422, problem(422, "policy_denied", "namespace kube-system is not allowed"));
    const error = await signerError(client().sign(REQUEST));
    expect([error.status, error.problem?.code, error.problem?.detail, error.terminal, error.reason]).toEqual([422, "policy_denied", "namespace kube-system is not allowed", true, "PolicyDenied"]);
  });

  it("carries a 429's Retry-After as retryAfterMs", async () => {
    handler = json(429, problem(429, "rate_limited", "budget spent"), { "retry-after": "7" });
    const error = await signerError(client().sign(REQUEST));
    expect([error.status, error.retryAfterMs, error.terminal]).toEqual([429, 7_000, false]);
  });

  it("a bare 5xx without a problem document is an error with the status only", async () => {
    handler = (_req, res) => { res.writeHead(502, { "content-type": "text/html" }).end("<html>bad gateway</html>"); };
    const error = await signerError(client().sign(REQUEST));
    expect([error.status, error.problem, error.terminal, error.reason]).toEqual([502, undefined, false, "SignerHttp502"]);
  });

  it("refuses a body over the signer's limit without sending it, with the signer's own 413 problem (shared problemOf)", async () => {
    const error = await signerError(client().sign({ ...REQUEST, csr: "x".repeat(MAX_BODY_BYTES) }));
    expect(seen).toHaveLength(0);
    expect(error.problem).toEqual(problemOf("payload_too_large", error.problem?.detail ?? ""));
    expect([error.status, error.problem?.type, error.problem?.title, error.terminal, error.reason]).toEqual([413, "urn:edgeca:problem:payload_too_large", "Payload too large", true, "PayloadTooLarge"]);
  });
});

describe("createHttpSignerClient refusals and timeouts", () => {
  it("refuses a 200 whose body is not JSON, or not the schema", async () => {
    handler = (_req, res) => { res.writeHead(200).end("certificate follows"); };
    const notJson = await signerError(client().sign(REQUEST));
    expect([notJson.status, notJson.message]).toEqual([200, "the signer answered 200 with a body that is not JSON"]);
    handler = json(200, { certificateChain: "" });
    const notSchema = await signerError(client().sign(REQUEST));
    expect(notSchema.message).toMatch(/does not match the schema/);
    // The signer's fault, not the requester's: retried under the bad-answer reason, never Failed on its own.
    for (const error of [notJson, notSchema]) expect([error.reason, error.terminal]).toEqual(["InvalidSignerAnswer", false]);
  });

  it("refuses an answer over 1 MiB", async () => {
    handler = (_req, res) => { res.writeHead(200, { "content-type": "application/json" }).end(`"${"x".repeat(2 * 1024 * 1024)}"`); };
    const tooLarge = await signerError(client().sign(REQUEST));
    expect([tooLarge.message, tooLarge.reason]).toEqual(["the signer's answer is over 1048576 bytes", "InvalidSignerAnswer"]);
  });

  it("gives up after the timeout with an error that reads as unreachable", async () => {
    handler = () => undefined;
    const error = await signerError(client({ timeoutMs: 300 }).sign(REQUEST));
    expect(error.message).toBe("no answer from the signer within 300 ms");
    expect(error.reason).toBe("SignerUnreachable");
  });

  it("says it cannot reach a signer that is not listening", async () => {
    const error = await signerError(client({ url: "https://127.0.0.1:9" }).sign(REQUEST));
    expect(error.message).toMatch(/cannot reach the signer: .*ECONNREFUSED/);
    expect(error.status).toBeUndefined();
  });
});

describe("createHttpSignerClient file rotation", () => {
  it("re-reads the token file when it changes", async () => {
    const c = client({ filesRecheckMs: 0 });
    await c.sign(REQUEST);
    await writeFile(join(dir, "token"), "token-2-rotated\n");
    await c.sign(REQUEST);
    expect(seen.map((s) => s.authorization)).toEqual(["Bearer token-1", "Bearer token-2-rotated"]);
    await writeFile(join(dir, "token"), "token-1\n");
  });

  it("looks at the files once per window: a rotation is used from the first request after it", async () => {
    const c = client({ filesRecheckMs: 300 });
    await c.sign(REQUEST);
    await writeFile(join(dir, "token"), "token-3-rotated\n");
    await c.sign(REQUEST);
    await new Promise((resolve) => setTimeout(resolve, 350));
    await c.sign(REQUEST);
    expect(seen.map((s) => s.authorization)).toEqual(["Bearer token-1", "Bearer token-1", "Bearer token-3-rotated"]);
    await writeFile(join(dir, "token"), "token-1\n");
  });

  it("presents a renewed client certificate without a restart", async () => {
    const c = client({ filesRecheckMs: 0 });
    await c.sign(REQUEST);
    await writeMaterial("CN=edgeca-shim-renewed", "token-1", serverCaPem);
    await c.sign(REQUEST);
    expect(seen.map((s) => s.clientSubject)).toEqual(["edgeca-shim", "edgeca-shim-renewed"]);
    await writeMaterial("CN=edgeca-shim", "token-1", serverCaPem);
  });

  it("fails at creation, naming the file, when a file cannot be read", () => {
    expect(() => client({ tokenFile: join(dir, "missing-token") })).toThrow(/cannot read the signer client's files: .*missing-token/);
  });
});

describe("createHttpSignerClient signBatch", () => {
  const named = (name: string, csr = REQUEST.csr): SignRequest => ({ ...REQUEST, csr, object: { name, uid: `uid-${name}` } });
  const itemOf = (name: string): SignBatchItem =>
    name === "denied" ? { refused: problemOf("policy_denied", "not this one") } : name === "greedy" ? { refused: problemOf("rate_limited", "budget spent"), retryAfterSeconds: 7 } : { issued: { ...ANSWER, serialNumber: name === "a" ? "0a" : "0b" } };

  it("POSTs the requests as one batch and gives each its own outcome, a refusal as /v1/sign's would be", async () => {
    const observed: string[] = [];
    const items: number[] = [];
    handler = batch((r) => itemOf(r.object?.name ?? ""));
    const c = client({ observe: (endpoint, status) => observed.push(`${endpoint} ${status}`), observeItems: (n) => items.push(n) });
    const [a, denied, greedy, b] = await c.signBatch(["a", "denied", "greedy", "b"].map((n) => named(n)));
    expect(seen.map((s) => [s.method, s.path, s.authorization, s.contentType, s.body])).toEqual([["POST", "/v1/sign-batch", "Bearer token-1", "application/json", JSON.stringify({ requests: ["a", "denied", "greedy", "b"].map((n) => named(n)) })]]);
    expect([a, b]).toEqual([{ ...ANSWER, serialNumber: "0a" }, { ...ANSWER, serialNumber: "0b" }]);
    // An item's refusal is the item's, not the batch's.
    for (const refused of [denied, greedy]) expect([refused instanceof SignerCallError, refused instanceof BatchRequestError]).toEqual([true, false]);
    const [d, g] = [denied as SignerCallError, greedy as SignerCallError];
    expect([d.status, d.problem?.code, d.terminal, d.reason, d.message]).toEqual([422, "policy_denied", true, "PolicyDenied", "the signer refused: policy_denied: not this one"]);
    expect([g.status, g.retryAfterMs, g.terminal]).toEqual([429, 7_000, false]);
    expect([observed, items]).toEqual([["v1/sign-batch 200"], [4]]);
  });

  it("fails every item with one error when the whole request fails (a 503, a 404 from an older signer, a timeout)", async () => {
    for (const [h, status] of [[json(503, problem(503, "unavailable", "config")), 503], [json(404, problem(404, "not_found", "no route for POST /v1/sign-batch")), 404]] as const) {
      handler = h;
      const outcomes = await client().signBatch([named("a"), named("b")]);
      expect(outcomes[0]).toBeInstanceOf(BatchRequestError);
      expect(outcomes[1]).toBe(outcomes[0]);
      expect((outcomes[0] as SignerCallError).status).toBe(status);
    }
    handler = () => undefined;
    const timedOut = await client({ timeoutMs: 300 }).signBatch([named("a"), named("b")]);
    expect(timedOut.map((o) => (o as SignerCallError).reason)).toEqual(["SignerUnreachable", "SignerUnreachable"]);
  });

  it("refuses an answer that is not the schema, or has not one answer per request, for every item", async () => {
    handler = json(200, { answers: [{ issued: ANSWER }] });
    const short = await client().signBatch([named("a"), named("b")]);
    expect(short.map((o) => (o as SignerCallError).message)).toEqual(Array(2).fill("the signer's /v1/sign-batch answer has 1 answers for 2 requests"));
    handler = json(200, { answers: [{ issued: ANSWER }, { certificate: "x" }] });
    const wrong = await client().signBatch([named("a"), named("b")]);
    expect(wrong.map((o) => [(o as SignerCallError).reason, (o as SignerCallError).status])).toEqual(Array(2).fill(["InvalidSignerAnswer", 200]));
  });

  it("refuses an item over the body limit here with the 413, and splits batches over MAX_BATCH_ITEMS or the body limit", async () => {
    handler = batch(() => ({ issued: ANSWER }));
    const items: number[] = [];
    const big = "x".repeat(60 * 1024);
    const requests = [named("huge", "x".repeat(MAX_BODY_BYTES)), ...Array.from({ length: 12 }, (_v, i) => named(`big${i}`, big))];
    const outcomes = await client({ observeItems: (n) => items.push(n) }).signBatch(requests);
    expect((outcomes[0] as SignerCallError).problem?.code).toBe("payload_too_large");
    expect(outcomes.slice(1)).toEqual(Array(12).fill(ANSWER));
    // 12 items of 60 KiB do not fit in 512 KiB: two requests, each under the limit, in order.
    expect([items, seen.map((s) => s.body.length <= 512 * 1024)]).toEqual([[8, 4], [true, true]]);
    seen.length = 0;
    await client().signBatch(Array.from({ length: MAX_BATCH_ITEMS + 1 }, (_v, i) => named(`n${i}`)));
    expect(seen.map((s) => (JSON.parse(s.body) as { requests: unknown[] }).requests.length).sort()).toEqual([1, MAX_BATCH_ITEMS]);
  });
});
