/**
 * The HTTPS client for the signer (docs/signer-api.md, "Authentication"): mTLS with the
 * shim's client certificate, plus the projected ServiceAccount token as the bearer token. Files are re-read
 * when they change on disk, so kubelet's token rotation and a renewed client certificate need no restart.
 * Every answer is parsed with the wire schemas of @edgeca/shared; nothing is cast.
 */
import { readFileSync, statSync } from "node:fs";
import { Agent, request as httpsRequest } from "node:https";
import { createSecureContext, rootCertificates } from "node:tls";
import { Bundle, MAX_BODY_BYTES, PodSignResponse, Problem, SignResponse, type PodSignRequest, type SignRequest } from "@edgeca/shared";
import { SignerCallError } from "./signer-call-error.ts";
import { BatchRequestError, outcomesOf, planBatches, refusalError, tooLargeError, type SignOutcome } from "./sign-batch-wire.ts";
import { requestTargetOf, type RequestTarget } from "./request-target.ts";

/** What the shim needs from the signer; tests may substitute their own. */
export interface SignerClient {
  /** `POST /v1/sign`; resolves the parsed 200 answer or throws a SignerCallError. */
  sign(request: SignRequest, signal?: AbortSignal): Promise<SignResponse>;
  /** `GET /v1/bundle`; resolves the parsed trust bundle or throws a SignerCallError. */
  bundle(signal?: AbortSignal): Promise<Bundle>;
  /** Releases pooled connections. */
  close(): void;
}

/**
 * `POST /v1/sign-batch` (docs/signer-api.md "Batches"): resolves one outcome per request, in order, each what
 * `POST /v1/sign` would have given for it alone; never rejects. A failure of a whole HTTP request (no
 * answer, a non-200, an invalid answer) is one BatchRequestError, the same object, for each of its requests.
 */
export interface BatchSigner {
  signBatch(requests: readonly SignRequest[], signal?: AbortSignal): Promise<SignOutcome[]>;
}

/** Pod certificates: `POST /v1/sign-pod`; resolves the parsed 200 answer or throws a SignerCallError. */
export interface PodSigner {
  signPod(request: PodSignRequest, signal?: AbortSignal): Promise<PodSignResponse>;
}

export interface HttpSignerClientOptions {
  /** Base URL, e.g. `https://signer.example.com` (no trailing slash). */
  readonly url: string;
  readonly clientCertFile: string;
  readonly clientKeyFile: string;
  /** Extra CA for the signer's server certificate, added to the system roots. */
  readonly caFile?: string | undefined;
  /** Projected ServiceAccount token file; unset = no Authorization header. */
  readonly tokenFile?: string | undefined;
  readonly timeoutMs: number;
  /** Connections kept to the signer: one per reconcile worker, so a burst never waits for a socket. */
  readonly maxSockets?: number;
  /** Called with the endpoint, the HTTP status (or "error") and the duration, for metrics. */
  readonly observe?: (endpoint: string, status: string, seconds: number) => void;
  /** Called with the number of sign requests each request to /v1/sign or /v1/sign-batch carries, for metrics. */
  readonly observeItems?: (items: number) => void;
  /**
   * How long (ms) a look at the files holds: a request within it of the last look uses what was read then.
   * Default 1000; 0 looks at every request.
   */
  readonly filesRecheckMs?: number;
}

// The signer's answers are small (a chain of a few certificates); anything much larger is not the signer.
const MAX_ANSWER_BYTES = 1024 * 1024;

interface Material {
  readonly stamp: string;
  readonly agent: Agent;
}

