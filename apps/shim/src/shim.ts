/**
 * Assembles the shim: the CSR cache (always running, so a standby stays warm), leader election, the work
 * queue and workers (leader only), the trust bundle refresh (every replica) and its publication (leader
 * only), and the health/metrics server. `startShim` is what main.ts and the tests call.
 */
import { hostname } from "node:os";
import { ConfigurationError } from "@edgeca/shared";
import { KubeConfig } from "@kubernetes/client-node";
import { BundleSync } from "./bundle-sync.ts";
import { systemClock, type Clock } from "./clock.ts";
import type { ShimConfig } from "./config.ts";
import { CsrController } from "./controller.ts";
import { CsrCache } from "./csr-cache.ts";
import { csrStatusApi } from "./csr-status.ts";
import { createEventRecorder } from "./event-recorder.ts";
import { startHealthServer } from "./health-server.ts";
import { LeaderElector } from "./leader-election.ts";
import { createLogger, type LogSink, type Logger } from "./logger.ts";
import { createMetrics, type ShimMetrics } from "./metrics.ts";
import { PooledKubeConfig } from "./pooled-kube-config.ts";
import { BundlePublisher } from "./bundle-publisher.ts";
import { Reconciler } from "./reconcile.ts";
import { PodCertificates } from "./pod-certificates.ts";
import { SignBatcher } from "./sign-batcher.ts";
import { createHttpSignerClient, type BatchSigner, type PodSigner, type SignerClient } from "./signer-client.ts";
import { checkTokenAudience } from "./token-audience.ts";
import { TrustBundle } from "./trust-bundle.ts";

/** Everything a test (or main.ts) may substitute. */
export interface ShimDeps {
  /** Defaults to `config.kubeconfig`, else the in-cluster configuration. */
  readonly kubeConfig?: KubeConfig;
  /** Defaults to the mTLS client over node:https built from the config. */
  readonly signer?: SignerClient;
  /** Signs pod certificates; default `signer` when it can (the HTTP client can), else pod certificates are off. */
  readonly podSigner?: PodSigner;
  readonly clock?: Clock;
  /** Where JSON log records go (default stdout). */
  readonly logSink?: LogSink;
  /** Include prom-client's process metrics (main.ts does; tests with several replicas do not). */
  readonly processMetrics?: boolean;
}

/** A running shim. */
export interface Shim {
  /** The port of /healthz, /readyz, /metrics. */
  readonly port: number;
  readonly metrics: ShimMetrics;
  /** True while this replica leads (always true without leader election). */
  isLeader(): boolean;
  /** Undefined when ready, otherwise why not (what /readyz says). */
  notReadyReason(): string | undefined;
  /** Graceful shutdown: releases the lease, lets in-flight reconciles finish, closes everything. */
  stop(): Promise<void>;
}

/** What every part of the shim is built from: the config and the pieces made before the parts. */
interface Basics {
  readonly config: ShimConfig;
  readonly identity: string;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly metrics: ShimMetrics;
  readonly kubeConfig: PooledKubeConfig;
  readonly signer: SignerClient;
  readonly trust: TrustBundle;
}

