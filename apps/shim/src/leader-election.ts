/**
 * Leader election on a coordination.k8s.io/v1 Lease, after client-go's leaderelection package: candidates
 * try every retry period; a lease held by someone else counts as expired only after leaseDurationSeconds
 * of *our own* observation without change (no clock comparison across machines); the leader steps down
 * when it has not renewed for renewDeadline; on stop it releases the lease (empty holder) so a standby
 * takes over at once instead of waiting for expiry.
 */
/* eslint-disable @typescript-eslint/no-misused-spread -- @kubernetes/client-node models are data-only classes (a static attribute map, no instance methods); the API serialises object literals and spread copies identically. */
import { CoordinationV1Api, V1MicroTime, type KubeConfig, type V1Lease } from "@kubernetes/client-node";
import { sleep, type Clock } from "./clock.ts";
import { kubeMessage, kubeStatus } from "./kube-error.ts";
import type { Logger } from "./logger.ts";

export interface LeaderElectionOptions {
  readonly kubeConfig: KubeConfig;
  /** The Lease API; by default a client of `kubeConfig` (unit tests pass a fake). */
  readonly api?: CoordinationV1Api;
  readonly namespace: string;
  readonly name: string;
  readonly identity: string;
  readonly leaseDurationMs: number;
  readonly renewDeadlineMs: number;
  readonly retryPeriodMs: number;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly onStartedLeading: () => void;
  readonly onStoppedLeading: () => void;
}

export class LeaderElector {
  readonly #o: LeaderElectionOptions;
  readonly #api: CoordinationV1Api;
  readonly #stop = new AbortController();
  #loop: Promise<void> | undefined;
  #leader = false;
  #lastRenew = 0;
  #observed: { resourceVersion: string; at: number } | undefined;
  #lease: V1Lease | undefined;

  constructor(options: LeaderElectionOptions) {
    this.#o = options;
    this.#api = options.api ?? options.kubeConfig.makeApiClient(CoordinationV1Api);
  }

  get isLeader(): boolean {
    return this.#leader;
  }

  start(): void {
    this.#loop ??= this.#run();
  }

  /**
   * Stops campaigning. A leader calls onStoppedLeading, waits for `drain` (in-flight work), and only then
   * releases the lease, so the next leader never works on a CSR this one is still writing.
   */
  async stop(drain: () => Promise<void> = () => Promise.resolve()): Promise<void> {
    this.#stop.abort();
    await this.#loop;
    if (this.#leader) {
      this.#setLeader(false);
      await drain();
      await this.#release();
    }
  }

  async #run(): Promise<void> {
    const { clock, retryPeriodMs, renewDeadlineMs, logger } = this.#o;
    // A function, not the property: TypeScript would narrow `aborted` to false across awaits.
    const stopped = (): boolean => this.#stop.signal.aborted;
    while (!stopped()) {
      let ok = false;
      try {
        ok = await this.#tryAcquireOrRenew();
      } catch (error) {
        logger.warn("lease update failed", { lease: `${this.#o.namespace}/${this.#o.name}`, error: kubeMessage(error) });
      }
      if (stopped()) break;
      const now = clock.now();
      if (ok) {
        this.#lastRenew = now;
        if (!this.#leader) this.#setLeader(true);
      } else if (this.#leader && now - this.#lastRenew >= renewDeadlineMs) {
        logger.warn("could not renew the lease before the renew deadline; stepping down");
        this.#setLeader(false);
      }
      // client-go jitters the retry period by up to 20% so candidates do not collide.
      await sleep(clock, retryPeriodMs * (1 + Math.random() * 0.2), this.#stop.signal);
    }
  }

  #setLeader(leader: boolean): void {
    this.#leader = leader;
    this.#o.logger.info(leader ? "became leader" : "stopped leading", { lease: `${this.#o.namespace}/${this.#o.name}`, identity: this.#o.identity });
    if (leader) this.#o.onStartedLeading();
    else this.#o.onStoppedLeading();
  }

  async #tryAcquireOrRenew(): Promise<boolean> {
    const { namespace, name, identity, clock, leaseDurationMs } = this.#o;
    const now = clock.now();
    const durationSeconds = Math.max(1, Math.ceil(leaseDurationMs / 1000));
    let lease: V1Lease;
    try {
      lease = await this.#api.readNamespacedLease({ name, namespace });
    } catch (error) {
      if (kubeStatus(error) !== 404) throw error;
      const body = {
        metadata: { name, namespace },
        spec: { holderIdentity: identity, leaseDurationSeconds: durationSeconds, acquireTime: new V1MicroTime(now), renewTime: new V1MicroTime(now), leaseTransitions: 0 },
      };
      const created = await this.#api.createNamespacedLease({ namespace, body }).catch((createError: unknown) => {
        // 409: another candidate created it first; it leads this round.
        if (kubeStatus(createError) === 409) return undefined;
        throw createError;
      });
      if (created === undefined) return false;
      this.#lease = created;
      return true;
    }
    const rv = lease.metadata?.resourceVersion ?? "";
    if (this.#observed?.resourceVersion !== rv) this.#observed = { resourceVersion: rv, at: now };
    const spec = lease.spec ?? {};
    const holder = spec.holderIdentity ?? "";
    const heldByOther = holder !== "" && holder !== identity;
    const theirDurationMs = (spec.leaseDurationSeconds ?? durationSeconds) * 1000;
    if (heldByOther && this.#observed.at + theirDurationMs > now) return false;

    const mine = holder === identity;
    const updated = await this.#api.replaceNamespacedLease({
      name,
      namespace,
      body: {
        metadata: { ...lease.metadata, name, namespace },
        spec: {
          holderIdentity: identity,
          leaseDurationSeconds: durationSeconds,
          acquireTime: mine && spec.acquireTime !== undefined ? new V1MicroTime(new Date(spec.acquireTime).getTime()) : new V1MicroTime(now),
          renewTime: new V1MicroTime(now),
          leaseTransitions: (spec.leaseTransitions ?? 0) + (mine ? 0 : 1),
        },
      },
    }).catch((error: unknown) => {
      // 409: someone else wrote first; we lost this round.
      if (kubeStatus(error) === 409) return undefined;
      throw error;
    });
    if (updated === undefined) return false;
    this.#lease = updated;
    this.#observed = { resourceVersion: updated.metadata?.resourceVersion ?? "", at: now };
    return true;
  }

  async #release(): Promise<void> {
    const lease = this.#lease;
    if (lease?.spec?.holderIdentity !== this.#o.identity) return;
    const { namespace, name, clock } = this.#o;
    try {
      await this.#api.replaceNamespacedLease({
        name,
        namespace,
        body: {
          metadata: { ...lease.metadata, name, namespace },
          // MicroTime must be written with six fractional digits, hence V1MicroTime, never a plain Date.
          spec: { holderIdentity: "", leaseDurationSeconds: 1, acquireTime: new V1MicroTime(clock.now()), renewTime: new V1MicroTime(clock.now()), leaseTransitions: lease.spec.leaseTransitions ?? 0 },
        },
      });
      this.#o.logger.info("released the lease", { lease: `${namespace}/${name}` });
    } catch (error) {
      this.#o.logger.warn("could not release the lease; the standby takes over when it expires", { error: kubeMessage(error) });
    }
  }
}
