/**
 * One keep-alive connection from the edge to a plain-HTTP origin (a workerd socket), carrying one exchange
 * at a time: the request written as one buffer, the answer read by http1-answer-parser.ts. Its listeners
 * are set once per connection, not per request, and what happens between exchanges (the origin's FIN on
 * an idle connection, a reset) is reported to the pool that holds it.
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

/** The exchange with the upstream failed before a complete answer arrived; the message says how. */
export class UpstreamError extends Error {
  override readonly name = "UpstreamError";
}

/** How one exchange ended: the answer (and whether the whole request was written), or why not. */
export type Outcome = { readonly ok: true; readonly answer: ParsedAnswer; readonly written: boolean } | { readonly ok: false; readonly error: Error; readonly received: number };

const EMPTY = Buffer.alloc(0);

/** The request line, the header fields and the body in one buffer: one write, one segment on loopback. */
export function requestBytes(req: UpstreamRequest): Buffer {
  let text = `${req.method} ${req.path} HTTP/1.1\r\n`;
  for (let i = 0; i + 1 < req.headers.length; i += 2) text += `${req.headers[i] ?? ""}: ${req.headers[i + 1] ?? ""}\r\n`;
  text += "\r\n";
  // Header values arrive from Node's parser as latin1 strings (one byte a character); the cf blob is ASCII.
  if (req.body.length === 0) return Buffer.from(text, "latin1");
  let size = text.length;
  for (const chunk of req.body) size += chunk.length;
  const out = Buffer.allocUnsafe(size);
  let at = out.write(text, 0, "latin1");
  for (const chunk of req.body) at += chunk.copy(out, at);
  return out;
}

interface Pending {
  readonly method: string;
  readonly resolve: (outcome: Outcome) => void;
  written: boolean;
}

export class UpstreamConnection {
  readonly socket: Socket;
  #pending: Pending | undefined;
  #received: Buffer = EMPTY;
  #ended = false;

  /** `onIdleGone`: the origin ended or broke the connection while no exchange was on it. */
  constructor(socket: Socket, onIdleGone: (connection: UpstreamConnection) => void) {
    this.socket = socket;
    socket.on("data", (chunk: Buffer) => {
      const pending = this.#pending;
      // Bytes no request asked for: nothing sane can follow on this connection.
      if (pending === undefined) socket.destroy();
      else {
        this.#received = this.#received.length === 0 ? chunk : Buffer.concat([this.#received, chunk]);
        this.#attempt(pending, false);
      }
    });
    const onEnd = (): void => {
      this.#ended = true;
      const pending = this.#pending;
      if (pending === undefined) onIdleGone(this);
      else this.#attempt(pending, true);
    };
    socket.on("end", onEnd).on("close", onEnd);
    // workerd may answer before it has read the whole body (the Worker refuses a large body by its
    // declared length) and reset the connection while the rest is being written: an answer already read
    // whole is the Worker's, so a reset after it is not an upstream failure.
    socket.on("error", (error: Error) => {
      this.#ended = true;
      const pending = this.#pending;
      if (pending === undefined) {
        onIdleGone(this);
        return;
      }
      try {
        const answer = parseAnswer(this.#received, pending.method, true);
        if (answer !== undefined) this.#finish({ ok: true, answer, written: false });
      } catch {
        this.#finish({ ok: false, error, received: this.#received.length });
      }
    });
  }

  /** Connects to `origin`; rejects with an UpstreamError naming the socket error. */
  static open(origin: EdgeOrigin, onIdleGone: (connection: UpstreamConnection) => void): Promise<UpstreamConnection> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host: origin.host, port: origin.port, noDelay: true });
      const onConnectError = (error: Error): void => {
        reject(new UpstreamError(error.message, { cause: error }));
      };
      socket.once("error", onConnectError);
      socket.once("connect", () => {
        socket.off("error", onConnectError);
        resolve(new UpstreamConnection(socket, onIdleGone));
      });
    });
  }

  /** Whether another request may go on this connection (the origin has not ended or broken it). */
  get usable(): boolean {
    return !this.#ended && !this.socket.destroyed && this.socket.writable && !this.socket.readableEnded;
  }

  /** Writes `req` and reads one answer; never rejects (the caller decides about retrying). */
  exchange(req: UpstreamRequest): Promise<Outcome> {
    return new Promise((resolve) => {
      const pending: Pending = { method: req.method, resolve, written: false };
      this.#pending = pending;
      this.#received = EMPTY;
      this.socket.write(requestBytes(req), (error) => {
        if (error === undefined || error === null) pending.written = true;
      });
      // A connection that broke before this write says so only once: it is known now.
      if (this.#ended) this.#attempt(pending, true);
    });
  }

  destroy(): void {
    this.socket.destroy();
  }

  #attempt(pending: Pending, ended: boolean): void {
    try {
      const answer = parseAnswer(this.#received, pending.method, ended);
      if (answer !== undefined) this.#finish({ ok: true, answer, written: pending.written });
    } catch (error) {
      this.#finish({ ok: false, error: error instanceof AnswerSyntaxError ? error : new UpstreamError(String(error)), received: this.#received.length });
    }
  }

  #finish(outcome: Outcome): void {
    const pending = this.#pending;
    if (pending === undefined) return;
    this.#pending = undefined;
    this.#received = EMPTY;
    pending.resolve(outcome);
  }
}