/** Starts a shim with `config`; resolves once its HTTP server listens. */
export async function startShim(config: ShimConfig, deps: ShimDeps = {}): Promise<Shim> {
  const basics = createBasics(config, deps);
  const { clock, logger, metrics, kubeConfig, signer } = basics;
  const pods = await startPodCertificates(basics, deps.podSigner);
  const { cache, csrs } = createCsrController(basics);
  const bundles = createBundleSync(basics, () => csrs.running);

  const startLeading = (): void => {
    metrics.leader.set(1);
    csrs.start();
    pods?.controller.start();
    void bundles.sync();
  };
  const stopLeading = (): void => {
    metrics.leader.set(0);
    csrs.stop();
    pods?.controller.stop();
  };
  const elector =
    config.leaderElection === undefined
      ? undefined
      : new LeaderElector({ kubeConfig, ...config.leaderElection, clock, logger, onStartedLeading: startLeading, onStoppedLeading: stopLeading });

  const notReadyReason = readiness(basics, cache);
  const server = await startHealthServer({ host: config.http.host, port: config.http.port, registry: metrics.registry, notReadyReason, logger });
  cache.start();
  bundles.start();
  if (elector === undefined) startLeading();
  else elector.start();
  logger.info("shim started", { signerNames: config.signerNames, signerUrl: config.signerUrl, concurrency: config.concurrency, signerBatchMax: config.signerBatchMax, signerBatchWaitMs: config.signerBatchWaitMs, port: server.port, leaderElection: elector !== undefined });

  let stopped: Promise<void> | undefined;
  return {
    port: server.port,
    metrics,
    isLeader: () => csrs.running,
    notReadyReason,
    stop: () =>
      (stopped ??= (async () => {
        logger.info("shim stopping");
        const drain = async (): Promise<void> => {
          await csrs.drain();
          await pods?.controller.drain();
        };
        if (elector === undefined) stopLeading();
        else await elector.stop(drain);
        await drain();
        await cache.stop();
        await pods?.stop();
        await bundles.stop();
        signer.close();
        await kubeConfig.close();
        await server.close();
        logger.info("shim stopped");
      })()),
  };
}

/** The logger, metrics, the pooled kubeconfig, the signer client and the trust bundle it refreshes. */
function createBasics(config: ShimConfig, deps: ShimDeps): Basics {
  const clock = deps.clock ?? systemClock;
  const identity = config.leaderElection?.identity ?? hostname();
  const logger: Logger = createLogger({ level: config.logLevel, ...(deps.logSink === undefined ? {} : { sink: deps.logSink }), fields: { component: "edgeca-shim", identity } });
  const metrics = createMetrics({ defaults: deps.processMetrics === true });
  // One keep-alive pool for every API call (client-node alone opens a TLS connection per request).
  const kubeConfig = PooledKubeConfig.from(deps.kubeConfig ?? defaultKubeConfig(config));
  if (config.tokenFile !== undefined && config.tokenAudience !== undefined) checkTokenAudience(config.tokenFile, config.tokenAudience);
  const signer = deps.signer ?? createDefaultSigner(config, metrics);
  const trust = new TrustBundle(signer, () => clock.now());
  return { config, identity, clock, logger, metrics, kubeConfig, signer, trust };
}

/**
 * The mTLS client over node:https that the configuration describes; with `metrics`, its requests are timed
 * into edgeca_shim_signer_request_duration_seconds.
 */
export function createDefaultSigner(config: ShimConfig, metrics?: ShimMetrics): SignerClient & BatchSigner & PodSigner {
  return createHttpSignerClient({
    url: config.signerUrl,
    clientCertFile: config.clientCertFile,
    clientKeyFile: config.clientKeyFile,
    caFile: config.signerCaFile,
    tokenFile: config.tokenFile,
    timeoutMs: config.signerTimeoutMs,
    maxSockets: config.concurrency,
    ...(metrics === undefined
      ? {}
      : {
          observe: (endpoint: string, status: string, seconds: number) => { metrics.signerRequest.observe({ endpoint, status }, seconds); },
          observeItems: (items: number) => { metrics.signerBatchItems.observe(items); },
        }),
  });
}

/** Pod certificates, unless switched off or no signer can sign them. */
async function startPodCertificates(basics: Basics, podSignerDep: PodSigner | undefined): Promise<PodCertificates | undefined> {
  const { config, identity, kubeConfig, signer, trust, clock, metrics, logger } = basics;
  const podSigner = podSignerDep ?? (isPodSigner(signer) ? signer : undefined);
  const mode = config.podCertificates ?? "auto";
  if (mode === "false" || podSigner === undefined) return undefined;
  return PodCertificates.start({ mode, kubeConfig, instance: identity, signerNames: config.signerNames, signer: podSigner, trust, clock, backoff: config.backoff, concurrency: config.concurrency, metrics, logger });
}

