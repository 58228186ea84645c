/**
 * The edge's side towards the Worker: plain HTTP/1.1 over pooled keep-alive loopback connections to
 * workerd's own sockets (Miniflare's `unsafeDirectSockets`), each request to the origin with the fewest
 * requests in flight. This replaces web streams and `dispatchFetch`: no Request or Response objects, no
 * Miniflare entry worker in the path, and not node:http's client either — each request is one write of
 * a prepared head and the body, and each answer is read by http1-answer-parser.ts (upstream-connection.ts).
 *
 * Kept over undici (issue 11) by measurement: the same edge with undici 8's Pool (64 connections, no
 * pipelining, keep-alive) in its place, against the same workerd in the same run, alternating slices of
 * 600 signs, three runs at load 11–15 on 2 cores. CPU of the edge thread per request, ms, this pool /
 * undici Pool.dispatch / undici Pool.request: 1 in flight 1.32/1.84/2.19, 0.83/1.08/1.34, 1.43/1.47/1.63;
 * 16 in flight 1.33/1.56/1.49, 1.10/1.14/1.36, 0.89/0.93/1.07. undici was never cheaper; dispatch came
 * within noise at 16 in flight, and p50 at 1 in flight was higher with either (packages/edge/README.md).
 */
import { UpstreamConnection, UpstreamError, type EdgeOrigin, type UpstreamRequest } from "./upstream-connection.ts";

export { UpstreamError, type EdgeOrigin, type UpstreamRequest } from "./upstream-connection.ts";

/** The upstream's whole answer (answers are small; reading it whole frees the connection before any delay). */
export interface UpstreamAnswer {
  readonly status: number;
  readonly rawHeaders: readonly string[];
  readonly body: Buffer;
}

export interface UpstreamPoolOptions {
  /** Upper bound of connections per origin (default 64: more than any client here keeps in flight, few enough for workerd). */
  readonly maxConnections?: number;
}

const DEFAULT_MAX_CONNECTIONS = 64;

/** A connection handed out, and whether it carried an exchange before (so its origin may have ended it). */
interface Acquired {
  readonly connection: UpstreamConnection;
  readonly reused: boolean;
}

/** A request waiting for a connection at the cap; `fresh`: it must get a new one (a resend). */
interface Waiter {
  readonly fresh: boolean;
  readonly resolve: (got: Acquired | Error) => void;
}

/** Keep-alive connections to one origin, reused last-in first-out so a light load keeps few warm. */
class OriginConnections {
  readonly #idle: UpstreamConnection[] = [];
  readonly #waiting: Waiter[] = [];
  /** Connections open or opening, counted until this pool drops them (not when their close event comes). */
  readonly #counted = new Set<UpstreamConnection>();
  #opening = 0;
  inFlight = 0;

