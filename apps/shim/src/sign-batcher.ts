/**
 * Groups the CSRs waiting for the signer into `POST /v1/sign-batch` requests (docs/shim.md "Batches").
 * A burst then pays the signer's per-request costs (transport, authentication, the budget counter's round
 * trip, the audit line) once per batch instead of once per certificate.
 *
 * The rule: at most R = ceil(concurrency / batchMax) requests to the signer in flight. A sign call goes
 * out at once when no request is in flight (alone, over `/v1/sign`, when it is the only one waiting, so a
 * quiet cluster is served exactly as without batching). While requests are in flight, a further one (up to
 * R) opens only for a full batch of batchMax waiting calls; otherwise the calls wait, and once no request
 * is left in flight the calls waiting (up to batchMax, oldest first) go out as one batch.
 *
 * Under load (batchMax calls or more arrived within LOAD_WINDOW_MS) that last step waits too: a group that
 * is not full goes once its oldest call has waited waitMs (EDGECA_SIGNER_BATCH_WAIT_MS), so at a few ms to
 * the signer a burst still fills its batches instead of sending two or three CSRs per request; a call that
 * has already waited as long for the answers on their way goes at once. Below that rate nothing waits
 * longer than the answers already on their way. `sign()` keeps the SignerClient's signature and outcomes,
 * so the reconciler cannot tell a batched certificate from one signed alone.
 *
 * Version skew: a signer older than batches answers `/v1/sign-batch` with 404 or 405; those calls are sent
 * again one by one over `/v1/sign`, batching stops for SKEW_PAUSE_MS and one warning says why. So it is for
 * a batch refused as a whole with a verdict (400, 413, 415: limits other than ours): that verdict is on the
 * batch, not on each CSR, so no CSR is marked Failed for it; `/v1/sign` then gives each CSR its own.
 */
import type { Bundle, SignRequest, SignResponse } from "@edgeca/shared";
import type { Clock } from "./clock.ts";
import type { Logger } from "./logger.ts";
import { BatchRequestError, type SignOutcome } from "./sign-batch-wire.ts";
import { SignerCallError } from "./signer-call-error.ts";
import type { BatchSigner, SignerClient } from "./signer-client.ts";

/** How long batching stays off after the signer said it has no `/v1/sign-batch`. */
export const SKEW_PAUSE_MS = 10 * 60_000;

/** The span in which batchMax arrivals mean load, and the batch wait applies. */
export const LOAD_WINDOW_MS = 1000;

export interface SignBatcherOptions {
  /** The transport: `/v1/sign` for a call alone, `/v1/sign-batch` for a group. */
  readonly inner: SignerClient & BatchSigner;
  /** Most calls in one batch (EDGECA_SIGNER_BATCH_MAX); 1 sends every call alone, as without a batcher. */
  readonly batchMax: number;
  /** The reconcile workers (EDGECA_CONCURRENCY), which R is derived from. */
  readonly concurrency: number;
  /** Under load, how long a group that is not full may wait for more calls (EDGECA_SIGNER_BATCH_WAIT_MS); 0: never. */
  readonly waitMs: number;
  readonly clock: Clock;
  readonly logger: Logger;
}

/** A sign call waiting for, or carried by, a request to the signer. */
interface Call {
  readonly request: SignRequest;
  readonly signal: AbortSignal | undefined;
  readonly resolve: (answer: SignResponse) => void;
  readonly reject: (error: unknown) => void;
  /** When it started waiting (clock time). */
  readonly at: number;
  settled: boolean;
  onAbort?: () => void;
}

export class SignBatcher implements SignerClient {
  readonly #o: SignBatcherOptions;
  /** R: the most requests to the signer in flight at once. */
  readonly limit: number;
  #inFlight = 0;
  readonly #waiting: Call[] = [];
  #pausedUntil = Number.NEGATIVE_INFINITY;
  /** Arrival times of the last batchMax calls, oldest first: load when the oldest is recent. */
  readonly #arrivals: number[] = [];
  /** Cancels the pending wait's timer, if one is set. */
  #cancelWait: (() => void) | undefined;

  constructor(options: SignBatcherOptions) {
    this.#o = options;
    this.limit = Math.max(1, Math.ceil(options.concurrency / Math.max(1, options.batchMax)));
  }