/** Creates the production SignerClient over node:https. Reads the files once now so bad paths fail at start. */
export function createHttpSignerClient(options: HttpSignerClientOptions): SignerClient & BatchSigner & PodSigner {
  let material: Material | undefined;
  let token: { stamp: string; value: string } | undefined;
  // Four stat calls per request were measurable in a burst: the files are looked at once per window.
  const recheckMs = options.filesRecheckMs ?? 1000;
  let looked: { readonly at: number; readonly agent: Agent; readonly token: string | undefined } | undefined;

  const agent = (): Agent => {
    const stamp = stampOf([options.clientCertFile, options.clientKeyFile, options.caFile]);
    if (material?.stamp === stamp) return material.agent;
    const next = poolOf(options);
    material?.agent.destroy();
    material = { stamp, agent: next };
    return next;
  };

  const bearer = (): string | undefined => {
    if (options.tokenFile === undefined) return undefined;
    const stamp = stampOf([options.tokenFile]);
    if (token?.stamp !== stamp) token = { stamp, value: readFileSync(options.tokenFile, "utf8").trim() };
    return token.value;
  };

  // Fail at start-up, naming the file, rather than on the first CSR.
  try {
    agent();
    bearer();
  } catch (error) {
    throw new SignerCallError(`cannot read the signer client's files: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }

  const files = (now: number): { readonly agent: Agent; readonly token: string | undefined } => {
    if (looked === undefined || now - looked.at >= recheckMs) looked = { at: now, agent: agent(), token: bearer() };
    return looked;
  };

  const targetOf = endpointTargets(options.url);
  const call = async (endpoint: string, method: "GET" | "POST", body: string | undefined, signal?: AbortSignal): Promise<unknown> => {
    const started = performance.now();
    let status = "error";
    try {
      const { agent: pool, token: bearerToken } = files(started);
      const answer = await send(targetOf(endpoint), method, body, pool, bearerToken, options.timeoutMs, signal);
      status = String(answer.status);
      return interpret(answer);
    } finally {
      options.observe?.(endpoint, status, (performance.now() - started) / 1000);
    }
  };

  return {
    async sign(request, signal) {
      const body = JSON.stringify(request);
      // The signer would answer 413; saying so here saves the round trip and gives the same verdict.
      if (Buffer.byteLength(body) > MAX_BODY_BYTES) throw tooLargeError();
      options.observeItems?.(1);
      const json = await call("v1/sign", "POST", body, signal);
      const parsed = SignResponse.safeParse(json);
      if (!parsed.success) throw new SignerCallError(`the signer's /v1/sign answer does not match the schema: ${parsed.error.message}`, { status: 200, invalidAnswer: true });
      return parsed.data;
    },
    signBatch: (requests, signal) => signBatchWith((body) => call("v1/sign-batch", "POST", body, signal), requests, options.observeItems),
    async signPod(request, signal) {
      const json = await call("v1/sign-pod", "POST", JSON.stringify(request), signal);
      const parsed = PodSignResponse.safeParse(json);
      if (!parsed.success) throw new SignerCallError(`the signer's /v1/sign-pod answer does not match the schema: ${parsed.error.message}`, { status: 200, invalidAnswer: true });
      return parsed.data;
    },
    async bundle(signal) {
      const json = await call("v1/bundle", "GET", undefined, signal);
      const parsed = Bundle.safeParse(json);
      if (!parsed.success) throw new SignerCallError(`the signer's /v1/bundle answer does not match the schema: ${parsed.error.message}`, { status: 200, invalidAnswer: true });
      return parsed.data;
    },
    close() {
      material?.agent.destroy();
      material = undefined;
      looked = undefined;
    },
  };
}

/** `requests` over `post` (one /v1/sign-batch request per body of planBatches), one outcome per request in order. */
async function signBatchWith(post: (body: string) => Promise<unknown>, requests: readonly SignRequest[], observeItems: ((items: number) => void) | undefined): Promise<SignOutcome[]> {
  const { bodies, refused } = planBatches(requests);
  const outcomes = new Map<number, SignOutcome>(refused);
  await Promise.all(bodies.map(async ({ indices, body }) => {
    observeItems?.(indices.length);
    let answers: SignOutcome[];
    try {
      answers = outcomesOf(await post(body), indices.length);
    } catch (error) {
      const failure = error instanceof SignerCallError ? error : asSignerCallError(error instanceof Error ? error : new Error(String(error)));
      answers = Array<SignOutcome>(indices.length).fill(BatchRequestError.of(failure));
    }
    answers.forEach((answer, k) => { outcomes.set(indices[k] ?? -1, answer); });
  }));
  // Every index is in `refused` or in one body, whose answers are exactly as many as its requests.
  return requests.map((_r, index) => outcomes.get(index) ?? new SignerCallError("the shim lost this request's outcome"));
}

interface Answer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly text: string;
}

