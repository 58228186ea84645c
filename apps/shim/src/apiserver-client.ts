/**
 * The shim's client for its hot kube-apiserver calls: the CSR/PodCertificateRequest list+watch and the
 * status writes. Plain JSON over node:http(s) with one keep-alive pool and a line splitter for watches,
 * instead of @kubernetes/client-node's undici fetch and ObjectSerializer, which cost the shim more CPU per
 * certificate than the rest of its work (docs/shim.md "Cost per certificate"). Everything else (leases,
 * events, secrets, discovery) stays on client-node.
 *
 * The connection comes from the KubeConfig as client-node builds it (`applyToHTTPSOptions`): server, CA,
 * client certificate and key, skip-TLS-verify, TLS server name, bearer token or token file (its
 * authenticator re-reads the file every 60 s), impersonation, basic auth. That is asked again at most once a
 * second; a changed CA, certificate or key gets a new pool. Faults carry the HTTP status as `statusCode`
 * (kube-error.ts names them `ApiserverHttpNNN`); a request that gets no answer is `ApiserverUnreachable`.
 */
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage, type OutgoingHttpHeaders } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest, type RequestOptions } from "node:https";
import { createSecureContext } from "node:tls";
import type { KubeConfig } from "@kubernetes/client-node";
import { requestTargetOf } from "./request-target.ts";

/** kube-apiserver answered with a status other than 2xx. */
export class ApiserverError extends Error {
  override readonly name = "ApiserverError";
  constructor(
    readonly statusCode: number,
    /** The apiserver's `Status` message, or the start of the body. */
    readonly apiserverMessage: string,
  ) {
    super(`HTTP ${statusCode}${apiserverMessage === "" ? "" : `: ${apiserverMessage}`}`);
  }
}

/** One watch event as the apiserver streams it. */
export interface WatchEvent {
  readonly type: string;
  readonly object: unknown;
}

interface Connection {
  readonly key: string;
  readonly server: URL;
  readonly agent: HttpAgent;
  readonly headers: OutgoingHttpHeaders;
  readonly at: number;
}

const USER_AGENT = "edgeca-shim";
const REFRESH_MS = 1_000;
const REQUEST_TIMEOUT_MS = 60_000;
/** A watch that sends nothing for this long is dead (client-node's Watch uses the same 30 s). */
const WATCH_IDLE_MS = 30_000;
const clients = new WeakMap<KubeConfig, ApiserverClient>();

export class ApiserverClient {
  readonly #kubeConfig: KubeConfig;
  #connection: Connection | undefined;
  #pending: Promise<Connection> | undefined;

  constructor(kubeConfig: KubeConfig) {
    this.#kubeConfig = kubeConfig;
  }

  /** The one client of `kubeConfig` (so the caches and the status writes share one pool). */
  static for(kubeConfig: KubeConfig): ApiserverClient {
    let client = clients.get(kubeConfig);
    if (client === undefined) {
      client = new ApiserverClient(kubeConfig);
      clients.set(kubeConfig, client);
    }
    return client;
  }

