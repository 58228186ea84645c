/**
 * What the CSR and the PodCertificateRequest reconcilers (reconcile.ts, pcr-reconcile.ts) do when a sign
 * attempt does not end in a written certificate, in one place so the two cannot drift (docs/shim.md
 * "Outcomes"):
 *   - a failed signer call is classified once: terminal (the kind's refusal: `Failed`, or `Denied` for a
 *     PodCertificateRequest's policy refusal), a 200 that is no valid answer (a bad answer), else transient;
 *     a 429 `rate_limited` is said per identity (throttle.ts) before it is retried;
 *   - transient faults of the signer and of kube-apiserver are retried with the side in the reason
 *     (`Signer…`, `Apiserver…`), counted in `edgeca_shim_retries_total`;
 *   - bad answers (failed verification, or no valid answer) are counted per object; after
 *     MAX_VERIFICATION_FAILURES in a row the object is refused `Failed` `InvalidSignerAnswer`;
 *   - a refusal is written once, then counted in `edgeca_shim_csrs_failed_total`, logged and recorded as a
 *     Warning Event.
 */
import { apiserverReason, kubeMessage } from "./kube-error.ts";
import type { Logger } from "./logger.ts";
import type { ShimMetrics } from "./metrics.ts";
import type { ReconcileResult } from "./reconcile.ts";
import { SignerCallError } from "./signer-call-error.ts";
import { ThrottleRecorder } from "./throttle.ts";
import { VerificationError } from "./verify-answer.ts";
import type { WriteOutcome } from "./csr-status.ts";

export const MAX_VERIFICATION_FAILURES = 5;

/** A terminal outcome to write: the condition's type, a TitleCase reason and the message. */
export interface Refusal {
  readonly type: "Failed" | "Denied";
  readonly reason: string;
  readonly message: string;
}

/** What differs between the kinds of object the failures are about. */
export interface FailureSubject<T> {
  /** The kind as logs name it: "CSR", "PodCertificateRequest". */
  readonly kind: string;
  keyOf(obj: T): string;
  signerNameOf(obj: T): string;
  /** The refusal a terminal signer answer means for this kind. */
  refusalOf(error: SignerCallError): Refusal;
  /** Writes `refusal` to the object's status (and updates the cache); throws what the apiserver threw. */
  writeRefusal(obj: T, refusal: Refusal): Promise<WriteOutcome>;
  /** True while a verified answer for `key` waits to be written (logged with apiserver faults). */
  answerKept(key: string): boolean;
  /** Records a Warning Event about `obj`; never throws. */
  warning(obj: T, reason: string, note: string): Promise<void>;
}

/** One throttle recorder per metrics registry (per shim), so the identity series stay bounded across both kinds. */
const throttleRecorders = new WeakMap<ShimMetrics, ThrottleRecorder>();

export class SignFailures<T> {
  readonly #subject: FailureSubject<T>;
  readonly #metrics: ShimMetrics;
  readonly #throttles: ThrottleRecorder;
  readonly #badAnswers = new Map<string, number>();

  constructor(metrics: ShimMetrics, subject: FailureSubject<T>) {
    this.#metrics = metrics;
    this.#subject = subject;
    let throttles = throttleRecorders.get(metrics);
    if (throttles === undefined) throttleRecorders.set(metrics, (throttles = new ThrottleRecorder(metrics)));
    this.#throttles = throttles;
  }

  /** Forgets the bad answers counted for `key` (a verified answer, or the object is gone or finished). */
  forget(key: string): void {
    this.#badAnswers.delete(key);
  }

