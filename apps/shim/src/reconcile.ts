/**
 * One reconcile of one CSR (docs/shim.md "Reconcile"; kubernetes pkg/controller/certificates, cert-manager
 * certificatesigningrequests): guard clauses in order, then sign, verify, write. Every outcome is classified:
 *   - done: nothing (more) to do, including "gone" (deleted, possibly while in flight);
 *   - retry: a transient fault of the signer (network, 5xx, 429 — a spent issuance budget, counted per
 *     identity in throttle.ts —, 401/403, an answer that failed
 *     verification) or of kube-apiserver (unreachable, 5xx on the status write); requeued with backoff,
 *     never Failed; the reason names the side (`Signer…` or `Apiserver…`);
 *   - Failed: a terminal refusal by the signer (400/413/415/422), or a request the shim cannot read; a
 *     Failed condition with a TitleCase reason plus a Warning Event.
 *
 * A verified answer is kept until it is written: when the status write fails (the apiserver is down), the
 * retry writes the same certificate instead of asking the signer again, and a write that landed although
 * its answer was lost is recognised (the CSR carries our certificate) and counted as issued.
 *
 * An answer that fails verification is never written. It is counted and retried (a rotation may have moved
 * the signer to a root the shim has not fetched yet: the bundle is refreshed first), and so is a 200 that is
 * no valid answer at all (not JSON, not the schema: retry reason `InvalidSignerAnswer`); after
 * MAX_VERIFICATION_FAILURES consecutive bad answers for one CSR it is marked Failed with reason
 * `InvalidSignerAnswer`, so a requester other than istiod (which gives up after 60 s) is not left waiting.
 * That failure handling is sign-failures.ts, shared with the PodCertificateRequest reconciler.
 */
import type { V1CertificateSigningRequest } from "@kubernetes/client-node";
import type { SignRequest } from "@edgeca/shared";
import { hasCondition, isIssued, setCertificate, setFailed, writeStatus, type WriteOutcome, type CsrStatusApi } from "./csr-status.ts";
import type { EventRecorder } from "./event-recorder.ts";
import { recordIssuingCa } from "./issuing-ca.ts";
import type { Logger } from "./logger.ts";
import type { ShimMetrics } from "./metrics.ts";
import { SignFailures, type Refusal } from "./sign-failures.ts";
import type { SignerClient } from "./signer-client.ts";
import type { TrustBundle } from "./trust-bundle.ts";
import { CsrParseError, readRequest, VerificationError, verifyAnswer, type RequestedCertificate } from "./verify-answer.ts";

/** What a reconcile decided. `retry` carries a reason (for logs and metrics) and an optional minimum delay. */
export type ReconcileResult =
  | { readonly kind: "done"; readonly outcome: "gone" | "issued" | "failed" | "skipped" }
  | { readonly kind: "retry"; readonly reason: string; readonly afterMs?: number };

export { MAX_VERIFICATION_FAILURES } from "./sign-failures.ts";

/** How long a verified answer waiting to be written is reused instead of signing again. */
export const ANSWER_REUSE_MS = 5 * 60_000;

/** A verified certificate chain for one CSR object (its uid), not yet known to be written. */
interface Answer {
  readonly uid: string | undefined;
  readonly chain: string;
  readonly at: number;
}

export interface ReconcilerDeps {
  readonly cache: { get(name: string): V1CertificateSigningRequest | undefined; update(csr: V1CertificateSigningRequest): void };
  readonly api: CsrStatusApi;
  readonly signer: SignerClient;
  readonly trust: TrustBundle;
  readonly events: EventRecorder;
  readonly metrics: ShimMetrics;
  readonly logger: Logger;
  readonly now: () => number;
  readonly signerNames: ReadonlySet<string>;
}

export class Reconciler {
  readonly #deps: ReconcilerDeps;
  readonly #answers = new Map<string, Answer>();
  readonly #failures: SignFailures<V1CertificateSigningRequest>;