  sign(request: SignRequest, signal?: AbortSignal): Promise<SignResponse> {
    if (this.#o.batchMax <= 1 || this.#paused()) return this.#o.inner.sign(request, signal);
    if (signal?.aborted === true) return Promise.reject(abortError(signal));
    return new Promise<SignResponse>((resolve, reject) => {
      const call: Call = { request, signal, resolve, reject, at: this.#arrived(), settled: false };
      if (signal !== undefined) {
        // Removed while it waits; once sent in a batch the others' request goes on, this caller stops waiting.
        call.onAbort = () => {
          const at = this.#waiting.indexOf(call);
          if (at >= 0) this.#waiting.splice(at, 1);
          settle(call, abortError(signal));
        };
        signal.addEventListener("abort", call.onAbort, { once: true });
      }
      this.#waiting.push(call);
      this.#pump();
    });
  }

  bundle(signal?: AbortSignal): Promise<Bundle> {
    return this.#o.inner.bundle(signal);
  }

  /** Stops waiting: what waits is refused (the shim is stopping; the next leader signs it), then the transport closes. */
  close(): void {
    this.#stopWaiting();
    for (const call of this.#waiting.splice(0)) settle(call, new Error("the shim is stopping: the signer client was closed"));
    this.#o.inner.close();
  }

  #paused(): boolean {
    return this.#o.clock.now() < this.#pausedUntil;
  }

  /** Notes one arrival; returns its time. */
  #arrived(): number {
    const now = this.#o.clock.now();
    this.#arrivals.push(now);
    if (this.#arrivals.length > this.#o.batchMax) this.#arrivals.shift();
    return now;
  }

  /** batchMax calls or more arrived within the last LOAD_WINDOW_MS. */
  #underLoad(now: number): boolean {
    const [oldest] = this.#arrivals;
    return this.#arrivals.length >= this.#o.batchMax && oldest !== undefined && now - oldest < LOAD_WINDOW_MS;
  }

  /**
   * Under load, how much longer a group that is not full should wait for more calls (0: go now). The timer
   * set for it runs the pump again.
   */
  #waitLeft(): number {
    const [oldest] = this.#waiting;
    if (this.#o.waitMs <= 0 || oldest === undefined || this.#waiting.length >= this.#o.batchMax) return 0;
    const now = this.#o.clock.now();
    if (!this.#underLoad(now)) return 0;
    return Math.max(0, oldest.at + this.#o.waitMs - now);
  }

  #stopWaiting(): void {
    this.#cancelWait?.();
    this.#cancelWait = undefined;
  }

  /** Sends what waits while fewer than R requests are in flight (everything, alone, while batching is paused). */
  #pump(): void {
    while (this.#waiting.length > 0) {
      if (this.#paused()) {
        for (const call of this.#waiting.splice(0)) void this.#alone(call);
        return;
      }
      if (this.#inFlight >= this.limit) return;
      // While a request is out, another opens only for a full batch: what arrives meanwhile waits for the
      // answer (a round trip at most) and goes with the others, so batches grow with the load instead of
      // the load spreading over half-empty requests; a stalled request still leaves room once a batch fills.
      if (this.#inFlight > 0 && this.#waiting.length < this.#o.batchMax) return;
      const left = this.#waitLeft();
      if (left > 0) {
        this.#cancelWait ??= this.#o.clock.setTimer(() => {
          this.#cancelWait = undefined;
          this.#pump();
        }, left);
        return;
      }
      this.#stopWaiting();
      const group = this.#waiting.splice(0, this.#o.batchMax);
      this.#inFlight += 1;
      void this.#send(group).finally(() => {
        this.#inFlight -= 1;
        this.#pump();
      });
    }
  }

  async #alone(call: Call): Promise<void> {
    try {
      settle(call, await this.#o.inner.sign(call.request, call.signal));
    } catch (error) {
      settle(call, error);
    }
  }

  async #send(group: readonly Call[]): Promise<void> {
    const [first] = group;
    if (first === undefined) return;
    if (group.length === 1) {
      await this.#alone(first);
      return;
    }
    let outcomes: SignOutcome[] | undefined;
    try {
      outcomes = await this.#o.inner.signBatch(group.map((c) => c.request));
    } catch (error) {
      // signBatch resolves failures as outcomes; a transport that throws fails every call alike.
      for (const call of group) settle(call, error);
      return;
    }
    const unsent = outcomes.find(notForBatches);
    if (unsent !== undefined) this.#pause(unsent);
    group.forEach((call, i) => {
      const outcome = outcomes[i] ?? new SignerCallError("the signer's batch answer lost this request");
      if (notForBatches(outcome)) void this.#alone(call);
      else settle(call, outcome);
    });
  }

  #pause(error: SignerCallError): void {
    const wasPaused = this.#paused();
    this.#pausedUntil = this.#o.clock.now() + SKEW_PAUSE_MS;
    if (wasPaused) return;
    const why = error.status === 404 || error.status === 405 ? "it predates batches" : "a refusal of the batch as a whole";
    this.#o.logger.warn(`the signer answered POST /v1/sign-batch with ${error.status ?? "?"}: ${why}; sending CSRs one by one over /v1/sign for ${SKEW_PAUSE_MS / 60_000} minutes`, {
      status: error.status,
      error: error.message,
    });
  }
}

/** A whole batch's 404/405 (no `/v1/sign-batch`) or verdict (400/413/415): its CSRs go alone over `/v1/sign`. */
function notForBatches(outcome: SignOutcome): outcome is BatchRequestError {
  return outcome instanceof BatchRequestError && (outcome.status === 404 || outcome.status === 405 || outcome.terminal);
}

function settle(call: Call, outcome: unknown): void {
  if (call.settled) return;
  call.settled = true;
  if (call.onAbort !== undefined) call.signal?.removeEventListener("abort", call.onAbort);
  if (outcome instanceof Error || !isSignResponse(outcome)) call.reject(outcome);
  else call.resolve(outcome);
}

function isSignResponse(value: unknown): value is SignResponse {
  return typeof value === "object" && value !== null && "certificateChain" in value;
}

function abortError(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new Error("the sign call was aborted");
}