  /** Sends `body` (JSON) and resolves the parsed JSON answer; throws ApiserverError on a non-2xx status. */
  async json<T>(method: "GET" | "PUT" | "POST", path: string, body?: unknown): Promise<T> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const res = await this.#send(method, path, payload, REQUEST_TIMEOUT_MS);
    const text = await readText(res);
    if (res.statusCode === undefined || res.statusCode < 200 || res.statusCode > 299) throw apiserverError(res.statusCode ?? 0, text);
    try {
      return JSON.parse(text) as T;
    } catch {
      // A proxy's HTML page, a truncated answer: named with the call, not as a bare SyntaxError.
      throw apiserverError(res.statusCode, `${method} ${path.split("?")[0] ?? ""} answered ${res.statusCode} with a body that is not JSON: ${text.slice(0, 200)}`);
    }
  }

  /**
   * Streams a watch (`path` with its query, `watch=true` added) to `onEvent` until the apiserver ends it
   * (resolves), it fails or stays silent for 30 s (rejects), or `signal` aborts (resolves). `onOpen` is
   * called once the apiserver accepted the watch.
   */
  async watch(path: string, onEvent: (event: WatchEvent) => void, signal: AbortSignal, onOpen?: () => void): Promise<void> {
    const res = await this.#send("GET", `${path}${path.includes("?") ? "&" : "?"}watch=true`, undefined, WATCH_IDLE_MS, signal);
    if (res.statusCode !== 200) throw apiserverError(res.statusCode ?? 0, await readText(res));
    onOpen?.();
    await new Promise<void>((resolve, reject) => {
      const stop = (): void => { res.destroy(); resolve(); };
      signal.addEventListener("abort", stop, { once: true });
      res.setEncoding("utf8");
      const lines = splitLines((line) => {
        const event = JSON.parse(line) as WatchEvent;
        onEvent(event);
      });
      res.on("data", (chunk: string) => {
        try {
          lines.push(chunk);
        } catch (error) {
          res.destroy(error instanceof Error ? error : new Error(String(error)));
        }
      });
      res.on("end", () => { signal.removeEventListener("abort", stop); resolve(); });
      res.on("error", (error) => {
        signal.removeEventListener("abort", stop);
        if (signal.aborted) resolve();
        else reject(error);
      });
    });
  }

  /** Closes the pooled connections; a later call opens a new pool. */
  close(): void {
    this.#connection?.agent.destroy();
    this.#connection = undefined;
  }

  /** Closes the pool of `kubeConfig`'s client, if it has one (PooledKubeConfig.close). */
  static close(kubeConfig: KubeConfig): void {
    clients.get(kubeConfig)?.close();
  }

  async #send(method: string, path: string, payload: string | undefined, timeoutMs: number, signal?: AbortSignal): Promise<IncomingMessage> {
    const connection = await this.#current();
    try {
      return await sendOnce(connection, method, path, payload, timeoutMs, signal);
    } catch (error) {
      // The apiserver closed a kept-alive connection as we reused it: nothing was answered, send again.
      if (!(error instanceof Error && "reusedSocket" in error && error.reusedSocket === true)) throw error;
      return await sendOnce(connection, method, path, payload, timeoutMs, signal);
    }
  }

  /** The connection material, asked of the KubeConfig again once it is a second old. */
  async #current(): Promise<Connection> {
    const c = this.#connection;
    if (c !== undefined && Date.now() - c.at < REFRESH_MS) return c;
    this.#pending ??= this.#build(c)
      .then((next) => (this.#connection = next))
      .finally(() => { this.#pending = undefined; });
    return await this.#pending;
  }

  async #build(previous: Connection | undefined): Promise<Connection> {
    const cluster = this.#kubeConfig.getCurrentCluster();
    if (cluster === null) throw new Error("the kubeconfig has no current cluster");
    if (cluster.proxyUrl !== undefined && cluster.proxyUrl !== "") throw new Error("the kubeconfig's proxy-url is not supported by the shim's apiserver client");
    const opts: RequestOptions = {};
    await this.#kubeConfig.applyToHTTPSOptions(opts);
    const server = new URL(cluster.server);
    const tls = { ca: opts.ca, cert: opts.cert, key: opts.key, servername: opts.servername, rejectUnauthorized: opts.rejectUnauthorized };
    const key = JSON.stringify([server.origin, tls.servername, tls.rejectUnauthorized, text(tls.ca), text(tls.cert), text(tls.key)]);
    // The user agent names the field manager of our writes (managedFields) and the client in audit logs.
    const headers: OutgoingHttpHeaders = { ...(opts.headers as OutgoingHttpHeaders | undefined), accept: "application/json", "user-agent": USER_AGENT };
    if (opts.auth !== undefined && opts.auth !== null) headers["authorization"] ??= `Basic ${Buffer.from(opts.auth).toString("base64")}`;
    if (previous?.key === key) return { ...previous, headers, at: Date.now() };
    // One TLS context built once: CA/cert/key on the Agent would be re-parsed for every connection.
    const agent =
      server.protocol === "https:"
        ? new HttpsAgent({
            keepAlive: true,
            secureContext: createSecureContext({ ca: tls.ca, cert: tls.cert, key: tls.key }),
            ...(tls.servername === undefined ? {} : { servername: tls.servername }),
            ...(tls.rejectUnauthorized === undefined ? {} : { rejectUnauthorized: tls.rejectUnauthorized }),
          })
        : new HttpAgent({ keepAlive: true });
    // The old pool's watches and writes finish on it; its connections close once idle.
    if (previous !== undefined) setTimeout(() => { previous.agent.destroy(); }, 2 * WATCH_IDLE_MS).unref();
    return { key, server, agent, headers, at: Date.now() };
  }
}

function sendOnce(c: Connection, method: string, path: string, payload: string | undefined, timeoutMs: number, signal?: AbortSignal): Promise<IncomingMessage> {
  const headers: OutgoingHttpHeaders = { ...c.headers };
  if (payload !== undefined) {
    headers["content-type"] = "application/json";
    headers["content-length"] = Buffer.byteLength(payload);
  }
  const send = c.server.protocol === "https:" ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = send({ ...requestTargetOf(c.server, path), method, headers, agent: c.agent, timeout: timeoutMs, ...(signal === undefined ? {} : { signal }) }, resolve);
    req.on("timeout", () => req.destroy(new Error(`no answer from kube-apiserver within ${timeoutMs / 1000} s`)));
    req.on("error", (error: NodeJS.ErrnoException) => {
      const reusedSocket = req.reusedSocket && error.code === "ECONNRESET";
      // kube-error.ts `kubeMessage` appends the cause: "GET https://…/certificatesigningrequests failed: connect ECONNREFUSED …".
      reject(Object.assign(new Error(`${method} ${c.server.origin}${path.split("?")[0] ?? ""} failed`, { cause: error }), { reusedSocket }));
    });
    req.end(payload);
  });
}

/** The whole body as UTF-8, decoded once (no async iterator or string decoder per answer). */
function readText(res: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on("data", (chunk: Buffer) => chunks.push(chunk));
    res.once("end", () => { resolve((chunks.length === 1 ? chunks[0] ?? Buffer.alloc(0) : Buffer.concat(chunks)).toString("utf8")); });
    res.once("error", reject);
  });
}

function apiserverError(status: number, body: string): ApiserverError {
  let message = body.slice(0, 300);
  try {
    const parsed: unknown = JSON.parse(body);
    if (typeof parsed === "object" && parsed !== null && "message" in parsed && typeof parsed.message === "string") message = parsed.message;
  } catch {
    // not a Status object: keep the start of the body
  }
  return new ApiserverError(status, message);
}

function text(value: unknown): string {
  if (value === undefined || value === null) return "";
  if (Buffer.isBuffer(value) || typeof value === "string") return value.toString();
  return JSON.stringify(value);
}

/** Calls `onLine` for every complete, non-empty line of the chunks pushed (a watch sends one event a line). */
export function splitLines(onLine: (line: string) => void): { push(chunk: string): void } {
  let rest = "";
  return {
    push(chunk) {
      const data = rest === "" ? chunk : rest + chunk;
      let start = 0;
      for (let nl = data.indexOf("\n"); nl !== -1; nl = data.indexOf("\n", start)) {
        const line = data.slice(start, nl);
        start = nl + 1;
        if (line.trim() !== "") onLine(line);
      }
      rest = data.slice(start);
    },
  };
}
