/**
 * Assembles the shim: the CSR cache (always running, so a standby stays warm), leader election, the work
 * queue and workers (leader only), the trust bundle refresh (every replica) and its publication (leader
 * only), and the health/metrics server. `startShim` is what main.ts and the tests call.
 */
import { hostname } from "node:os";
import { CertificatesV1Api, KubeConfig } from "@kubernetes/client-node";
import { sleep, systemClock, type Clock } from "./clock.ts";
import { ConfigError, type ShimConfig } from "./config.ts";
import { CsrCache } from "./csr-cache.ts";
import { createEventRecorder } from "./event-recorder.ts";
import { startHealthServer } from "./health-server.ts";
import { LeaderElector } from "./leader-election.ts";
import { createLogger, type LogSink, type Logger } from "./logger.ts";
import { createMetrics, type ShimMetrics } from "./metrics.ts";
import { BundlePublisher } from "./bundle-publisher.ts";
import { Reconciler } from "./reconcile.ts";
import { createHttpSignerClient, type SignerClient } from "./signer-client.ts";
import { checkTokenAudience } from "./token-audience.ts";
import { TrustBundle } from "./trust-bundle.ts";
import { WorkQueue } from "./work-queue.ts";

/** Everything a test (or main.ts) may substitute. */
export interface ShimDeps {
  /** Defaults to `config.kubeconfig`, else the in-cluster configuration. */
  readonly kubeConfig?: KubeConfig;
  /** Defaults to the mTLS client over node:https built from the config. */
  readonly signer?: SignerClient;
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

// Retry-After beyond this is not honoured: a CSR's requester would long have given up.
const MAX_RETRY_AFTER_MS = 5 * 60_000;

/** Starts a shim with `config`; resolves once its HTTP server listens. */
export async function startShim(config: ShimConfig, deps: ShimDeps = {}): Promise<Shim> {
  const clock = deps.clock ?? systemClock;
  const identity = config.leaderElection?.identity ?? hostname();
  const logger: Logger = createLogger({ level: config.logLevel, ...(deps.logSink === undefined ? {} : { sink: deps.logSink }), fields: { component: "edgeca-shim", identity } });
  const metrics = createMetrics({ defaults: deps.processMetrics === true });

  const kubeConfig = deps.kubeConfig ?? defaultKubeConfig(config);
  if (config.tokenFile !== undefined && config.tokenAudience !== undefined) checkTokenAudience(config.tokenFile, config.tokenAudience);
  const signer =
    deps.signer ??
    createHttpSignerClient({
      url: config.signerUrl,
      clientCertFile: config.clientCertFile,
      clientKeyFile: config.clientKeyFile,
      caFile: config.signerCaFile,
      tokenFile: config.tokenFile,
      timeoutMs: config.signerTimeoutMs,
      observe: (endpoint, status, seconds) => { metrics.signerRequest.observe({ endpoint, status }, seconds); },
    });

  const trust = new TrustBundle(signer, () => clock.now());
  const stopping = new AbortController();
  let queue: WorkQueue | undefined;
  let workers: Promise<void>[] = [];

  const cache = new CsrCache({
    kubeConfig,
    signerNames: config.signerNames,
    clock,
    logger,
    onChange: (name) => queue?.add(name),
    onRestart: (signerName, reason) => { metrics.watchRestarts.inc({ signer: signerName, reason }); },
  });
  const reconciler = new Reconciler({
    cache,
    api: kubeConfig.makeApiClient(CertificatesV1Api),
    signer,
    trust,
    events: createEventRecorder(kubeConfig, identity, logger, () => clock.now()),
    metrics,
    logger,
    now: () => clock.now(),
    signerNames: new Set(config.signerNames),
  });
  const publisher = new BundlePublisher({
    kubeConfig,
    signerNames: config.signerNames,
    secret: config.bundleSecret,
    clusterTrustBundle: config.clusterTrustBundle,
    logger,
    onWrite: (target) => { metrics.bundleUpdates.inc({ target }); },
  });

  let leading = false;
  const refreshAndPublishOnce = async (): Promise<void> => {
    try {
      const changed = await trust.refresh();
      if (changed) logger.info("trust bundle loaded", { roots: trust.roots.length });
    } catch (error) {
      logger.warn("could not fetch the trust bundle from the signer", { error: error instanceof Error ? error.message : String(error) });
    }
    const pem = trust.current?.pem;
    if (leading && pem !== undefined) await publisher.publish(pem);
  };
  // One run at a time (the refresh loop and a new leadership both ask); a request during a run makes one
  // more run afterwards, so a new leader always publishes what it has just fetched.
  let running: Promise<void> | undefined;
  let again = false;
  // A function, not the variable: TypeScript would narrow the flag to false across the await.
  const askedAgain = (): boolean => again;
  const refreshAndPublish = (): Promise<void> => {
    if (running !== undefined) {
      again = true;
      return running;
    }
    running = (async () => {
      do {
        again = false;
        await refreshAndPublishOnce();
      } while (askedAgain());
    })().finally(() => {
      running = undefined;
    });
    return running;
  };

  const work = async (q: WorkQueue): Promise<void> => {
    for (;;) {
      const key = await q.get();
      if (key === undefined) return;
      try {
        const result = await reconciler.reconcile(key);
        if (result.kind === "done") q.forget(key);
        else q.addRateLimited(key, Math.min(result.afterMs ?? 0, MAX_RETRY_AFTER_MS));
      } catch (error) {
        // Unexpected (an apiserver fault on write, a bug): log and retry with backoff like any transient fault.
        logger.error("reconcile failed; will retry", { csr: key, error: error instanceof Error ? error.message : String(error) });
        metrics.retried.inc({ signer: cache.get(key)?.spec.signerName ?? "unknown", reason: "Error" });
        q.addRateLimited(key);
      } finally {
        q.done(key);
      }
    }
  };

  const startLeading = (): void => {
    leading = true;
    metrics.leader.set(1);
    const q = new WorkQueue({ clock, backoff: config.backoff, onDepth: (depth) => { metrics.queueDepth.set(depth); } });
    queue = q;
    for (const name of cache.keys()) q.add(name);
    workers = Array.from({ length: config.concurrency }, () => work(q));
    void refreshAndPublish();
  };
  const stopLeading = (): void => {
    leading = false;
    metrics.leader.set(0);
    queue?.shutDown();
    queue = undefined;
  };

  const elector =
    config.leaderElection === undefined
      ? undefined
      : new LeaderElector({ kubeConfig, ...config.leaderElection, clock, logger, onStartedLeading: startLeading, onStoppedLeading: stopLeading });

  const refreshLoop = (async () => {
    while (!stopping.signal.aborted) {
      await refreshAndPublish();
      await sleep(clock, config.bundleRefreshMs, stopping.signal);
    }
  })();

  const notReadyReason = (): string | undefined => {
    if (!cache.synced) return "the CSR cache has not synced";
    const last = trust.lastSuccess;
    if (last === undefined) return "the signer has not answered yet";
    const window = Math.max(3 * config.bundleRefreshMs, 60_000);
    if (clock.now() - last > window) return `the signer has not answered for ${Math.round((clock.now() - last) / 1000)} s`;
    return undefined;
  };

  const server = await startHealthServer({ host: config.http.host, port: config.http.port, registry: metrics.registry, notReadyReason, logger });
  cache.start();
  if (elector === undefined) startLeading();
  else elector.start();
  logger.info("shim started", { signerNames: config.signerNames, signerUrl: config.signerUrl, concurrency: config.concurrency, port: server.port, leaderElection: elector !== undefined });

  let stopped: Promise<void> | undefined;
  return {
    port: server.port,
    metrics,
    isLeader: () => leading,
    notReadyReason,
    stop: () =>
      (stopped ??= (async () => {
        logger.info("shim stopping");
        stopping.abort();
        const drain = async (): Promise<void> => {
          await Promise.allSettled(workers);
        };
        if (elector === undefined) stopLeading();
        else await elector.stop(drain);
        await drain();
        await cache.stop();
        await refreshLoop;
        signer.close();
        await server.close();
        logger.info("shim stopped");
      })()),
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
    throw new ConfigError(`KUBECONFIG: cannot load ${config.kubeconfig}: ${error instanceof Error ? error.message : String(error)}`);
  }
  return kc;
}