  constructor(deps: ReconcilerDeps) {
    this.#deps = deps;
    this.#failures = new SignFailures(deps.metrics, {
      kind: "CSR",
      keyOf: (csr) => csr.metadata?.name ?? "",
      signerNameOf: (csr) => csr.spec.signerName,
      refusalOf: (error) => ({ type: "Failed", reason: error.reason, message: error.problem?.detail ?? error.message }),
      writeRefusal: (csr, refusal) => this.#writeFailed(csr, refusal),
      answerKept: (name) => this.#answers.has(name),
      warning: (csr, reason, note) => deps.events.warning(csr, reason, note),
    });
  }

  /** Forgets what is remembered of `name` (the CSR was deleted). */
  forget(name: string): void {
    this.#failures.forget(name);
    this.#answers.delete(name);
  }

  /** Reconciles the CSR named `name`. Throws only on unexpected faults (which the caller retries). */
  async reconcile(name: string): Promise<ReconcileResult> {
    const d = this.#deps;
    const csr = d.cache.get(name);
    // Guard clauses, in docs/shim.md's order.
    if (csr === undefined) return this.#done(name, "gone");
    if (!d.signerNames.has(csr.spec.signerName)) return this.#done(name, "skipped");
    if (isIssued(csr)) return this.#alreadyIssued(csr);
    if (hasCondition(csr, "Failed") || hasCondition(csr, "Denied")) return this.#done(name, "skipped");
    if (!hasCondition(csr, "Approved")) return this.#done(name, "skipped");

    const log = d.logger.child({ csr: name, signerName: csr.spec.signerName });
    const pem = Buffer.from(csr.spec.request, "base64").toString("utf8");
    let requested: RequestedCertificate;
    try {
      requested = readRequest(pem);
    } catch (error) {
      if (error instanceof CsrParseError) return this.#failures.refuse(csr, { type: "Failed", reason: "InvalidRequest", message: error.message }, log);
      throw error;
    }

    const kept = this.#answers.get(name);
    let chain: string;
    if (kept !== undefined && kept.uid === csr.metadata?.uid && d.now() - kept.at < ANSWER_REUSE_MS) {
      chain = kept.chain;
    } else {
      const signed = await this.#signAndVerify(csr, pem, requested, log);
      if (typeof signed !== "string") return signed;
      chain = signed;
      this.#answers.set(name, { uid: csr.metadata?.uid, chain, at: d.now() });
    }

    // Deleted while we were signing: nothing to write, and nothing to report.
    if (d.cache.get(name) === undefined) return this.#done(name, "gone");
    let write: { outcome: WriteOutcome; csr?: V1CertificateSigningRequest };
    try {
      write = await writeStatus(d.api, csr, setCertificate(chain));
    } catch (error) {
      return this.#failures.apiserverFault(csr, error, "writing the certificate", log);
    }
    if (write.outcome === "gone") {
      log.debug("CSR deleted before its certificate could be written; dropped");
      return this.#done(name, "gone");
    }
    if (write.csr !== undefined) d.cache.update(write.csr);
    if (write.outcome === "skipped") return write.csr !== undefined && isIssued(write.csr) ? this.#alreadyIssued(write.csr) : this.#done(name, "skipped");
    this.#issued(csr, log);
    return { kind: "done", outcome: "issued" };
  }

  /** Signs and verifies; resolves the chain, or the result to return when there is none. */
  async #signAndVerify(csr: V1CertificateSigningRequest, pem: string, requested: RequestedCertificate, log: Logger): Promise<string | ReconcileResult> {
    const d = this.#deps;
    if (d.trust.current === undefined) {
      try {
        await d.trust.refresh();
      } catch (error) {
        return this.#failures.transient(csr, error, log);
      }
    }
    let chain: string;
    try {
      chain = (await d.signer.sign(signRequestOf(csr, pem))).certificateChain;
    } catch (error) {
      return this.#failures.signerFault(csr, () => requested.sans, error, log);
    }
    try {
      this.#verify(requested, chain);
    } catch (error) {
      if (!(error instanceof VerificationError)) throw error;
      // The bundle may have rotated since we last fetched it: refresh once and check again.
      try {
        await d.trust.refresh();
        this.#verify(requested, chain);
      } catch (again) {
        if (!(again instanceof VerificationError)) return this.#failures.transient(csr, again, log);
        return this.#failures.badAnswer(csr, again, log);
      }
    }
    this.#failures.forget(csr.metadata?.name ?? "");
    recordIssuingCa(d.metrics, csr.spec.signerName, chain, d.trust.roots);
    return chain;
  }

  /**
   * The CSR already carries a certificate. When it is the one we signed (our write landed but its answer
   * was lost, e.g. the apiserver died mid-response), it is counted now; otherwise someone else issued it.
   */
  #alreadyIssued(csr: V1CertificateSigningRequest): ReconcileResult {
    const name = csr.metadata?.name ?? "";
    const kept = this.#answers.get(name);
    this.#done(name, "skipped");
    if (kept !== undefined && csr.status?.certificate === Buffer.from(kept.chain, "utf8").toString("base64")) {
      this.#issued(csr, this.#deps.logger.child({ csr: name, signerName: csr.spec.signerName }));
      return { kind: "done", outcome: "issued" };
    }
    return { kind: "done", outcome: "skipped" };
  }

  #issued(csr: V1CertificateSigningRequest, log: Logger): void {
    const d = this.#deps;
    d.metrics.issued.inc({ signer: csr.spec.signerName });
    const created = csr.metadata?.creationTimestamp;
    if (created !== undefined) {
      const seconds = (d.now() - new Date(created).getTime()) / 1000;
      if (seconds >= 0) d.metrics.issueLatency.observe({ signer: csr.spec.signerName }, seconds);
    }
    log.info("certificate issued");
  }

  #verify(requested: RequestedCertificate, chain: string): void {
    verifyAnswer(requested, chain, this.#deps.trust.roots, this.#deps.now());
  }

  #done(name: string, outcome: "gone" | "skipped"): ReconcileResult {
    this.forget(name);
    return { kind: "done", outcome };
  }

  /** Writes the Failed condition of a refusal (sign-failures.ts counts, logs and records it). */
  async #writeFailed(csr: V1CertificateSigningRequest, { reason, message }: Refusal): Promise<WriteOutcome> {
    const write = await writeStatus(this.#deps.api, csr, setFailed(reason, message, new Date(this.#deps.now())));
    this.#answers.delete(csr.metadata?.name ?? "");
    if (write.csr !== undefined) this.#deps.cache.update(write.csr);
    return write.outcome;
  }
}

/** The `POST /v1/sign` body for `csr` (docs/signer-api.md "POST /v1/sign"). */
export function signRequestOf(csr: V1CertificateSigningRequest, pem: string): SignRequest {
  const spec = csr.spec;
  const body: SignRequest = {
    signerName: spec.signerName,
    csr: pem,
    usages: spec.usages ?? [],
    requestor: {
      username: spec.username ?? "",
      ...(spec.uid === undefined ? {} : { uid: spec.uid }),
      ...(spec.groups === undefined ? {} : { groups: spec.groups }),
      ...(spec.extra === undefined ? {} : { extra: spec.extra }),
    },
  };
  if (spec.expirationSeconds !== undefined) body.expirationSeconds = spec.expirationSeconds;
  const name = csr.metadata?.name;
  if (name !== undefined) body.object = { name, ...(csr.metadata?.uid === undefined ? {} : { uid: csr.metadata.uid }) };
  return body;
}
