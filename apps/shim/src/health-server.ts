/**
 * The shim's HTTP endpoints: `/healthz` (the process runs), `/readyz` (the CSR cache has synced and the
 * signer answered recently), `/metrics` (Prometheus text format). Nothing else is served.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Registry } from "prom-client";
import type { Logger } from "./logger.ts";

export interface HealthServerOptions {
  readonly host: string;
  readonly port: number;
  readonly registry: Registry;
  /** Returns undefined when ready, otherwise why not. */
  readonly notReadyReason: () => string | undefined;
  readonly logger: Logger;
}

export interface HealthServer {
  readonly port: number;
  close(): Promise<void>;
}

/** Starts listening; resolves once bound (port 0 picks a free port). */
export async function startHealthServer(options: HealthServerOptions): Promise<HealthServer> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    const reply = (status: number, body: string, type = "text/plain; charset=utf-8"): void => {
      res.writeHead(status, { "content-type": type, "cache-control": "no-store" });
      res.end(body);
    };
    if (req.method !== "GET" && req.method !== "HEAD") {
      reply(405, "method not allowed\n");
      return;
    }
    if (path === "/healthz") {
      reply(200, "ok\n");
    } else if (path === "/readyz") {
      const reason = options.notReadyReason();
      reply(reason === undefined ? 200 : 503, reason === undefined ? "ok\n" : `not ready: ${reason}\n`);
    } else if (path === "/metrics") {
      options.registry.metrics().then(
        (text) => { reply(200, text, options.registry.contentType); },
        (error: unknown) => {
          options.logger.error("could not render metrics", { error });
          reply(500, "metrics unavailable\n");
        },
      );
    } else {
      reply(404, "not found\n");
    }
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo; // listen() on TCP always yields an AddressInfo
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => { resolve(); });
        server.closeAllConnections();
      }),
  };
}
