/**
 * The edge's side towards the Worker: plain HTTP/1.1 over pooled keep-alive loopback connections to
 * workerd's own sockets (Miniflare's `unsafeDirectSockets`), each request to the origin with the fewest
 * requests in flight. This replaces web streams and `dispatchFetch`: no Request or Response objects, no
 * Miniflare entry worker in the path, and not node:http's client either — each request is one write of
 * a prepared head and the body, and each answer is read by http1-answer-parser.ts.
 *
 * Kept over undici (issue 11) by measurement: the same edge with undici 8's Pool (64 connections, no
 * pipelining, keep-alive) in its place, against the same workerd in the same run, alternating slices of
 * 600 signs, three runs at load 11–15 on 2 cores. CPU of the edge thread per request, ms, this pool /
 * undici Pool.dispatch / undici Pool.request: 1 in flight 1.32/1.84/2.19, 0.83/1.08/1.34, 1.43/1.47/1.63;
 * 16 in flight 1.33/1.56/1.49, 1.10/1.14/1.36, 0.89/0.93/1.07. undici was never cheaper; dispatch came
 * within noise at 16 in flight, and p50 at 1 in flight was higher with either (packages/edge/README.md).
 */
import { connect, type Socket } from "node:net";
import { AnswerSyntaxError, parseAnswer, type ParsedAnswer } from "./http1-answer-parser.ts";

/** A plain-HTTP origin on loopback (a workerd socket serving the Worker). */
export interface EdgeOrigin {
  readonly host: string;
  readonly port: number;
}

/** One request as the edge forwards it. */
export interface UpstreamRequest {
  readonly method: string;
  /** Origin-form target, already checked (request-target.ts). */
  readonly path: string;
  /** Flat `[name, value, …]`, already filtered (see forwarded-headers.ts); values hold no CR or LF. */
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
const MAX_CONNECTIONS = 64;

/** How one exchange on one connection ended. */
type Outcome = { readonly ok: true; readonly answer: ParsedAnswer; readonly written: boolean } | { readonly ok: false; readonly error: Error; readonly received: number };

function head(req: UpstreamRequest): Buffer {
  let text = `${req.method} ${req.path} HTTP/1.1\r\n`;
  for (let i = 0; i + 1 < req.headers.length; i += 2) text += `${req.headers[i] ?? ""}: ${req.headers[i + 1] ?? ""}\r\n`;
  // Header values arrive from Node's parser as latin1 strings; the cf blob is ASCII (escaped JSON).
  return Buffer.from(`${text}\r\n`, "latin1");
}

/** Writes `req` on `socket` and reads one answer; never rejects (the caller decides about retrying). */
function exchange(socket: Socket, req: UpstreamRequest): Promise<Outcome> {
  return new Promise((resolve) => {
    let received: Buffer = Buffer.alloc(0);
    let written = false;
    let settled = false;
    const finish = (outcome: Outcome): void => {
      if (settled) return;
      settled = true;
      socket.off("data", onData).off("end", onEnd).off("close", onEnd).off("error", onError);
      resolve(outcome);
    };
    const attempt = (ended: boolean): void => {
      try {
        const answer = parseAnswer(received, req.method, ended);
        if (answer !== undefined) finish({ ok: true, answer, written });
      } catch (error) {
        finish({ ok: false, error: error instanceof AnswerSyntaxError ? error : new UpstreamError(String(error)), received: received.length });
      }
    };
    const onData = (chunk: Buffer): void => {
      received = received.length === 0 ? chunk : Buffer.concat([received, chunk]);
      attempt(false);
    };
    const onEnd = (): void => {
      attempt(true);
    };
    // workerd may answer before it has read the whole body (the Worker refuses a large body by its
    // declared length) and reset the connection while the rest is being written: an answer already read
    // whole is the Worker's, so a reset after it is not an upstream failure.
    const onError = (error: Error): void => {
      try {
        const answer = parseAnswer(received, req.method, true);
        if (answer !== undefined) finish({ ok: true, answer, written: false });
      } catch {
        finish({ ok: false, error, received: received.length });
      }
    };
    socket.on("data", onData).on("end", onEnd).on("close", onEnd).on("error", onError);
    socket.cork();
    socket.write(head(req));
    for (const chunk of req.body) socket.write(chunk);
    socket.write(Buffer.alloc(0), () => {
      written = true;
    });
    socket.uncork();
  });
}

/** Keep-alive connections to one origin, reused last-in first-out so a light load keeps few warm. */
class OriginConnections {
  readonly #idle: Socket[] = [];
  readonly #waiting: ((socket: Socket | Error) => void)[] = [];
  #open = 0;
  inFlight = 0;

