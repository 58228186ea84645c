/**
 * Keeps the trust bundle fresh and, on the leader, published (docs/shim.md "Trust bundle"): every
 * `refreshMs` and whenever this replica starts leading, fetch `GET /v1/bundle` and bring the Secret and
 * ClusterTrustBundles up to it.
 *
 * Runs are serial: a run asked for while one is going makes exactly one more run afterwards, so a new
 * leader always publishes what it has just fetched, and two publishes never race each other into 409s.
 */
import { sleep, type Clock } from "./clock.ts";
import type { Logger } from "./logger.ts";

export interface BundleSyncDeps {
  readonly trust: { refresh(): Promise<boolean>; readonly current: { readonly pem: string } | undefined; readonly roots: readonly unknown[] };
  readonly publisher: { publish(pem: string): Promise<boolean> };
  readonly isLeading: () => boolean;
  readonly refreshMs: number;
  readonly clock: Clock;
  readonly logger: Logger;
}

export class BundleSync {
  readonly #d: BundleSyncDeps;
  readonly #stop = new AbortController();
  #running: Promise<void> | undefined;
  #again = false;
  #loop: Promise<void> | undefined;

  constructor(deps: BundleSyncDeps) {
    this.#d = deps;
  }

  /** Starts the refresh loop. */
  start(): void {
    this.#loop ??= this.#run();
  }

  /** Refreshes and (when leading) publishes now; resolves when that run, or the one after it, ended. */
  sync(): Promise<void> {
    if (this.#running !== undefined) {
      this.#again = true;
      return this.#running;
    }
    this.#running = this.#drainRequests().finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }

  /** Stops the loop and waits for a run in progress. */
  async stop(): Promise<void> {
    this.#stop.abort();
    await this.#loop;
    await this.#running;
  }

  async #drainRequests(): Promise<void> {
    do {
      this.#again = false;
      await this.#once();
    } while (this.#askedAgain());
  }

  // A method, not the field: TypeScript would narrow the flag to false across the await above.
  #askedAgain(): boolean {
    return this.#again;
  }

  async #once(): Promise<void> {
    const d = this.#d;
    try {
      if (await d.trust.refresh()) d.logger.info("trust bundle loaded", { roots: d.trust.roots.length });
    } catch (error) {
      d.logger.warn("could not fetch the trust bundle from the signer", { error: error instanceof Error ? error.message : String(error) });
    }
    const pem = d.trust.current?.pem;
    if (d.isLeading() && pem !== undefined) await d.publisher.publish(pem);
  }

  async #run(): Promise<void> {
    while (!this.#stop.signal.aborted) {
      await this.sync();
      await sleep(this.#d.clock, this.#d.refreshMs, this.#stop.signal);
    }
  }
}
