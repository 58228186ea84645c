/**
 * A local stand-in for Cloudflare's edge in front of the signer Worker: TLS on 127.0.0.1 with client
 * certificates requested but not required at the handshake, the verdict handed to the upstream as
 * `cf.tlsClientAuth` (DESIGN.md "Authentication of the shim"). The Worker, not the emulator, decides
 * what a missing or failed certificate means — exactly as on Cloudflare, where the edge only reports.
 */
import { once } from "node:events";
import { createServer, type ServerOptions } from "node:https";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { ReadableStream as NodeReadableStream } from "node:stream/web";
import { TLSSocket } from "node:tls";
import { createServerCertificate, type ServerCertificate } from "./server-certificate.ts";
import { describeClientCertificate, type TlsClientAuth } from "./tls-client-auth.ts";

/** The `cf` object the emulator hands the upstream (only the part the signer reads). */
export interface EdgeRequestCf {
  readonly tlsClientAuth: TlsClientAuth;
}

/** Where the emulator forwards each request: the Worker (e.g. Miniflare's `dispatchFetch`) or a stand-in. */
export type EdgeUpstream = (request: Request, cf: EdgeRequestCf) => Promise<Response>;

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

/** Headers that describe one HTTP/1.1 hop and must not be forwarded (RFC 9110 §7.6.1). */
const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
]);

class BodyTooLargeError extends Error {
  override readonly name = "BodyTooLargeError";
}

/** Node's request body as a web stream that errors once more than `limit` bytes have arrived. */
function cappedBody(req: IncomingMessage, limit: number): ReadableStream<Uint8Array> {
  let seen = 0;
  const counter = new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, controller) {
      seen += chunk.byteLength;
      if (seen > limit) controller.error(new BodyTooLargeError(`request body over ${limit} bytes`));
      else controller.enqueue(chunk);
    },
  });
  return (Readable.toWeb(req) as ReadableStream<Uint8Array>).pipeThrough(counter);
}

function forwardedHeaders(req: IncomingMessage): Headers {
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined || HOP_BY_HOP.has(name)) continue;
    for (const v of Array.isArray(value) ? value : [value]) headers.append(name, v);
  }
  // What Cloudflare adds on the way to a Worker.
  headers.set("cf-connecting-ip", req.socket.remoteAddress ?? "127.0.0.1");
  headers.set("x-forwarded-proto", "https");
  return headers;
}

function plain(res: ServerResponse, status: number, text: string): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.writeHead(status, { "content-type": "text/plain; charset=utf-8" });
  res.end(`${text}\n`);
}

async function relay(req: IncomingMessage, res: ServerResponse, origin: string, options: EdgeEmulatorOptions): Promise<void> {
  const limit = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const declared = Number(req.headers["content-length"] ?? "0");
  if (declared > limit) {
    plain(res, 413, `edge emulator: request body over ${limit} bytes`);
    req.resume();
    return;
  }
  if (!(req.socket instanceof TLSSocket)) throw new Error("request did not arrive over TLS");
  const cf: EdgeRequestCf = { tlsClientAuth: describeClientCertificate(req.socket) };
  const method = req.method ?? "GET";
  const hasBody = method !== "GET" && method !== "HEAD";
  const request = new Request(new URL(req.url ?? "/", origin), {
    method,
    headers: forwardedHeaders(req),
    ...(hasBody ? { body: cappedBody(req, limit), duplex: "half" } : {}),
  });
  let response: Response;
  try {
    response = await options.upstream(request, cf);
  } catch (error) {
    if (error instanceof BodyTooLargeError || (error instanceof Error && error.cause instanceof BodyTooLargeError)) {
      plain(res, 413, `edge emulator: request body over ${limit} bytes`);
    } else {
      plain(res, 502, `edge emulator: the upstream failed: ${error instanceof Error ? error.message : String(error)}`);
    }
    return;
  }
  const headers: Record<string, string | string[]> = {};
  response.headers.forEach((value, name) => {
    if (!HOP_BY_HOP.has(name) && name !== "set-cookie") headers[name] = value;
  });
  const cookies = response.headers.getSetCookie();
  if (cookies.length > 0) headers["set-cookie"] = cookies;
  res.writeHead(response.status, headers);
  if (response.body === null) {
    res.end();
    return;
  }
  await pipeline(Readable.fromWeb(response.body as NodeReadableStream<Uint8Array>), res);
}

/**
 * Starts the emulator on 127.0.0.1. Every request reaches `upstream` with `cf.tlsClientAuth` describing
 * the client certificate (or its absence); the answer is streamed back unchanged.
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
  let origin = "";
  const server = createServer(tls, (req, res) => {
    relay(req, res, origin, options).catch((error: unknown) => {
      plain(res, 502, `edge emulator: ${error instanceof Error ? error.message : String(error)}`);
    });
  });
  server.listen(options.port ?? 0, "127.0.0.1");
  await once(server, "listening");
  const port = (server.address() as AddressInfo).port;
  origin = `https://127.0.0.1:${port}`;
  return {
    url: origin,
    port,
    serverCaPem: identity.caPem,
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => { resolve(); }));
      server.closeAllConnections();
      await closed;
    },
  };
}
