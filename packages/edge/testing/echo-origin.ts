/**
 * A plain-HTTP origin for the edge's tests that behaves like workerd's direct socket where it matters:
 * it reads `cf` from the cf-blob header and drops that header, and answers what it received as JSON.
 * `/teapot` answers 418 with a header of its own, `/chunked` answers with chunked transfer coding, `/refuse-large` refuses a body over 64 KiB by its
 * declared length without reading it (as the Worker does) and then closes, and `/mf-leak` answers with
 * `mf-*` headers the edge must not return.
 */
import { once } from "node:events";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { EdgeRequestCf } from "../src/edge/cf-blob.ts";

export const ECHO_CF_BLOB_HEADER = "MF-CF-Blob";

export interface Echo {
  method: string;
  path: string;
  headers: Record<string, string>;
  /** Every header line as received, names as sent. */
  rawHeaders: string[];
  bodyBytes: number;
  cf: EdgeRequestCf;
}

export interface EchoOrigin {
  readonly host: string;
  readonly port: number;
  /** Requests answered so far. */
  readonly seen: () => number;
  close(): Promise<void>;
}

function answer(req: IncomingMessage, res: ServerResponse, body: Buffer): void {
  const path = req.url ?? "";
  if (path === "/teapot") {
    res.writeHead(418, { "x-kettle": "on", "content-type": "text/plain" }).end("short and stout");
    return;
  }
  if (path === "/chunked") {
    // No length: node:http frames this with chunked transfer coding, with a trailer.
    res.writeHead(200, { "content-type": "text/plain", trailer: "x-sum" });
    res.write("first,");
    res.write("second,");
    res.addTrailers({ "x-sum": "2" });
    res.end("third");
    return;
  }
  if (path === "/mf-leak") {
    res.writeHead(200, { "mf-content-encoding": "gzip", "MF-Experimental-Error-Stack": "x", "content-type": "text/plain" }).end("ok");
    return;
  }
  const blob = req.headers[ECHO_CF_BLOB_HEADER.toLowerCase()];
  const headers: Record<string, string> = {};
  const rawHeaders: string[] = [];
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i] ?? "";
    if (name.toLowerCase() === ECHO_CF_BLOB_HEADER.toLowerCase()) continue;
    rawHeaders.push(name);
    headers[name.toLowerCase()] = req.rawHeaders[i + 1] ?? "";
  }
  const echo: Echo = { method: req.method ?? "", path, headers, rawHeaders, bodyBytes: body.length, cf: JSON.parse(typeof blob === "string" ? blob : "{}") as EdgeRequestCf };
  res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(echo));
}

/** Starts the origin on 127.0.0.1 at a free port. */
export async function startEchoOrigin(): Promise<EchoOrigin> {
  let seen = 0;
  const server: Server = createServer((req, res) => {
    seen += 1;
    if (req.url === "/refuse-large" && Number(req.headers["content-length"] ?? "0") > 64 * 1024) {
      // What workerd does when the Worker answers without reading: answer, then close with data unread.
      res.writeHead(413, { "content-type": "application/problem+json", connection: "close" }).end('{"code":"payload_too_large"}');
      res.on("finish", () => req.socket.destroy());
      return;
    }
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      answer(req, res, Buffer.concat(chunks));
    });
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  return {
    host: "127.0.0.1",
    port,
    seen: () => seen,
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => { resolve(); }));
      server.closeAllConnections();
      await closed;
    },
  };
}
