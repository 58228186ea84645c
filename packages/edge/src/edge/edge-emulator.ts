/**
 * A local stand-in for Cloudflare's edge in front of the signer Worker: TLS on 127.0.0.1 with client
 * certificates requested but not required at the handshake, the verdict handed to the Worker as
 * `cf.tlsClientAuth` (docs/signer-api.md "Authentication"). The Worker, not the emulator, decides
 * what a missing or failed certificate means — exactly as on Cloudflare, where the edge only reports.
 *
 * Requests go on as plain HTTP/1.1 to workerd's own socket(s), with the `cf` object in workerd's cf-blob
 * header (see upstream-pool.ts). The edge reads each body first (≤ `maxBodyBytes`), so the Worker always
 * gets a Content-Length and a body over either limit is a 413, never a broken upload.
 */
import { once } from "node:events";
import { createServer, type ServerOptions } from "node:https";
import { STATUS_CODES, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { TLSSocket } from "node:tls";
import { edgeProblem, type EdgeAnswer } from "./edge-problem.ts";
import { requestHeadersToForward, responseHeadersToReturn } from "./forwarded-headers.ts";
import { readRequestBody } from "./request-body.ts";
import { parseRequestTarget } from "./request-target.ts";
import { createServerCertificate, type ServerCertificate } from "./server-certificate.ts";
import { CfBlobs } from "./cf-blob.ts";
import { UpstreamPool, type EdgeOrigin, type UpstreamAnswer } from "./upstream-pool.ts";

/** Where the emulator forwards: plain-HTTP origins (workerd sockets) that read `cf` from `cfBlobHeader`. */
export interface EdgeUpstream {
  /** One or more; each request goes to the one with the fewest requests in flight. */
  readonly origins: readonly EdgeOrigin[];
  /** The header workerd's socket reads `request.cf` from (Miniflare's direct sockets: `MF-CF-Blob`). */
  readonly cfBlobHeader: string;
}

export interface EdgeEmulatorOptions {
  /** PEM of the CA(s) client certificates must chain to (Cloudflare's per-zone client CA). */
  readonly clientCaPem: string;
  readonly upstream: EdgeUpstream;
  /** 0 or absent: a free port. */
  readonly port?: number;
  /** Request bodies over this are refused with 413 before they reach the upstream (default 1 MiB). */
  readonly maxBodyBytes?: number;
  /** The serving identity to use (e.g. kept across restarts); absent: a fresh one. */
  readonly identity?: ServerCertificate;
  /** Added before every answer is sent (default 0): production's round trip to Cloudflare, emulated. */
  readonly answerDelayMs?: number;
  /** Listen with SO_REUSEPORT, so several edges (one per thread) share the port and the kernel spreads connections. */
  readonly reusePort?: boolean;
}

export interface EdgeEmulator {
  /** `https://127.0.0.1:PORT` */
  readonly url: string;
  readonly port: number;
  /** PEM of the CA that issued the emulator's serving certificate: trust it to reach `url`. */
  readonly serverCaPem: string;
  /** Stops listening and drops open connections; resolves once the port is free. */
  close(): Promise<void>;
}

const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;

/** Methods Cloudflare passes to a Worker; anything else (TRACE, CONNECT, extension methods) is the edge's 405. */
const FORWARDED_METHODS = new Set(["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"]);
const ALLOW = [...FORWARDED_METHODS].join(", ");
const WITHOUT_BODY = new Set(["GET", "HEAD", "OPTIONS", "DELETE"]);

function fromUpstream(method: string, answer: UpstreamAnswer): EdgeAnswer {
  const headers = responseHeadersToReturn(answer.rawHeaders);
  // A HEAD answer has no body but keeps the length the GET would have.
  const declared = method === "HEAD" ? answer.rawHeaders.findIndex((h, i) => i % 2 === 0 && h.toLowerCase() === "content-length") : -1;
  headers.push("content-length", declared >= 0 ? (answer.rawHeaders[declared + 1] ?? "0") : String(answer.body.length));
  return { status: answer.status, headers, body: answer.body };
}

interface Context {
  readonly options: EdgeEmulatorOptions;
  readonly pool: UpstreamPool;
  readonly cfBlobs: CfBlobs;
  readonly limit: number;
  authority: string;
}

/** Decides the answer for one request: the edge's own refusal, or the Worker's answer. */
async function answerFor(req: IncomingMessage, ctx: Context): Promise<EdgeAnswer> {
  const method = req.method ?? "";
  if (!FORWARDED_METHODS.has(method)) return edgeProblem(405, "method_not_allowed", `method ${method.slice(0, 40)} is not forwarded`, ["allow", ALLOW]);
  const target = parseRequestTarget(req.url);
  if (!target.ok) return edgeProblem(400, "invalid_request", target.reason);
  const tooLarge = (): EdgeAnswer => edgeProblem(413, "payload_too_large", `request body over ${ctx.limit} bytes`, ["connection", "close"]);
  const declared = req.headers["content-length"];
  if (declared !== undefined && Number(declared) > ctx.limit) return tooLarge();
  if (!(req.socket instanceof TLSSocket)) throw new Error("request did not arrive over TLS");
  const hasBody = declared !== undefined || req.headers["transfer-encoding"] !== undefined || !WITHOUT_BODY.has(method);
  const body = hasBody ? await readRequestBody(req, ctx.limit) : ({ kind: "complete", chunks: [], bytes: 0 } as const);
  if (body.kind === "too-large") return tooLarge();
  if (body.kind === "aborted") return edgeProblem(400, "invalid_request", "the request body broke off");
  const headers = requestHeadersToForward(req.rawHeaders, {
    host: ctx.authority,
    clientIp: req.socket.remoteAddress ?? "127.0.0.1",
    cfBlobHeader: ctx.options.upstream.cfBlobHeader,
    cfBlob: ctx.cfBlobs.for(req.socket),
    ...(hasBody ? { contentLength: body.bytes } : {}),
  });
  try {
    return fromUpstream(method, await ctx.pool.send({ method, path: target.path, headers, body: body.chunks }));
  } catch (error) {
    return edgeProblem(502, "unavailable", `the upstream failed: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/** An answer as bytes on the wire, for a connection Node's HTTP server has given up on. */
function rawAnswer(answer: EdgeAnswer): Buffer {
  const lines = [`HTTP/1.1 ${answer.status} ${STATUS_CODES[answer.status] ?? ""}`];
  for (let i = 0; i + 1 < answer.headers.length; i += 2) lines.push(`${answer.headers[i] ?? ""}: ${answer.headers[i + 1] ?? ""}`);
  return Buffer.concat([Buffer.from(`${lines.join("\r\n")}\r\n\r\n`), answer.body]);
}

function send(res: ServerResponse, answer: EdgeAnswer, delayMs: number): void {
  const write = (): void => {
    if (res.destroyed) return;
    res.writeHead(answer.status, [...answer.headers]);
    res.end(answer.body);
  };
  if (delayMs > 0) setTimeout(write, delayMs);
  else write();
}

/**
 * Starts the emulator on 127.0.0.1. Every request reaches the upstream with `cf.tlsClientAuth` describing
 * the client certificate (or its absence); the answer comes back with its status, headers and body.
 */
export async function startEdgeEmulator(options: EdgeEmulatorOptions): Promise<EdgeEmulator> {
  const identity = options.identity ?? (await createServerCertificate());
  const tls: ServerOptions = {
    key: identity.keyPem,
    cert: identity.certPem,
    // OpenSSL verifies the client's chain against these during the handshake; the verdict is reported,
    // never enforced here (rejectUnauthorized: false), like Cloudflare's edge without a WAF rule.
    ca: options.clientCaPem,
    requestCert: true,
    rejectUnauthorized: false,
    minVersion: "TLSv1.2",
  };
  const ctx: Context = { options, pool: new UpstreamPool(options.upstream.origins), cfBlobs: new CfBlobs(), limit: options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES, authority: "" };
  const delayMs = options.answerDelayMs ?? 0;
  const server = createServer(tls, (req, res) => {
    answerFor(req, ctx).then(
      (answer) => {
        send(res, answer, delayMs);
      },
      (error: unknown) => {
        send(res, edgeProblem(502, "unavailable", error instanceof Error ? error.message : String(error)), delayMs);
      },
    );
  });
  // Node's 5 s default idle timeout races with a pooled client that reuses a connection just as the server
  // closes it ("socket hang up"); Cloudflare keeps idle client connections far longer.
  server.keepAliveTimeout = 120_000;
  // Requests Node's parser refuses (a malformed request line, oversized headers) get the edge's problem
  // too, instead of Node's bare text answer.
  server.on("clientError", (error: NodeJS.ErrnoException, socket) => {
    if (!socket.writable) return;
    const tooLarge = error.code === "HPE_HEADER_OVERFLOW";
    socket.end(rawAnswer(edgeProblem(tooLarge ? 431 : 400, "invalid_request", tooLarge ? "request headers too large" : `malformed request (${error.code ?? error.message})`, ["connection", "close"])));
  });
  server.listen({ port: options.port ?? 0, host: "127.0.0.1", reusePort: options.reusePort === true });
  await once(server, "listening");
  const port = (server.address() as AddressInfo).port;
  ctx.authority = `127.0.0.1:${port}`;
  return {
    url: `https://${ctx.authority}`,
    port,
    serverCaPem: identity.caPem,
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => { resolve(); }));
      server.closeAllConnections();
      ctx.pool.close();
      await closed;
    },
  };
}
