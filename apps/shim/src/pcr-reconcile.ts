/**
 * One reconcile of one PodCertificateRequest (docs/shim.md "Pod certificates"), beside the CSR reconcile
 * (reconcile.ts) and classified the same way:
 *   - done: gone, issued, denied/failed, or nothing to do (another signer's, already finished);
 *   - retry: a transient fault of the signer (network, 5xx, 429, 401/403, an answer that failed
 *     verification or a 200 that is no valid answer) or of kube-apiserver; requeued with backoff;
 *   - Denied: the signer's policy refused (422), with the API's reason when it names one
 *     (`UnsupportedKeyType`, `InvalidUnverifiedUserAnnotations`), else `PolicyDenied`;
 *   - Failed: the signer cannot issue it (400/413/415: `InvalidRequest`, …), the request cannot be read,
 *     or MAX_VERIFICATION_FAILURES answers in a row were bad (`InvalidSignerAnswer`).
 * A verified answer is kept until written, so a failed status write does not sign twice.
 */
import type { CertificatesV1beta1Api, V1beta1PodCertificateRequest } from "@kubernetes/client-node";
import type { PodSignRequest, PodSignResponse } from "@edgeca/shared";
import { apiserverReason, kubeMessage } from "./kube-error.ts";
import type { Logger } from "./logger.ts";
import type { ShimMetrics } from "./metrics.ts";
import { verifyPodAnswer } from "./pcr-answer.ts";
import { isPcrFinished, setPcrIssued, setPcrRefused, writePcrStatus } from "./pcr-status.ts";
import { ANSWER_REUSE_MS, MAX_VERIFICATION_FAILURES, type ReconcileResult } from "./reconcile.ts";
import { SignerCallError } from "./signer-call-error.ts";
import type { PodSigner } from "./signer-client.ts";
import type { TrustBundle } from "./trust-bundle.ts";
import { VerificationError } from "./verify-answer.ts";

export interface PcrReconcilerDeps {
  readonly cache: { get(key: string): V1beta1PodCertificateRequest | undefined; update(pcr: V1beta1PodCertificateRequest): void };
  readonly api: CertificatesV1beta1Api;
  readonly signer: PodSigner;
  readonly trust: TrustBundle;
  readonly metrics: ShimMetrics;
  readonly logger: Logger;
  readonly now: () => number;
  readonly signerNames: ReadonlySet<string>;
}

/** The `POST /v1/sign-pod` body for `pcr`: its spec, and the node as the requestor (the only creator NodeRestriction admits for it). */
export function podSignRequestOf(pcr: V1beta1PodCertificateRequest): PodSignRequest {
  const s = pcr.spec;
  const keys = Object.keys(s.unverifiedUserAnnotations ?? {});
  return {
    signerName: s.signerName,
    namespace: pcr.metadata?.namespace ?? "",
    podName: s.podName,
    podUID: s.podUID,
    serviceAccountName: s.serviceAccountName,
    serviceAccountUID: s.serviceAccountUID,
    nodeName: s.nodeName,
    nodeUID: s.nodeUID,
    pkixPublicKey: s.pkixPublicKey ?? "",
    proofOfPossession: s.proofOfPossession ?? "",
    maxExpirationSeconds: s.maxExpirationSeconds ?? 86_400,
    ...(keys.length === 0 ? {} : { unverifiedUserAnnotationKeys: keys }),
    requestor: { username: `system:node:${s.nodeName}` },
    ...(pcr.metadata?.name === undefined ? {} : { object: { name: pcr.metadata.name, ...(pcr.metadata.uid === undefined ? {} : { uid: pcr.metadata.uid }) } }),
  };
}

export class PcrReconciler {
  readonly #d: PcrReconcilerDeps;
  readonly #badAnswers = new Map<string, number>();
  readonly #answers = new Map<string, { uid: string | undefined; answer: PodSignResponse; at: number }>();

  constructor(deps: PcrReconcilerDeps) {
    this.#d = deps;
  }

  forget(key: string): void {
    this.#badAnswers.delete(key);
    this.#answers.delete(key);
  }

  async reconcile(key: string): Promise<ReconcileResult> {
    const d = this.#d;
    const pcr = d.cache.get(key);
    if (pcr === undefined) return this.#done(key, "gone");
    if (!d.signerNames.has(pcr.spec.signerName) || isPcrFinished(pcr)) return this.#done(key, "skipped");
    const log = d.logger.child({ podCertificateRequest: key, signerName: pcr.spec.signerName });
    const kept = this.#answers.get(key);
    let answer: PodSignResponse;
    if (kept !== undefined && kept.uid === pcr.metadata?.uid && d.now() - kept.at < ANSWER_REUSE_MS) {
      answer = kept.answer;
    } else {
      const signed = await this.#signAndVerify(key, pcr, log);
      if (!("certificateChain" in signed)) return signed;
      answer = signed;
      this.#answers.set(key, { uid: pcr.metadata?.uid, answer, at: d.now() });
    }
    if (d.cache.get(key) === undefined) return this.#done(key, "gone");
    let write;
    try {
      write = await writePcrStatus(d.api, pcr, setPcrIssued(answer, new Date(d.now())));
    } catch (error) {
      return this.#apiserverFault(pcr, error, "writing the certificate", log);
    }
    if (write.pcr !== undefined) d.cache.update(write.pcr);
    if (write.outcome !== "written") return this.#done(key, write.outcome);
    this.forget(key);
    d.metrics.issued.inc({ signer: pcr.spec.signerName });
    log.info("pod certificate issued", { notAfter: answer.notAfter });
    return { kind: "done", outcome: "issued" };
  }

