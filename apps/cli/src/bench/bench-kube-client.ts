/**
 * The load generator's Kubernetes client: node:https with a keep-alive pool sized for the burst and no
 * client-side rate limit, so the creator is never what limits a run (testenv's KubeApiClient opens a new
 * TLS connection per request, which would put handshakes on the apiserver's CPU instead). Loopback only.
 */
import { Agent, request as httpsRequest } from "node:https";
import type { IncomingMessage } from "node:http";

export type BenchCredentials = { readonly token: string } | { readonly clientCertPem: string; readonly clientKeyPem: string };

export interface BenchKubeAnswer {
  readonly status: number;
  readonly json: unknown;
  readonly text: string;
}

/**
 * An answer whose body is decoded and parsed only when read: the burst reads the JSON of its creates,
 * only the status of its approvals (most answers), and the text of a refusal.
 */
class BufferedAnswer implements BenchKubeAnswer {
  private parsed: { readonly value: unknown } | undefined;

  constructor(
    readonly status: number,
    private readonly body: Buffer,
  ) {}

  get text(): string {
    return this.body.toString("utf8");
  }

  get json(): unknown {
    if (this.parsed === undefined) {
      let value: unknown;
      try {
        value = this.body.length === 0 ? undefined : JSON.parse(this.text);
      } catch {
        value = undefined;
      }
      this.parsed = { value };
    }
    return this.parsed.value;
  }
}

export class BenchKubeClient {
  private readonly agent: Agent;
  private readonly port: number;

  constructor(
    server: string,
    caPem: string,
    private readonly credentials: BenchCredentials,
    /** Connections kept open; at least the requests in flight. */
    maxSockets: number,
    private readonly timeoutMs = 30_000,
  ) {
    const loopback = /^https:\/\/127\.0\.0\.1:(\d+)$/.exec(server);
    if (loopback === null) throw new Error(`the bench talks to a loopback apiserver only, got ${server}`);
    this.port = Number(loopback[1]);
    const tls = "token" in credentials ? {} : { cert: credentials.clientCertPem, key: credentials.clientKeyPem };
    this.agent = new Agent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets, ca: caPem, ...tls });
  }

  /** One JSON request; the answer whatever its status. */
  async send(method: string, path: string, body?: unknown): Promise<BenchKubeAnswer> {
    const res = await this.open(method, path, body);
    const chunks: Buffer[] = [];
    await new Promise<void>((resolve, reject) => {
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.once("end", resolve);
      res.once("error", reject);
    });
    return new BufferedAnswer(res.statusCode ?? 0, chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks));
  }

  /**
   * Sends a request and hands back the response stream (for watches); `timeoutMs` bounds a silent stream.
   * Never retried here: kube-retry.ts's withRetries is the bench's one retry layer (a connection broken
   * before any answer fails with its code, ECONNRESET or EPIPE, for it to see), and the collector reopens
   * its watch itself.
   */
  async open(method: string, path: string, body?: unknown, timeoutMs = this.timeoutMs): Promise<IncomingMessage> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const headers: Record<string, string> = { accept: "application/json" };
    if (payload !== undefined) {
      headers["content-type"] = "application/json";
      headers["content-length"] = String(Buffer.byteLength(payload));
    }
    if ("token" in this.credentials) headers.authorization = `Bearer ${this.credentials.token}`;
    return await new Promise<IncomingMessage>((resolve, reject) => {
      const req = httpsRequest({ host: "127.0.0.1", port: this.port, path, method, headers, agent: this.agent, timeout: timeoutMs }, resolve);
      req.on("timeout", () => req.destroy(new Error(`${method} ${path}: no answer within ${timeoutMs} ms`)));
      // Name the call: a bare "socket hang up" says nothing about which of thousands failed.
      req.on("error", (error: NodeJS.ErrnoException) => {
        reject(Object.assign(new Error(`${method} ${path}: ${error.message}`, { cause: error }), { code: error.code }));
      });
      req.end(payload);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}
