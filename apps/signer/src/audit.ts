/**
 * The audit record of one `POST /v1/sign` decision (`AuditRecord` of @edgeca/shared), written as one JSON
 * line with `console.log`: Workers Logs and Logpush carry the Worker's console output, and `edgeca audit`
 * reads it back. Built only from names, serial, validity and the refusal: never the CSR, a key or a certificate.
 */
import { AUDIT_RECORD_KIND, type AuditRecord, type PodSignRequest, type SignRequest, type SignResponse } from "@edgeca/shared";
import { SignerError } from "./errors.ts";
import { describeRefusedCsr, type SignFacts } from "./sign-facts.ts";

/** What one request has told the signer so far; `issued` or `refused` writes the record, once. */
export class AuditTrail {
  readonly facts: SignFacts = {};
  cluster: string | undefined;
  /** The parsed body: a CSR (`/v1/sign`) or a PodCertificateRequest's spec (`/v1/sign-pod`). */
  request: SignRequest | PodSignRequest | undefined;
  #written = false;

  /** The certificate was signed. */
  issued(answer: SignResponse): void {
    this.#write({ decision: "issued", serialNumber: answer.serialNumber, notBefore: answer.notBefore, notAfter: answer.notAfter });
  }

  /** The request was refused (or throttled) with `error`. */
  refused(error: unknown): void {
    if (this.request !== undefined && "csr" in this.request) describeRefusedCsr(this.request.csr, this.facts);
    if (error instanceof SignerError) {
      const decision = error.code === "rate_limited" ? "throttled" : "refused";
      this.#write({ decision, code: error.code, status: error.status, reason: error.message.slice(0, 1024) });
    } else {
      this.#write({ decision: "refused", code: "internal", status: 500, reason: "internal error" });
    }
  }

  #write(outcome: Pick<AuditRecord, "decision"> & Partial<AuditRecord>): void {
    if (this.#written) return;
    this.#written = true;
    const r = this.request;
    const f = this.facts;
    const object = r?.object;
    const record: AuditRecord = {
      kind: AUDIT_RECORD_KIND,
      version: 1,
      time: new Date().toISOString(),
      ...(this.cluster === undefined ? {} : { cluster: this.cluster }),
      ...(r === undefined ? {} : { signerName: r.signerName, requestor: r.requestor.username }),
      ...(object === undefined ? {} : { csr: { name: object.name, ...(object.uid === undefined ? {} : { uid: object.uid }) } }),
      ...(f.profile === undefined ? {} : { profile: f.profile }),
      ...(f.spiffeId === undefined ? {} : { spiffeId: f.spiffeId }),
      ...(f.dnsNames === undefined ? {} : { dnsNames: [...f.dnsNames] }),
      ...(f.keyType === undefined ? {} : { keyType: f.keyType }),
      ...outcome,
      ...(f.issuer === undefined || outcome.decision !== "issued" ? {} : { issuer: f.issuer }),
      ...(f.budget === undefined ? {} : { budget: f.budget }),
      ...(f.budgetUnchecked === undefined ? {} : { budgetUnchecked: f.budgetUnchecked.slice(0, 1024) }),
    };
    console.log(JSON.stringify(record));
  }
}
