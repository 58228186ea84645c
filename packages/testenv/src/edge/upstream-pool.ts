/**
 * The edge's side towards the Worker: plain HTTP/1.1 over pooled keep-alive loopback connections to
 * workerd's own sockets (Miniflare's `unsafeDirectSockets`), one pool per origin, each request to the
 * origin with the fewest requests in flight. This replaces web streams and `dispatchFetch`: no Request
 * or Response objects, no stream adapters, no Miniflare entry worker in the path.
 */
import { Agent, request, type IncomingMessage } from "node:http";

/** A plain-HTTP origin on loopback (a workerd socket serving the Worker). */
export interface EdgeOrigin {
  readonly host: string;
  readonly port: number;
}

/** One request as the edge forwards it. */
export interface UpstreamRequest {
  readonly method: string;
  readonly path: string;
  /** Flat `[name, value, …]`, already filtered (see forwarded-headers.ts). */
  readonly headers: readonly string[];
  readonly body: readonly Buffer[];
}

/** The upstream's whole answer (answers are small; reading it whole frees the connection before any delay). */
export interface UpstreamAnswer {
  readonly status: number;
  readonly rawHeaders: readonly string[];
  readonly body: Buffer;
}

/** The exchange with the upstream failed before a complete answer arrived; the message says how. */
export class UpstreamError extends Error {
  override readonly name = "UpstreamError";
}

/** Upper bound of connections per origin: more than any client here keeps in flight, few enough for workerd. */
const MAX_SOCKETS = 64;

interface Slot {
  readonly origin: EdgeOrigin;
  readonly agent: Agent;
  inFlight: number;
}

export class UpstreamPool {
  readonly #slots: Slot[];

  constructor(origins: readonly EdgeOrigin[]) {
    if (origins.length === 0) throw new Error("edge: at least one upstream origin is needed");
    this.#slots = origins.map((origin) => ({
      origin,
      // LIFO keeps the few connections a light load needs warm instead of cycling through all of them.
      agent: new Agent({ keepAlive: true, maxSockets: MAX_SOCKETS, scheduling: "lifo" }),
      inFlight: 0,
    }));
  }

  /** Sends `req` to the least busy origin and resolves with its complete answer. */
  async send(req: UpstreamRequest): Promise<UpstreamAnswer> {
    let slot = this.#slots[0] as Slot;
    for (const s of this.#slots) if (s.inFlight < slot.inFlight) slot = s;
    slot.inFlight += 1;
    try {
      return await exchange(slot, req);
    } finally {
      slot.inFlight -= 1;
    }
  }

  /** Closes every pooled connection. */
  close(): void {
    for (const s of this.#slots) s.agent.destroy();
  }
}

function exchange(slot: Slot, req: UpstreamRequest): Promise<UpstreamAnswer> {
  return new Promise((resolve, reject) => {
    let response: IncomingMessage | undefined;
    const chunks: Buffer[] = [];
    const finish = (res: IncomingMessage): void => {
      resolve({ status: res.statusCode ?? 502, rawHeaders: res.rawHeaders, body: chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks) });
    };
    const upstream = request({
      agent: slot.agent,
      host: slot.origin.host,
      port: slot.origin.port,
      method: req.method,
      path: req.path,
      headers: [...req.headers],
    });
    upstream.on("response", (res) => {
      response = res;
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () => {
        finish(res);
      });
      res.on("error", (error) => {
        if (res.complete) finish(res);
        else reject(new UpstreamError(`the answer broke off: ${error.message}`, { cause: error }));
      });
    });
    // workerd may answer before it has read the whole body (the Worker refuses a large body by its
    // declared length) and then reset the connection while the rest is still being written: an answer
    // already read whole is the Worker's, so a reset after it is not an upstream failure.
    upstream.on("error", (error) => {
      if (response?.complete === true) finish(response);
      else if (response === undefined) reject(new UpstreamError(error.message, { cause: error }));
    });
    for (const chunk of req.body) upstream.write(chunk);
    upstream.end();
  });
}
