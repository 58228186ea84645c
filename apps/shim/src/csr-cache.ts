/**
 * The shim's view of the CSRs for its signer names, filled by one list+watch loop per signer name
 * (`fieldSelector=spec.signerName=<name>`; docs/facts.md "Kubernetes CSR API").
 *
 * Written by hand rather than with the library's informer: @kubernetes/client-node 2.x's `makeInformer`
 * takes no field selector (its `ListWatch` constructor does) and the informer stops on any error other than
 * 410, leaving the restart to the caller (docs/facts.md "@kubernetes/client-node"). This loop never stops until asked:
 * a watch that ends is resumed from the last resourceVersion; 410 Gone (or any failed resume) relists;
 * errors back off from 250 ms to 30 s. Handlers only enqueue keys (kubernetes certificate_controller.go).
 * Lists and watches go through the shim's own JSON client (apiserver-client.ts), so cached objects are the
 * apiserver's JSON as it sent it (timestamps are strings).
 */
import type { KubeConfig, V1CertificateSigningRequest, V1ObjectMeta } from "@kubernetes/client-node";
import { ApiserverClient, type WatchEvent } from "./apiserver-client.ts";
import { ItemBackoff } from "./backoff.ts";
import { sleep, type Clock } from "./clock.ts";
import { kubeMessage, kubeStatus } from "./kube-error.ts";
import type { Logger } from "./logger.ts";

export type CsrEventType = "added" | "modified" | "deleted" | "relisted";

export interface CsrCacheOptions {
  readonly kubeConfig: KubeConfig;
  readonly signerNames: readonly string[];
  readonly clock: Clock;
  readonly logger: Logger;
  /** Called with the CSR's name on every change (and for every CSR after each list). */
  readonly onChange: (name: string, type: CsrEventType) => void;
  /** Counts loop restarts, by signer name and reason ("gone", "error", "closed"). */
  readonly onRestart?: (signerName: string, reason: string) => void;
  /** Server-side watch timeout; the apiserver ends the watch cleanly after it and the loop resumes. */
  readonly watchTimeoutSeconds?: number;
}

const WATCH_BACKOFF = { baseMs: 250, maxMs: 30_000 };

/** An object the cache holds: metadata and a spec naming its signer. */
export interface SignerObject {
  metadata?: V1ObjectMeta;
  spec: { signerName: string };
}

/** One page of a list call, as the apiserver sends it. */
interface ListPage<T> {
  readonly items?: readonly T[] | null;
  readonly metadata?: { readonly continue?: string; readonly resourceVersion?: string };
}

/** The resource a cache lists and watches: CSRs here, PodCertificateRequests in pcr-cache.ts. */
export interface WatchedResource<T extends SignerObject> {
  /** For logs: "CSRs", "PodCertificateRequests". */
  readonly kind: string;
  /** The cluster-wide list and watch path. */
  readonly watchPath: string;
  /** The cache key of an object ("name", or "namespace/name" for a namespaced resource). */
  keyOf(obj: T): string | undefined;
  /** Whether a watch event's raw JSON object has the fields the shim relies on (`hasSignerShape`). */
  is(obj: unknown): obj is T;
}

/** CertificateSigningRequests (certificates.k8s.io/v1), keyed by name. */
export function csrResource(): WatchedResource<V1CertificateSigningRequest> {
  return {
    kind: "CSRs",
    watchPath: "/apis/certificates.k8s.io/v1/certificatesigningrequests",
    keyOf: (csr) => csr.metadata?.name,
    is: (obj): obj is V1CertificateSigningRequest => hasSignerShape(obj),
  };
}

/** The list+watch loop and its cache, for any signer-named resource. */
export class WatchCache<T extends SignerObject> {
  readonly #items = new Map<string, T>();
  readonly #synced = new Set<string>();
  readonly #options: CsrCacheOptions;
  readonly #resource: WatchedResource<T>;
  readonly #client: ApiserverClient;
  readonly #stop = new AbortController();
  readonly #loops: Promise<void>[] = [];
  readonly #backoff = new ItemBackoff(WATCH_BACKOFF);
  /** Why the list/watch of a signer name last failed, until it lists or watches again. */
  readonly #failures = new Map<string, string>();