  readonly origin: EdgeOrigin;

  // No parameter property: this file also runs in the edge's worker threads under Node's type stripping.
  constructor(origin: EdgeOrigin) {
    this.origin = origin;
  }

  /** An open connection: an idle one (`reused`) or, when none is usable or `fresh` is asked, a new one. */
  async acquire(fresh = false): Promise<{ socket: Socket; reused: boolean }> {
    for (let s = fresh ? undefined : this.#idle.pop(); s !== undefined; s = this.#idle.pop()) {
      // An idle connection the origin has ended (its FIN read) can only fail: it is dropped, not tried.
      if (!s.destroyed && s.writable && !s.readableEnded) return { socket: s.ref(), reused: true };
      s.destroy();
    }
    if (this.#open >= MAX_CONNECTIONS) {
      const handed = await new Promise<Socket | Error>((resolve) => this.#waiting.push(resolve));
      if (handed instanceof Error) throw handed;
      return { socket: handed, reused: true };
    }
    return { socket: await this.#connect(), reused: false };
  }

  /** Returns a connection after an exchange; anything not cleanly reusable is closed. */
  release(socket: Socket, reusable: boolean): void {
    if (!reusable || socket.destroyed) {
      socket.destroy();
      const next = this.#waiting.shift();
      if (next !== undefined) this.#connect().then(next, next);
      return;
    }
    const next = this.#waiting.shift();
    if (next !== undefined) next(socket);
    // Idle connections must not keep the process alive.
    else this.#idle.push(socket.unref());
  }

  #connect(): Promise<Socket> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host: this.origin.host, port: this.origin.port, noDelay: true });
      this.#open += 1;
      const onConnectError = (error: Error): void => {
        reject(new UpstreamError(error.message, { cause: error }));
      };
      socket.once("error", onConnectError);
      socket.once("connect", () => {
        socket.off("error", onConnectError);
        resolve(socket);
      });
      // Errors between exchanges (a reset on an idle connection) only end the connection, and so does
      // the origin's end of an idle one (workerd ends connections idle for 5 s).
      socket.on("error", () => undefined);
      socket.on("end", () => {
        if (this.#idle.includes(socket)) socket.destroy();
      });
      socket.once("close", () => {
        this.#open -= 1;
        const at = this.#idle.indexOf(socket);
        if (at >= 0) this.#idle.splice(at, 1);
      });
    });
  }

  close(): void {
    for (const s of this.#idle.splice(0)) s.destroy();
    for (const w of this.#waiting.splice(0)) w(new UpstreamError("the edge is closing"));
  }
}

export class UpstreamPool {
  readonly #origins: OriginConnections[];

  constructor(origins: readonly EdgeOrigin[]) {
    if (origins.length === 0) throw new Error("edge: at least one upstream origin is needed");
    this.#origins = origins.map((o) => new OriginConnections(o));
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
    const { socket, reused } = await origin.acquire(attempt > 0);
    const outcome = await exchange(socket, req);
    if (outcome.ok) {
      const { answer, written } = outcome;
      origin.release(socket, answer.reusable && written && answer.rest.length === 0);
      return { status: answer.status, rawHeaders: answer.rawHeaders, body: answer.body };
    }
    origin.release(socket, false);
    // A kept-alive connection the origin closed just before this request got nothing back: the request
    // was not processed, so it goes once more on a fresh connection (what browsers and proxies do) — not
    // on another idle one, which the origin may have ended at the same moment.
    if (reused && outcome.received === 0 && attempt === 0) continue;
    throw outcome.error instanceof UpstreamError ? outcome.error : new UpstreamError(outcome.error.message, { cause: outcome.error });
  }
}
