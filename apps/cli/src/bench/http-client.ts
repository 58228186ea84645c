/**
 * The bounded loopback client both sides of `npm run bench -- http` are measured with: node:http or
 * node:https with one keep-alive agent (as many sockets as requests in flight), one POST per call,
 * the whole answer read. Loopback only: the URL's host must be 127.0.0.1.
 */
import { Agent as HttpAgent, request as httpRequest } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";

export interface ClientTls {
  /** CA PEM the serving certificate must chain to. */
  readonly caPem: string;
  /** Client certificate and key PEM (mTLS). */
  readonly certPem: string;
  readonly keyPem: string;
}

export interface ClientAnswer {
  readonly status: number;
  readonly body: string;
}

/** One origin, one agent; `post` sends a JSON body and resolves with the answer. */
export class BenchClient {
  readonly #url: URL;
  readonly #agent: HttpAgent;
  readonly #send: typeof httpRequest;

  constructor(origin: string, sockets: number, tls?: ClientTls) {
    this.#url = new URL(origin);
    if (this.#url.hostname !== "127.0.0.1") throw new Error(`bench client: loopback only, got ${origin}`);
    const common = { keepAlive: true, maxSockets: sockets, maxFreeSockets: sockets };
    if (tls === undefined) {
      this.#agent = new HttpAgent(common);
      this.#send = httpRequest;
    } else {
      this.#agent = new HttpsAgent({ ...common, ca: tls.caPem, cert: tls.certPem, key: tls.keyPem });
      this.#send = httpsRequest;
    }
  }

  post(path: string, body: string): Promise<ClientAnswer> {
    return new Promise((resolve, reject) => {
      const req = this.#send(
        {
          agent: this.#agent,
          host: this.#url.hostname,
          port: this.#url.port,
          method: "POST",
          path,
          headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body) },
          timeout: 30_000,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("error", reject);
          res.on("end", () => {
            resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") });
          });
        },
      );
      req.on("timeout", () => req.destroy(new Error(`POST ${this.#url.origin}${path}: no answer within 30 s`)));
      req.on("error", reject);
      req.end(body);
    });
  }

  close(): void {
    this.#agent.destroy();
  }
}