  constructor(options: CsrCacheOptions, resource: WatchedResource<T>) {
    this.#options = options;
    this.#resource = resource;
    this.#client = ApiserverClient.for(options.kubeConfig);
  }

  /** Starts one list+watch loop per signer name. */
  start(): void {
    for (const signerName of this.#options.signerNames) this.#loops.push(this.#run(signerName));
  }

  /** True once every signer name has been listed at least once. */
  get synced(): boolean {
    return this.#synced.size === this.#options.signerNames.length;
  }

  /** Why kube-apiserver is failing the list/watch now (for /readyz), or undefined while it answers. */
  get apiserverFailure(): string | undefined {
    for (const failure of this.#failures.values()) return failure;
    return undefined;
  }

  /** Resolves once synced, or when stopped. */
  async waitForSync(signal?: AbortSignal): Promise<boolean> {
    while (!this.synced && signal?.aborted !== true && !this.#stop.signal.aborted) await sleep(this.#options.clock, 50, signal ?? this.#stop.signal);
    return this.synced;
  }

  /** The cached object with key `name`, if any. */
  get(name: string): T | undefined {
    return this.#items.get(name);
  }

  /** Names of every cached CSR. */
  keys(): string[] {
    return [...this.#items.keys()];
  }

  /**
   * Replaces the cached copy with the object our own write returned, if the CSR is still cached. No
   * resourceVersion comparison: the watch event for the same write (or a later one) overwrites it anyway.
   */
  update(csr: T): void {
    const name = this.#resource.keyOf(csr);
    if (name === undefined || !this.#items.has(name)) return;
    this.#items.set(name, csr);
  }

  /** Stops every loop and waits for them to end. */
  async stop(): Promise<void> {
    this.#stop.abort();
    await Promise.allSettled(this.#loops);
  }

  async #run(signerName: string): Promise<void> {
    const log = this.#options.logger.child({ signerName });
    const signal = this.#stop.signal;
    // A function, not the property: TypeScript would narrow `signal.aborted` to false across awaits.
    const stopped = (): boolean => signal.aborted;
    let resourceVersion: string | undefined;
    while (!stopped()) {
      try {
        if (resourceVersion === undefined) resourceVersion = await this.#list(signerName);
        const outcome = await this.#watchOnce(signerName, resourceVersion, (rv) => (resourceVersion = rv));
        if (stopped()) break;
        if (outcome === "gone") {
          // 410: our resourceVersion is too old; only a fresh list can resume (client-go reflector).
          log.info("watch expired (410 Gone); relisting");
          this.#options.onRestart?.(signerName, "gone");
          resourceVersion = undefined;
          continue;
        }
        this.#options.onRestart?.(signerName, "closed");
        this.#backoff.forget(signerName);
        log.debug("watch closed; resuming", { resourceVersion });
      } catch (error) {
        if (stopped()) break;
        const delay = this.#backoff.next(signerName);
        const status = kubeStatus(error);
        this.#options.onRestart?.(signerName, "error");
        this.#failures.set(signerName, kubeMessage(error));
        log.warn(`list/watch of ${this.#resource.kind} failed; retrying`, { error: kubeMessage(error), status, retryInMs: delay });
        // On 410, or after a resume failed twice, list again: events may have been missed meanwhile.
        if (status === 410 || this.#backoff.failures(signerName) > 1) resourceVersion = undefined;
        await sleep(this.#options.clock, delay, signal);
      }
    }
  }

  /** Lists the signer's CSRs, replaces them in the cache, notifies, and returns the list's resourceVersion. */
  async #list(signerName: string): Promise<string> {
    const seen = new Set<string>();
    let continueToken: string | undefined;
    let resourceVersion: string;
    do {
      const query = new URLSearchParams({ fieldSelector: `spec.signerName=${signerName}`, limit: "500" });
      if (continueToken !== undefined) query.set("continue", continueToken);
      const page = await this.#client.json<ListPage<T>>("GET", `${this.#resource.watchPath}?${query.toString()}`);
      for (const csr of page.items ?? []) {
        if (!this.#resource.is(csr)) continue;
        const name = this.#resource.keyOf(csr);
        if (name === undefined) continue;
        seen.add(name);
        this.#items.set(name, csr);
      }
      continueToken = page.metadata?.continue === "" ? undefined : page.metadata?.continue;
      resourceVersion = page.metadata?.resourceVersion ?? "";
    } while (continueToken !== undefined);
    for (const [name, csr] of this.#items) {
      if (csr.spec.signerName === signerName && !seen.has(name)) {
        this.#items.delete(name);
        this.#options.onChange(name, "deleted");
      }
    }
    this.#synced.add(signerName);
    this.#failures.delete(signerName);
    for (const name of seen) this.#options.onChange(name, "relisted");
    return resourceVersion;
  }

  /** Runs one watch until it ends; resolves "gone" on 410, "closed" otherwise; rejects on a failure. */
  async #watchOnce(signerName: string, resourceVersion: string, setRv: (rv: string) => void): Promise<"gone" | "closed"> {
    // An object, not a let: TypeScript would narrow a boolean set in the handler to false after the await.
    const state = { gone: false };
    const watch = new AbortController();
    const onStop = (): void => { watch.abort(); };
    this.#stop.signal.addEventListener("abort", onStop, { once: true });
    const handle = ({ type: phase, object: obj }: WatchEvent): void => {
      if (phase === "ERROR") {
        const code = typeof obj === "object" && obj !== null && "code" in obj ? obj.code : undefined;
        if (code === 410) {
          state.gone = true;
          watch.abort();
          return;
        }
        throw Object.assign(new Error(`watch error event: ${JSON.stringify(obj).slice(0, 300)}`), { statusCode: code });
      }
      if (!this.#resource.is(obj)) return;
      const csr = obj;
      const name = this.#resource.keyOf(csr);
      const rv = csr.metadata?.resourceVersion;
      if (rv !== undefined) setRv(rv);
      if (phase === "BOOKMARK" || name === undefined) return;
      if (csr.spec.signerName !== signerName) return;
      if (phase === "DELETED") {
        this.#items.delete(name);
        this.#options.onChange(name, "deleted");
      } else if (phase === "ADDED" || phase === "MODIFIED") {
        this.#items.set(name, csr);
        this.#options.onChange(name, phase === "ADDED" ? "added" : "modified");
      }
    };
    const query = new URLSearchParams({
      fieldSelector: `spec.signerName=${signerName}`,
      resourceVersion,
      allowWatchBookmarks: "true",
      // The apiserver ends the watch cleanly after it; a watch silent for 30 s is dead (apiserver-client.ts).
      timeoutSeconds: String(this.#options.watchTimeoutSeconds ?? 25),
    });
    try {
      await this.#client.watch(`${this.#resource.watchPath}?${query.toString()}`, handle, watch.signal, () => this.#failures.delete(signerName));
    } catch (error) {
      if (state.gone) return "gone";
      if (this.#stop.signal.aborted) return "closed";
      if (kubeStatus(error) === 410) return "gone";
      throw error;
    } finally {
      this.#stop.signal.removeEventListener("abort", onStop);
    }
    return state.gone ? "gone" : "closed";
  }
}

/** The shim's view of the CSRs for its signer names. */
export class CsrCache extends WatchCache<V1CertificateSigningRequest> {
  constructor(options: CsrCacheOptions) {
    super(options, csrResource());
  }
}

/** A watch event's object is raw JSON from the apiserver: check the fields the shim relies on. */
export function hasSignerShape(obj: unknown): boolean {
  if (typeof obj !== "object" || obj === null) return false;
  const o = obj as { metadata?: unknown; spec?: unknown };
  return (
    typeof o.metadata === "object" && o.metadata !== null &&
    typeof o.spec === "object" && o.spec !== null &&
    typeof (o.spec as { signerName?: unknown }).signerName === "string"
  );
}