/** The CSR cache feeding the controller's work queue, and the reconciler its workers run. */
function createCsrController(basics: Basics): { readonly cache: CsrCache; readonly csrs: CsrController } {
  const { config, identity, kubeConfig, trust, clock, metrics, logger } = basics;
  const cache = new CsrCache({
    kubeConfig,
    signerNames: config.signerNames,
    clock,
    logger,
    // Events arrive only after cache.start() in startShim, when `csrs` exists.
    onChange: (name, type) => { csrs.onChange(name, type); },
    onRestart: (signerName, reason) => { metrics.watchRestarts.inc({ signer: signerName, reason }); },
  });
  const reconciler = new Reconciler({
    cache,
    api: csrStatusApi(kubeConfig),
    signer: batched(basics),
    trust,
    events: createEventRecorder(kubeConfig, identity, logger, () => clock.now()),
    metrics,
    logger,
    now: () => clock.now(),
    signerNames: new Set(config.signerNames),
  });
  const csrs = new CsrController({ reconciler, cache, clock, backoff: config.backoff, concurrency: config.concurrency, metrics, logger });
  return { cache, csrs };
}

/** The CSRs' signer: waiting CSRs grouped into batches (sign-batcher.ts) when the signer client can send them. */
function batched(basics: Basics): SignerClient {
  const { config, signer, clock, logger } = basics;
  if (config.signerBatchMax <= 1 || !isBatchSigner(signer)) return signer;
  return new SignBatcher({ inner: signer, batchMax: config.signerBatchMax, concurrency: config.concurrency, waitMs: config.signerBatchWaitMs, clock, logger });
}

/** The trust bundle refresh (every replica) and its publication to the Secret / ClusterTrustBundle (leader only). */
function createBundleSync(basics: Basics, isLeading: () => boolean): BundleSync {
  const { config, kubeConfig, trust, clock, metrics, logger } = basics;
  const publisher = new BundlePublisher({
    kubeConfig,
    signerNames: config.signerNames,
    secret: config.bundleSecret,
    clusterTrustBundle: config.clusterTrustBundle,
    logger,
    onWrite: (target) => { metrics.bundleUpdates.inc({ target }); },
  });
  return new BundleSync({ trust, publisher, isLeading, refreshMs: config.bundleRefreshMs, clock, logger });
}

/** What /readyz says: undefined when ready, otherwise why not. */
function readiness(basics: Basics, cache: CsrCache): () => string | undefined {
  const { config, trust, clock } = basics;
  return () => {
    if (!cache.synced) return "the CSR cache has not synced";
    const apiserver = cache.apiserverFailure;
    if (apiserver !== undefined) return `kube-apiserver is failing: ${apiserver}`;
    const last = trust.lastSuccess;
    if (last === undefined) return "the signer has not answered yet";
    const window = Math.max(3 * config.bundleRefreshMs, 60_000);
    if (clock.now() - last > window) return `the signer has not answered for ${Math.round((clock.now() - last) / 1000)} s`;
    return undefined;
  };
}

function defaultKubeConfig(config: ShimConfig): KubeConfig {
  const kc = new KubeConfig();
  if (config.kubeconfig === undefined) {
    kc.loadFromCluster();
    return kc;
  }
  try {
    kc.loadFromFile(config.kubeconfig);
  } catch (error) {
    throw new ConfigurationError(`KUBECONFIG: cannot load ${config.kubeconfig}: ${error instanceof Error ? error.message : String(error)}`);
  }
  return kc;
}

function isPodSigner(signer: SignerClient): signer is SignerClient & PodSigner {
  return "signPod" in signer && typeof signer.signPod === "function";
}

function isBatchSigner(signer: SignerClient): signer is SignerClient & BatchSigner {
  return "signBatch" in signer && typeof signer.signBatch === "function";
}