  async #signAndVerify(key: string, pcr: V1beta1PodCertificateRequest, log: Logger): Promise<PodSignResponse | ReconcileResult> {
    const d = this.#d;
    try {
      if (d.trust.current === undefined) await d.trust.refresh();
    } catch (error) {
      return this.#transient(pcr, error, log);
    }
    let answer: PodSignResponse;
    try {
      answer = await d.signer.signPod(podSignRequestOf(pcr));
    } catch (error) {
      if (error instanceof SignerCallError && error.invalidAnswer) return this.#badAnswer(key, pcr, error, log);
      if (!(error instanceof SignerCallError && error.terminal)) return this.#transient(pcr, error, log);
      const detail = error.problem?.detail ?? error.message;
      if (error.problem?.code === "policy_denied") return this.#refuse(pcr, "Denied", error.problem.reason ?? "PolicyDenied", detail, log);
      return this.#refuse(pcr, "Failed", error.reason, detail, log);
    }
    try {
      verifyPodAnswer(pcr, answer, d.trust.roots, d.now());
    } catch (error) {
      if (!(error instanceof VerificationError)) throw error;
      try {
        // The bundle may have rotated since it was fetched: refresh once and check again.
        await d.trust.refresh();
        verifyPodAnswer(pcr, answer, d.trust.roots, d.now());
      } catch (again) {
        if (!(again instanceof VerificationError)) return this.#transient(pcr, again, log);
        return this.#badAnswer(key, pcr, again, log);
      }
    }
    this.#badAnswers.delete(key);
    return answer;
  }

  async #refuse(pcr: V1beta1PodCertificateRequest, type: "Denied" | "Failed", reason: string, message: string, log: Logger): Promise<ReconcileResult> {
    const d = this.#d;
    const key = `${pcr.metadata?.namespace ?? ""}/${pcr.metadata?.name ?? ""}`;
    let write;
    try {
      write = await writePcrStatus(d.api, pcr, setPcrRefused(type, reason, message, new Date(d.now())));
    } catch (error) {
      return this.#apiserverFault(pcr, error, `writing the ${type} condition (${reason})`, log);
    }
    this.forget(key);
    if (write.pcr !== undefined) d.cache.update(write.pcr);
    if (write.outcome !== "written") return { kind: "done", outcome: write.outcome };
    d.metrics.failed.inc({ signer: pcr.spec.signerName, reason });
    log.info(`PodCertificateRequest marked ${type}`, { reason, message });
    return { kind: "done", outcome: "failed" };
  }

  #transient(pcr: V1beta1PodCertificateRequest, error: unknown, log: Logger): ReconcileResult {
    const reason = error instanceof SignerCallError ? error.reason : "Error";
    const message = error instanceof Error ? error.message : String(error);
    if (error instanceof SignerCallError && error.misconfiguration) log.error("the signer refused the shim's credentials; check the client certificate, token audience and signer configuration", { reason, error: message });
    else log.warn("the signer did not sign the pod certificate; will retry", { reason, error: message });
    this.#d.metrics.retried.inc({ signer: pcr.spec.signerName, reason });
    const afterMs = error instanceof SignerCallError ? error.retryAfterMs : undefined;
    return afterMs === undefined ? { kind: "retry", reason } : { kind: "retry", reason, afterMs };
  }

  #apiserverFault(pcr: V1beta1PodCertificateRequest, error: unknown, what: string, log: Logger): ReconcileResult {
    const reason = apiserverReason(error);
    log.warn(`kube-apiserver failed ${what}; will retry`, { reason, error: kubeMessage(error) });
    this.#d.metrics.retried.inc({ signer: pcr.spec.signerName, reason });
    return { kind: "retry", reason };
  }

  /** An answer that failed verification, or a 200 that is no valid answer (SignerCallError.invalidAnswer). */
  async #badAnswer(key: string, pcr: V1beta1PodCertificateRequest, error: VerificationError | SignerCallError, log: Logger): Promise<ReconcileResult> {
    const count = (this.#badAnswers.get(key) ?? 0) + 1;
    this.#badAnswers.set(key, count);
    const verification = error instanceof VerificationError;
    if (verification) this.#d.metrics.verificationFailures.inc({ signer: pcr.spec.signerName });
    const what = verification ? "failed verification" : "is not a valid answer";
    log.error(`the signer's answer ${what}; not written`, { error: error.message, failures: count });
    if (count >= MAX_VERIFICATION_FAILURES) {
      return this.#refuse(pcr, "Failed", "InvalidSignerAnswer", `the signer's answer ${verification ? "failed verification" : "was refused"} ${count} times: ${error.message}`, log);
    }
    const reason = verification ? "VerificationFailed" : "InvalidSignerAnswer";
    this.#d.metrics.retried.inc({ signer: pcr.spec.signerName, reason });
    return { kind: "retry", reason };
  }

  #done(key: string, outcome: "gone" | "skipped"): ReconcileResult {
    this.forget(key);
    return { kind: "done", outcome };
  }
}