  /** A failed signer call for `obj`; `sans` (sorted "type:value") name the identity a 429 is counted under. */
  async signerFault(obj: T, sans: () => readonly string[], error: unknown, log: Logger): Promise<ReconcileResult> {
    if (!(error instanceof SignerCallError)) return this.transient(obj, error, log);
    if (error.terminal) return await this.refuse(obj, this.#subject.refusalOf(error), log);
    // An issuance budget is spent: retried after Retry-After like any transient fault, and said so per identity.
    if (error.problem?.code === "rate_limited") this.#throttles.record(this.#subject.signerNameOf(obj), sans(), error, log);
    // A 200 that is no valid answer is a bad answer like one that fails verification: retried, counted.
    if (error.invalidAnswer) return await this.badAnswer(obj, error, log);
    return this.transient(obj, error, log);
  }

  /** A transient fault of the signer (or of fetching its bundle): retried, after Retry-After when it sent one. */
  transient(obj: T, error: unknown, log: Logger): ReconcileResult {
    const reason = error instanceof SignerCallError ? error.reason : "Error";
    const message = error instanceof Error ? error.message : String(error);
    if (error instanceof SignerCallError && error.misconfiguration) {
      // 401/403 mean the shim's identity or the signer's configuration is wrong: loud, but not the object's fault.
      log.error("the signer refused the shim's credentials; check the client certificate, token audience and signer configuration", { reason, error: message });
    } else if (!(error instanceof SignerCallError && error.problem?.code === "rate_limited")) {
      log.warn("the signer did not sign; will retry", { reason, error: message });
    }
    this.#metrics.retried.inc({ signer: this.#subject.signerNameOf(obj), reason });
    const afterMs = error instanceof SignerCallError ? error.retryAfterMs : undefined;
    return afterMs === undefined ? { kind: "retry", reason } : { kind: "retry", reason, afterMs };
  }

  /** kube-apiserver failed a write: retried with backoff; the reason and the message say it was the apiserver. */
  apiserverFault(obj: T, error: unknown, what: string, log: Logger): ReconcileResult {
    const reason = apiserverReason(error);
    log.warn(`kube-apiserver failed ${what}; will retry`, { reason, error: kubeMessage(error), signedCertificateKept: this.#subject.answerKept(this.#subject.keyOf(obj)) });
    this.#metrics.retried.inc({ signer: this.#subject.signerNameOf(obj), reason });
    return { kind: "retry", reason };
  }

  /** An answer that failed verification, or a 200 that is no valid answer (SignerCallError.invalidAnswer). */
  async badAnswer(obj: T, error: VerificationError | SignerCallError, log: Logger): Promise<ReconcileResult> {
    const key = this.#subject.keyOf(obj);
    const signer = this.#subject.signerNameOf(obj);
    const count = (this.#badAnswers.get(key) ?? 0) + 1;
    this.#badAnswers.set(key, count);
    const verification = error instanceof VerificationError;
    if (verification) this.#metrics.verificationFailures.inc({ signer });
    log.error(`the signer's answer ${verification ? "failed verification" : "is not a valid answer"}; not written`, { error: error.message, failures: count });
    if (count >= MAX_VERIFICATION_FAILURES) {
      const message = `the signer's answer ${verification ? "failed verification" : "was refused"} ${count} times: ${error.message}`;
      return await this.refuse(obj, { type: "Failed", reason: "InvalidSignerAnswer", message }, log);
    }
    const reason = verification ? "VerificationFailed" : "InvalidSignerAnswer";
    this.#metrics.retried.inc({ signer, reason });
    return { kind: "retry", reason };
  }

  /** Writes the terminal `refusal` once; then counts it, logs it and records a Warning Event. */
  async refuse(obj: T, refusal: Refusal, log: Logger): Promise<ReconcileResult> {
    const { type, reason, message } = refusal;
    let outcome: WriteOutcome;
    try {
      outcome = await this.#subject.writeRefusal(obj, refusal);
    } catch (error) {
      return this.apiserverFault(obj, error, `writing the ${type} condition (${reason})`, log);
    }
    this.forget(this.#subject.keyOf(obj));
    if (outcome !== "written") return { kind: "done", outcome };
    this.#metrics.failed.inc({ signer: this.#subject.signerNameOf(obj), reason });
    log.info(`${this.#subject.kind} marked ${type}`, { reason, message });
    await this.#subject.warning(obj, reason, message);
    return { kind: "done", outcome: "failed" };
  }
}