  readonly origin: EdgeOrigin;
  readonly #max: number;
  readonly #onIdleGone = (connection: UpstreamConnection): void => {
    // Only an idle connection is this pool's to drop; one in use is released by whoever holds it.
    const at = this.#idle.indexOf(connection);
    if (at < 0) return;
    this.#idle.splice(at, 1);
    this.#drop(connection);
    this.#serveNext();
  };

  // No parameter property: this file also runs in the edge's worker threads under Node's type stripping.
  constructor(origin: EdgeOrigin, max: number) {
    this.origin = origin;
    this.#max = max;
  }

  /** A usable idle connection, at once, unless a fresh one is asked for or none is idle. */
  takeIdle(fresh: boolean): Acquired | undefined {
    if (fresh) return undefined;
    for (let c = this.#idle.pop(); c !== undefined; c = this.#idle.pop()) {
      if (c.usable) {
        c.socket.ref();
        return { connection: c, reused: true };
      }
      // An idle connection the origin has ended (its FIN read) can only fail: it is dropped, not tried.
      this.#drop(c);
    }
    return undefined;
  }

  /** An open connection: an idle one (`reused`) or, when none is usable or `fresh` is asked, a new one. */
  async acquire(fresh: boolean): Promise<Acquired> {
    const idle = this.takeIdle(fresh);
    if (idle !== undefined) return idle;
    // At the cap, a resend takes the slot of an idle connection rather than wait for a busy one.
    if (this.#open >= this.#max && fresh) {
      const spare = this.#idle.shift();
      if (spare !== undefined) this.#drop(spare);
    }
    if (this.#open >= this.#max) {
      const got = await new Promise<Acquired | Error>((resolve) => this.#waiting.push({ fresh, resolve }));
      if (got instanceof Error) throw got;
      return got;
    }
    return { connection: await this.#connect(), reused: false };
  }

  /** Returns a connection after an exchange; anything not cleanly reusable is closed. */
  release(connection: UpstreamConnection, reusable: boolean): void {
    if (!reusable || !connection.usable) {
      this.#drop(connection);
      this.#serveNext();
      return;
    }
    const next = this.#waiting.shift();
    if (next === undefined) {
      // Idle connections must not keep the process alive.
      connection.socket.unref();
      this.#idle.push(connection);
    } else if (next.fresh) {
      // A resend never goes on a connection that served before: this one gives up its slot for a new one.
      this.#drop(connection);
      this.#connectFor(next);
    } else next.resolve({ connection, reused: true });
  }

  close(): void {
    for (const c of this.#idle.splice(0)) this.#drop(c);
    for (const w of this.#waiting.splice(0)) w.resolve(new UpstreamError("the edge is closing"));
  }

  get #open(): number {
    return this.#counted.size + this.#opening;
  }

  #drop(connection: UpstreamConnection): void {
    this.#counted.delete(connection);
    connection.destroy();
  }

  /** A slot came free: the first waiter gets a new connection. */
  #serveNext(): void {
    const next = this.#waiting.shift();
    if (next !== undefined) this.#connectFor(next);
  }

  #connectFor(waiter: Waiter): void {
    this.#connect().then(
      (connection) => {
        waiter.resolve({ connection, reused: false });
      },
      (error: unknown) => {
        waiter.resolve(error instanceof Error ? error : new UpstreamError(String(error)));
      },
    );
  }

  async #connect(): Promise<UpstreamConnection> {
    this.#opening += 1;
    try {
      const connection = await UpstreamConnection.open(this.origin, this.#onIdleGone);
      this.#counted.add(connection);
      return connection;
    } finally {
      this.#opening -= 1;
    }
  }
}

export class UpstreamPool {
  readonly #origins: OriginConnections[];

  constructor(origins: readonly EdgeOrigin[], options: UpstreamPoolOptions = {}) {
    if (origins.length === 0) throw new Error("edge: at least one upstream origin is needed");
    const max = options.maxConnections ?? DEFAULT_MAX_CONNECTIONS;
    if (!Number.isInteger(max) || max < 1) throw new RangeError(`edge: maxConnections must be a positive integer, got ${max}`);
    this.#origins = origins.map((o) => new OriginConnections(o, max));
  }

  /** Sends `req` to the least busy origin and resolves with its complete answer. */
  async send(req: UpstreamRequest): Promise<UpstreamAnswer> {
    let target = this.#origins[0] as OriginConnections;
    for (const o of this.#origins) if (o.inFlight < target.inFlight) target = o;
    target.inFlight += 1;
    try {
      return await sendOn(target, req);
    } finally {
      target.inFlight -= 1;
    }
  }

  /** Closes every idle connection and refuses what waits for one. */
  close(): void {
    for (const o of this.#origins) o.close();
  }
}

async function sendOn(origin: OriginConnections, req: UpstreamRequest): Promise<UpstreamAnswer> {
  for (let attempt = 0; ; attempt += 1) {
    const fresh = attempt > 0;
    const { connection, reused } = origin.takeIdle(fresh) ?? (await origin.acquire(fresh));
    const outcome = await connection.exchange(req);
    if (outcome.ok) {
      const { answer, written } = outcome;
      origin.release(connection, answer.reusable && written && answer.rest.length === 0);
      return { status: answer.status, rawHeaders: answer.rawHeaders, body: answer.body };
    }
    origin.release(connection, false);
    // A kept-alive connection the origin closed just before this request got nothing back: the request
    // was not processed, so it goes once more on a fresh connection (what browsers and proxies do) — not
    // on another idle one, which the origin may have ended at the same moment.
    if (reused && outcome.received === 0 && attempt === 0) continue;
    throw outcome.error instanceof UpstreamError ? outcome.error : new UpstreamError(outcome.error.message, { cause: outcome.error });
  }
}
