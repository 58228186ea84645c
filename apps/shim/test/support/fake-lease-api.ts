/**
 * A fake of the Lease calls LeaderElector makes, shared by several candidates like one apiserver: create of
 * an existing Lease and a replace with a stale resourceVersion are 409s, a read of a missing one a 404.
 * Faults are scripted per call.
 */
import type { CoordinationV1Api, V1Lease } from "@kubernetes/client-node";
import { apiError } from "./kube-errors.ts";

type LeaseApi = Pick<CoordinationV1Api, "readNamespacedLease" | "createNamespacedLease" | "replaceNamespacedLease">;
type Op = "read" | "create" | "replace";

export class FakeLeaseApi implements LeaseApi {
  #lease: V1Lease | undefined;
  #version = 0;
  readonly #faults: { op: Op; error: Error }[] = [];
  /** Every call, as "<op> <holderIdentity written or read>". */
  readonly calls: string[] = [];

  /** The fake as the client type LeaderElector takes; only the three calls above exist. */
  get api(): CoordinationV1Api {
    return this as LeaseApi as CoordinationV1Api;
  }

  /** The stored Lease. */
  get lease(): V1Lease | undefined {
    return this.#lease === undefined ? undefined : structuredClone(this.#lease);
  }

  /** Stores `lease` as written by someone else (a new resourceVersion). */
  put(lease: V1Lease): void {
    this.#lease = structuredClone(lease);
    (this.#lease.metadata ??= {}).resourceVersion = String(++this.#version);
  }

  /** Makes the next `times` calls of `op` fail with `error`. */
  fail(op: Op, error: Error, times = 1): void {
    for (let i = 0; i < times; i++) this.#faults.push({ op, error });
  }

  readNamespacedLease(): Promise<V1Lease> {
    this.calls.push(`read ${this.#lease?.spec?.holderIdentity ?? "-"}`);
    const fault = this.#fault("read");
    if (fault !== undefined) return Promise.reject(fault);
    const lease = this.lease;
    return lease === undefined ? Promise.reject(apiError(404)) : Promise.resolve(lease);
  }

  createNamespacedLease(param: { body: V1Lease }): Promise<V1Lease> {
    this.calls.push(`create ${param.body.spec?.holderIdentity ?? "-"}`);
    const fault = this.#fault("create");
    if (fault !== undefined) return Promise.reject(fault);
    if (this.#lease !== undefined) return Promise.reject(apiError(409, "leases.coordination.k8s.io already exists"));
    this.put(param.body);
    return Promise.resolve(this.lease ?? param.body);
  }

  replaceNamespacedLease(param: { body: V1Lease }): Promise<V1Lease> {
    this.calls.push(`replace ${param.body.spec?.holderIdentity ?? "-"}`);
    const fault = this.#fault("replace");
    if (fault !== undefined) return Promise.reject(fault);
    if (this.#lease === undefined) return Promise.reject(apiError(404));
    if (param.body.metadata?.resourceVersion !== this.#lease.metadata?.resourceVersion) return Promise.reject(apiError(409, "the object has been modified"));
    this.put(param.body);
    return Promise.resolve(this.lease ?? param.body);
  }

  #fault(op: Op): Error | undefined {
    const index = this.#faults.findIndex((f) => f.op === op);
    return index < 0 ? undefined : this.#faults.splice(index, 1)[0]?.error;
  }
}
