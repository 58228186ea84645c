/**
 * The controller loop, after kube's pkg/controller/certificates/certificate_controller.go: cache events put
 * CSR names on a work queue; while this replica leads, `concurrency` workers take names off it, reconcile,
 * and requeue with per-key backoff what asks for a retry (`Run`, `worker`, `processNextWorkItem`,
 * `handleErr`).
 *
 * Only events that can need a signature are enqueued (docs/shim.md "Queue"): an approved CSR with no
 * certificate and no Failed/Denied condition. The shim's own status write, istiod's create before its
 * approval, and a deletion therefore cost no reconcile, and `edgeca_shim_queue_depth` counts CSRs that are
 * really waiting to be signed. A deletion clears what the controller remembers of the CSR.
 */
import type { V1CertificateSigningRequest } from "@kubernetes/client-node";
import type { BackoffOptions } from "./backoff.ts";
import type { Clock } from "./clock.ts";
import type { CsrEventType, SignerObject } from "./csr-cache.ts";
import { needsSigning } from "./csr-status.ts";
import type { Logger } from "./logger.ts";
import type { ShimMetrics } from "./metrics.ts";
import type { ReconcileResult } from "./reconcile.ts";
import { WorkQueue } from "./work-queue.ts";

// Retry-After beyond this is not honoured: a CSR's requester would long have given up.
export const MAX_RETRY_AFTER_MS = 5 * 60_000;

export interface ControllerDeps<T extends SignerObject = V1CertificateSigningRequest> {
  readonly reconciler: { reconcile(name: string): Promise<ReconcileResult>; forget(name: string): void };
  readonly cache: { get(name: string): T | undefined; keys(): readonly string[] };
  readonly clock: Clock;
  readonly backoff: BackoffOptions;
  readonly concurrency: number;
  readonly metrics: ShimMetrics;
  readonly logger: Logger;
  /** Where the queue's depth goes; default `edgeca_shim_queue_depth` (the CSR queue's). */
  readonly onDepth?: (depth: number) => void;
}

/** The controller loop for any signer-named object; `needsWork` says which events are enqueued. */
export class WorkController<T extends SignerObject> {
  readonly #d: ControllerDeps<T>;
  readonly #needsWork: (obj: T) => boolean;
  #queue: WorkQueue | undefined;
  #workers: Promise<void>[] = [];

  constructor(deps: ControllerDeps<T>, needsWork: (obj: T) => boolean) {
    this.#d = deps;
    this.#needsWork = needsWork;
  }

  /** True while workers run (this replica leads). */
  get running(): boolean {
    return this.#queue !== undefined;
  }

  /** The cache's change handler: enqueues `name` when the CSR may need a signature. */
  onChange(name: string, type: CsrEventType): void {
    if (type === "deleted") {
      this.#d.reconciler.forget(name);
      this.#queue?.forget(name);
      return;
    }
    const csr = this.#d.cache.get(name);
    if (csr !== undefined && this.#needsWork(csr)) this.#queue?.add(name);
  }

  /** Starts a fresh queue with every cached CSR that needs a signature, and the workers. */
  start(): void {
    if (this.#queue !== undefined) return;
    const queue = new WorkQueue({ clock: this.#d.clock, backoff: this.#d.backoff, onDepth: this.#d.onDepth ?? ((depth) => { this.#d.metrics.queueDepth.set(depth); }) });
    this.#queue = queue;
    for (const name of this.#d.cache.keys()) this.onChange(name, "relisted");
    this.#workers = Array.from({ length: this.#d.concurrency }, () => this.#worker(queue));
  }

  /** Stops handing out work; in-flight reconciles go on until `drain` resolves. */
  stop(): void {
    this.#queue?.shutDown();
    this.#queue = undefined;
  }

  /** Resolves once every worker of the last `start` has finished its current reconcile. */
  async drain(): Promise<void> {
    await Promise.allSettled(this.#workers);
  }

  async #worker(queue: WorkQueue): Promise<void> {
    while (await this.#processNextItem(queue));
  }

  async #processNextItem(queue: WorkQueue): Promise<boolean> {
    const key = await queue.get();
    if (key === undefined) return false;
    try {
      this.#handle(queue, key, await this.#d.reconciler.reconcile(key));
    } catch (error) {
      // Unexpected (a bug): log and retry with backoff like any transient fault. Known faults of the
      // apiserver and the signer are classified by the reconciler and arrive as a `retry` result.
      this.#d.logger.error("reconcile failed unexpectedly; will retry", { csr: key, error: error instanceof Error ? error.message : String(error) });
      this.#d.metrics.retried.inc({ signer: this.#d.cache.get(key)?.spec.signerName ?? "unknown", reason: "Error" });
      queue.addRateLimited(key);
    } finally {
      queue.done(key);
    }
    return true;
  }

  #handle(queue: WorkQueue, key: string, result: ReconcileResult): void {
    if (result.kind === "done") queue.forget(key);
    else queue.addRateLimited(key, Math.min(result.afterMs ?? 0, MAX_RETRY_AFTER_MS));
  }
}

/** The CSR controller: enqueues approved CSRs that wait for a certificate. */
export class CsrController extends WorkController<V1CertificateSigningRequest> {
  constructor(deps: ControllerDeps) {
    super(deps, needsSigning);
  }
}
