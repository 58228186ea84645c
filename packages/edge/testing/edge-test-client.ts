/** Clients for the edge's tests: one HTTPS request (optionally with a client certificate), or raw bytes over TLS. */
import { request } from "node:https";
import { connect } from "node:tls";
import type { EdgeEmulator } from "../src/edge/edge-emulator.ts";
import type { TestCertificate } from "@edgeca/testenv";

export interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

export interface CallOptions {
  client?: TestCertificate;
  method?: string;
  body?: Buffer | string;
  headers?: Record<string, string>;
  /** Written one after the other without a Content-Length (chunked). */
  chunks?: readonly Buffer[];
}

/** One request on a fresh connection. */
export function call(edge: EdgeEmulator, path: string, options: CallOptions = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${edge.url}${path}`,
      {
        method: options.method ?? "GET",
        ca: edge.serverCaPem,
        agent: false,
        headers: options.headers,
        ...(options.client === undefined ? {} : { cert: options.client.certPem, key: options.client.keyPem }),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() });
        });
        res.on("error", reject);
      },
    );
    // The edge may answer 413 and close before a large upload is written: the answer is what counts.
    req.on("error", reject);
    for (const chunk of options.chunks ?? []) req.write(chunk);
    req.end(options.body);
  });
}

/**
 * Sends `raw` as it is over TLS (it should ask for `connection: close`) and resolves with everything
 * the edge sent back until it closed. The write side stays open: a half-close would abort the request.
 */
export function rawCall(edge: EdgeEmulator, raw: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: "127.0.0.1", port: edge.port, ca: edge.serverCaPem, servername: "localhost" }, () => {
      socket.write(raw);
    });
    const chunks: Buffer[] = [];
    socket.on("data", (c: Buffer) => chunks.push(c));
    socket.on("close", () => {
      resolve(Buffer.concat(chunks).toString());
    });
    socket.on("error", reject);
  });
}