/** The keep-alive pool for the signer with the files' TLS material, read now. */
function poolOf(options: HttpSignerClientOptions): Agent {
  const extraCa = options.caFile === undefined ? [] : [readFileSync(options.caFile, "utf8")];
  // One TLS context for every connection, built once. Passing cert/key/ca to the Agent instead makes
  // node:https join them (with ~140 system roots when a CA file is added) into the pool key of every
  // request and parse them again for every new connection: measured at 2–4 ms of CPU per certificate.
  const secureContext = createSecureContext({
    cert: readFileSync(options.clientCertFile, "utf8"),
    key: readFileSync(options.clientKeyFile, "utf8"),
    // `ca` replaces the default roots, so add them back: production trusts the system store only.
    ...(extraCa.length > 0 ? { ca: [...rootCertificates, ...extraCa] } : {}),
  });
  return new Agent({
    keepAlive: true,
    // A worker per socket, plus room for the bundle refresh.
    maxSockets: (options.maxSockets ?? 64) + 2,
    maxFreeSockets: (options.maxSockets ?? 64) + 2,
    secureContext,
  });
}

/** The files' stamp, one stat per file: a changed modification time or size is a rotation. */
function stampOf(files: readonly (string | undefined)[]): string {
  let stamp = "";
  for (const f of files) {
    if (f === undefined) {
      stamp += "-|";
      continue;
    }
    const stat = statSync(f);
    stamp += `${stat.mtimeMs}:${stat.size}|`;
  }
  return stamp;
}

/** Each endpoint's URL under `base` as node:https's options, parsed once (a URL per request costs a parse and a conversion). */
function endpointTargets(base: string): (endpoint: string) => RequestTarget {
  const targets = new Map<string, RequestTarget>();
  return (endpoint) => {
    let target = targets.get(endpoint);
    if (target === undefined) {
      target = requestTargetOf(new URL(endpoint, `${base}/`));
      targets.set(endpoint, target);
    }
    return target;
  };
}

function send(target: RequestTarget, method: string, body: string | undefined, agent: Agent, token: string | undefined, timeoutMs: number, signal?: AbortSignal): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { accept: "application/json, application/problem+json" };
    if (body !== undefined) headers["content-type"] = "application/json";
    if (token !== undefined) headers["authorization"] = `Bearer ${token}`;
    const req = httpsRequest({ ...target, method, agent, headers, timeout: timeoutMs, ...(signal === undefined ? {} : { signal }) }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on("data", (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_ANSWER_BYTES) {
          req.destroy(new SignerCallError(`the signer's answer is over ${MAX_ANSWER_BYTES} bytes`, { status: res.statusCode ?? 0, invalidAnswer: res.statusCode === 200 }));
          return;
        }
        chunks.push(chunk);
      });
      res.on("end", () => {
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString("utf8") });
      });
      res.on("error", (error) => {
        reject(asSignerCallError(error));
      });
    });
    req.on("timeout", () => req.destroy(new SignerCallError(`no answer from the signer within ${timeoutMs} ms`)));
    req.on("error", (error) => {
      reject(asSignerCallError(error));
    });
    req.end(body);
  });
}

function asSignerCallError(error: Error): SignerCallError {
  if (error instanceof SignerCallError) return error;
  const code = "code" in error && typeof error.code === "string" ? ` (${error.code})` : "";
  return new SignerCallError(`cannot reach the signer: ${error.message}${code}`, { cause: error });
}

function interpret(answer: Answer): unknown {
  let json: unknown;
  try {
    json = JSON.parse(answer.text);
  } catch {
    json = undefined;
  }
  if (answer.status === 200) {
    if (json === undefined) throw new SignerCallError("the signer answered 200 with a body that is not JSON", { status: 200, invalidAnswer: true });
    return json;
  }
  const problem = Problem.safeParse(json);
  throw refusalError(answer.status, problem.success ? problem.data : undefined, parseRetryAfter(answer.headers["retry-after"]));
}

/** Retry-After (RFC 9110 §10.2.3): delay-seconds or an HTTP-date. Returns ms, or undefined when absent/bad. */
export function parseRetryAfter(value: string | string[] | undefined, now = Date.now()): number | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  if (v === undefined) return undefined;
  if (/^\d+$/.test(v.trim())) return Number(v.trim()) * 1000;
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}
