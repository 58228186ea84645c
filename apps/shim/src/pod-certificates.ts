/**
 * Pod certificates beside CSRs (docs/shim.md "Pod certificates"): a PodCertificateRequest cache (every
 * replica, so a standby stays warm), a reconciler and a work queue of its own (leader only), started where
 * kube-apiserver serves certificates.k8s.io/v1beta1 podcertificaterequests (EDGECA_POD_CERTIFICATES=auto)
 * or always ("true").
 */
import type { KubeConfig, V1beta1PodCertificateRequest } from "@kubernetes/client-node";
import type { BackoffOptions } from "./backoff.ts";
import type { Clock } from "./clock.ts";
import { WorkController } from "./controller.ts";
import { createWarningWriter } from "./event-recorder.ts";
import { kubeMessage } from "./kube-error.ts";
import type { Logger } from "./logger.ts";
import type { ShimMetrics } from "./metrics.ts";
import { PcrCache, podCertificateRequestsServed } from "./pcr-cache.ts";
import { PcrReconciler } from "./pcr-reconcile.ts";
import { needsPodSigning, pcrStatusApi } from "./pcr-status.ts";
import type { PodSigner } from "./signer-client.ts";
import type { TrustBundle } from "./trust-bundle.ts";

export interface PodCertificatesOptions {
  readonly mode: "auto" | "true";
  readonly kubeConfig: KubeConfig;
  /** The replica's identity (POD_NAME): the Events' reportingInstance. */
  readonly instance: string;
  readonly signerNames: readonly string[];
  readonly signer: PodSigner;
  readonly trust: TrustBundle;
  readonly clock: Clock;
  readonly backoff: BackoffOptions;
  readonly concurrency: number;
  readonly metrics: ShimMetrics;
  readonly logger: Logger;
}

/** The running PodCertificateRequest side of the shim. */
export class PodCertificates {
  private constructor(
    private readonly cache: PcrCache,
    readonly controller: WorkController<V1beta1PodCertificateRequest>,
  ) {}

  /** Starts the cache when the API is served (or mode is "true"); undefined when it is not served. */
  static async start(o: PodCertificatesOptions): Promise<PodCertificates | undefined> {
    const log = o.logger.child({ resource: "podcertificaterequests" });
    if (o.mode === "auto") {
      let served = false;
      try {
        served = await podCertificateRequestsServed(o.kubeConfig);
      } catch (error) {
        log.error("could not discover whether the PodCertificateRequest API is served; pod certificates stay off until restart", { error: kubeMessage(error) });
      }
      if (!served) {
        log.info("PodCertificateRequest API not served; serving CSRs only");
        return undefined;
      }
    }
    // Events arrive only after cache.start(), when `controller` exists.
    const cache: PcrCache = new PcrCache({
      kubeConfig: o.kubeConfig,
      signerNames: o.signerNames,
      clock: o.clock,
      logger: log,
      onChange: (key, type) => { controller.onChange(key, type); },
      onRestart: (signerName, reason) => { o.metrics.watchRestarts.inc({ signer: signerName, reason }); },
    });
    const warn = createWarningWriter(o.kubeConfig, o.instance, log, () => o.clock.now());
    const reconciler = new PcrReconciler({
      cache,
      api: pcrStatusApi(o.kubeConfig),
      signer: o.signer,
      trust: o.trust,
      events: {
        warning: (pcr, reason, note) => {
          const { name = "unknown", namespace, uid } = pcr.metadata ?? {};
          return warn({ apiVersion: "certificates.k8s.io/v1beta1", kind: "PodCertificateRequest", name, namespace, uid }, reason, note);
        },
      },
      metrics: o.metrics,
      logger: log,
      now: () => o.clock.now(),
      signerNames: new Set(o.signerNames),
    });
    // edgeca_shim_queue_depth stays the CSR queue's.
    const controller = new WorkController<V1beta1PodCertificateRequest>(
      { reconciler, cache, clock: o.clock, backoff: o.backoff, concurrency: o.concurrency, metrics: o.metrics, logger: log, onDepth: () => undefined },
      needsPodSigning,
    );
    cache.start();
    log.info("serving PodCertificateRequests", { signerNames: o.signerNames });
    return new PodCertificates(cache, controller);
  }

  /** True once every signer name's PodCertificateRequests were listed. */
  get synced(): boolean {
    return this.cache.synced;
  }

  /** Stops the workers, waits for in-flight reconciles, stops the cache. */
  async stop(): Promise<void> {
    this.controller.stop();
    await this.controller.drain();
    await this.cache.stop();
  }
}
