/**
 * The signer's current trust bundle (`GET /v1/bundle`), kept fresh: every replica verifies answers against
 * it, the leader publishes it. During a rotation the bundle holds old and new roots (docs/configuration.md "Rotation"),
 * so a chain that does not lead to a known root triggers one refresh before it is refused.
 */
import type { Bundle } from "@edgeca/shared";
import type { SignerClient } from "./signer-client.ts";
import { readRoots, type ChainCertificate } from "./verify-answer.ts";

export class TrustBundle {
  #bundle: Bundle | undefined;
  #roots: ChainCertificate[] = [];
  #lastSuccess: number | undefined;
  #inflight: Promise<boolean> | undefined;
  readonly #signer: SignerClient;
  readonly #now: () => number;

  constructor(signer: SignerClient, now: () => number) {
    this.#signer = signer;
    this.#now = now;
  }

  /** The last bundle fetched, if any. */
  get current(): Bundle | undefined {
    return this.#bundle;
  }

  /** Parsed roots of the current bundle. */
  get roots(): readonly ChainCertificate[] {
    return this.#roots;
  }

  /** When the signer last answered a bundle request (ms), for readiness. */
  get lastSuccess(): number | undefined {
    return this.#lastSuccess;
  }

  /** Fetches the bundle; resolves true when it changed. Concurrent callers share one request. */
  refresh(): Promise<boolean> {
    this.#inflight ??= this.#fetch().finally(() => {
      this.#inflight = undefined;
    });
    return this.#inflight;
  }

  async #fetch(): Promise<boolean> {
    const bundle = await this.#signer.bundle();
    // Parse before accepting: a bundle that is not certificates must not replace a good one.
    const roots = bundle.roots.flatMap((pem) => readRoots(pem));
    this.#lastSuccess = this.#now();
    const changed = this.#bundle?.pem !== bundle.pem;
    this.#bundle = bundle;
    // The same roots keep the same array: verify-answer.ts keeps the verified intermediates per array.
    if (changed) this.#roots = roots;
    return changed;
  }
}
