/**
 * One reconcile of one PodCertificateRequest (docs/shim.md "Pod certificates"), beside the CSR reconcile
 * (reconcile.ts) and classified the same way:
 *   - done: gone, issued, denied/failed, or nothing to do (another signer's, already finished);
 *   - retry: a transient fault of the signer (network, 5xx, 429, 401/403, an answer that failed
 *     verification or a 200 that is no valid answer) or of kube-apiserver; requeued with backoff;
 *   - Denied: the signer's policy refused (422), with the API's reason when it names one
 *     (`UnsupportedKeyType`, `InvalidUnverifiedUserAnnotations`), else `PolicyDenied`;
 *   - Failed: the signer cannot issue it (400/413/415: `InvalidRequest`, …), the request cannot be read,
 *     or MAX_VERIFICATION_FAILURES answers in a row were bad (`InvalidSignerAnswer`);
 *   - Denied and Failed are recorded as a Warning Event in the request's namespace.
 * A verified answer is kept until written, so a failed status write does not sign twice. The failure
 * handling (retries, bad answers, refusals, throttling) is sign-failures.ts, shared with the CSR reconciler.
 */
import type { V1beta1PodCertificateRequest } from "@kubernetes/client-node";
import type { PodSignRequest, PodSignResponse } from "@edgeca/shared";
import type { WriteOutcome } from "./csr-status.ts";
import type { Logger } from "./logger.ts";
import type { ShimMetrics } from "./metrics.ts";
import { verifyPodAnswer } from "./pcr-answer.ts";
import { isPcrFinished, pcrKey, setPcrIssued, setPcrRefused, writePcrStatus, type PcrStatusApi } from "./pcr-status.ts";
import { ANSWER_REUSE_MS, type ReconcileResult } from "./reconcile.ts";
import { SignFailures, type Refusal } from "./sign-failures.ts";
import type { SignerCallError } from "./signer-call-error.ts";
import type { PodSigner } from "./signer-client.ts";
import type { TrustBundle } from "./trust-bundle.ts";
import { VerificationError } from "./verify-answer.ts";

export interface PcrReconcilerDeps {
  readonly cache: { get(key: string): V1beta1PodCertificateRequest | undefined; update(pcr: V1beta1PodCertificateRequest): void };
  readonly api: PcrStatusApi;
  readonly signer: PodSigner;
  readonly trust: TrustBundle;
  /** Warning Events about refused requests, in their namespace (event-recorder.ts). */
  readonly events: { warning(pcr: V1beta1PodCertificateRequest, reason: string, note: string): Promise<void> };
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
  readonly #answers = new Map<string, { uid: string | undefined; answer: PodSignResponse; at: number }>();
  readonly #failures: SignFailures<V1beta1PodCertificateRequest>;

  constructor(deps: PcrReconcilerDeps) {
    this.#d = deps;
    this.#failures = new SignFailures(deps.metrics, {
      kind: "PodCertificateRequest",
      keyOf: (pcr) => pcrKey(pcr) ?? "",
      signerNameOf: (pcr) => pcr.spec.signerName,
      refusalOf,
      writeRefusal: (pcr, refusal) => this.#writeRefusal(pcr, refusal),
      answerKept: (key) => this.#answers.has(key),
      warning: (pcr, reason, note) => deps.events.warning(pcr, reason, note),
    });
  }

  forget(key: string): void {
    this.#failures.forget(key);
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
      return this.#failures.apiserverFault(pcr, error, "writing the certificate", log);
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
      return this.#failures.transient(pcr, error, log);
    }
    let answer: PodSignResponse;
    try {
      answer = await d.signer.signPod(podSignRequestOf(pcr));
    } catch (error) {
      return this.#failures.signerFault(pcr, () => podIdentitySans(pcr), error, log);
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
        if (!(again instanceof VerificationError)) return this.#failures.transient(pcr, again, log);
        return this.#failures.badAnswer(pcr, again, log);
      }
    }
    this.#failures.forget(key);
    return answer;
  }

  /** Writes the Denied or Failed condition of a refusal (sign-failures.ts counts and logs it). */
  async #writeRefusal(pcr: V1beta1PodCertificateRequest, { type, reason, message }: Refusal): Promise<WriteOutcome> {
    const write = await writePcrStatus(this.#d.api, pcr, setPcrRefused(type, reason, message, new Date(this.#d.now())));
    this.#answers.delete(pcrKey(pcr) ?? "");
    if (write.pcr !== undefined) this.#d.cache.update(write.pcr);
    return write.outcome;
  }

  #done(key: string, outcome: "gone" | "skipped"): ReconcileResult {
    this.forget(key);
    return { kind: "done", outcome };
  }
}

/** A terminal signer answer for a pod certificate: a policy refusal (422) is `Denied` with the API's reason when it names one; the rest `Failed`. */
function refusalOf(error: SignerCallError): Refusal {
  const message = error.problem?.detail ?? error.message;
  if (error.problem?.code === "policy_denied") return { type: "Denied", reason: error.problem.reason ?? "PolicyDenied", message };
  return { type: "Failed", reason: error.reason, message };
}

/**
 * The identity a throttled pod certificate is counted under (throttle.ts): the SPIFFE path of its
 * namespace and ServiceAccount, `ns/<namespace>/sa/<serviceAccountName>` (the trust domain is the signer's).
 */
function podIdentitySans(pcr: V1beta1PodCertificateRequest): string[] {
  return [`uri:ns/${pcr.metadata?.namespace ?? ""}/sa/${pcr.spec.serviceAccountName}`];
}
