/**
 * A fake of the two CertificatesV1Api calls the shim's status writes use, with the apiserver's optimistic
 * concurrency: a replace whose resourceVersion is not the stored one is a 409, a missing object a 404.
 * Faults are scripted per call; `landed` faults store the write and then lose the answer.
 */
import type { CertificatesV1Api, V1CertificateSigningRequest } from "@kubernetes/client-node";
import { apiError } from "./kube-errors.ts";

type StatusApi = Pick<CertificatesV1Api, "replaceCertificateSigningRequestStatus" | "readCertificateSigningRequest">;
type ReplaceParam = Parameters<StatusApi["replaceCertificateSigningRequestStatus"]>[0];
type ReadParam = Parameters<StatusApi["readCertificateSigningRequest"]>[0];

interface Fault {
  readonly op: "replace" | "read";
  readonly error: Error;
  /** The replace is stored before the error is thrown (the answer was lost, not the write). */
  readonly landed: boolean;
}

export class FakeCertificatesApi implements StatusApi {
  readonly #objects = new Map<string, V1CertificateSigningRequest>();
  readonly #faults: Fault[] = [];
  #version = 100;
  /** Every call, as "replace <name>" or "read <name>". */
  readonly calls: string[] = [];

  /** The fake as the client type the shim takes; only the two calls above exist. */
  get api(): CertificatesV1Api {
    // The shim's status writes call nothing else (csr-status.ts); a call to anything else fails loudly.
    return this as StatusApi as CertificatesV1Api;
  }

  /** Stores `csr` (a copy) as the server's object, with a new resourceVersion; returns that copy. */
  put(csr: V1CertificateSigningRequest): V1CertificateSigningRequest {
    const stored = structuredClone(csr);
    (stored.metadata ??= {}).resourceVersion = String(++this.#version);
    this.#objects.set(stored.metadata.name ?? "", stored);
    return structuredClone(stored);
  }

  /** The server's copy of `name`. */
  get(name: string): V1CertificateSigningRequest | undefined {
    const stored = this.#objects.get(name);
    return stored === undefined ? undefined : structuredClone(stored);
  }

  delete(name: string): void {
    this.#objects.delete(name);
  }

  /** Makes the next `times` calls of `op` fail with `error`. */
  fail(op: "replace" | "read", error: Error, options: { times?: number; landed?: boolean } = {}): void {
    for (let i = 0; i < (options.times ?? 1); i++) this.#faults.push({ op, error, landed: options.landed ?? false });
  }

  replaceCertificateSigningRequestStatus(param: ReplaceParam): Promise<V1CertificateSigningRequest> {
    this.calls.push(`replace ${param.name}`);
    const fault = this.#takeFault("replace");
    if (fault !== undefined && !fault.landed) return Promise.reject(fault.error);
    const stored = this.#objects.get(param.name);
    if (stored === undefined) return Promise.reject(apiError(404));
    if (param.body.metadata?.resourceVersion !== stored.metadata?.resourceVersion) return Promise.reject(apiError(409, "the object has been modified"));
    // The status subresource changes only the status.
    const next = structuredClone(stored);
    if (param.body.status !== undefined) next.status = structuredClone(param.body.status);
    const written = this.put(next);
    return fault === undefined ? Promise.resolve(written) : Promise.reject(fault.error);
  }

  readCertificateSigningRequest(param: ReadParam): Promise<V1CertificateSigningRequest> {
    this.calls.push(`read ${param.name}`);
    const fault = this.#takeFault("read");
    if (fault !== undefined) return Promise.reject(fault.error);
    const stored = this.get(param.name);
    return stored === undefined ? Promise.reject(apiError(404)) : Promise.resolve(stored);
  }

  #takeFault(op: "replace" | "read"): Fault | undefined {
    const index = this.#faults.findIndex((f) => f.op === op);
    return index < 0 ? undefined : this.#faults.splice(index, 1)[0];
  }
}
