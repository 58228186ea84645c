/**
 * Prometheus metrics, all named `edgeca_shim_…`, in a registry per shim instance (two replicas in one test
 * process must not share counters).
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";

export interface ShimMetrics {
  readonly registry: Registry;
  readonly issued: Counter<"signer">;
  readonly failed: Counter<"signer" | "reason">;
  readonly retried: Counter<"signer" | "reason">;
  readonly throttled: Counter<"signer" | "identity">;
  readonly verificationFailures: Counter<"signer">;
  readonly issueLatency: Histogram<"signer">;
  readonly signerRequest: Histogram<"endpoint" | "status">;
  readonly signerBatchItems: Histogram;
  readonly queueDepth: Gauge;
  readonly leader: Gauge;
  readonly watchRestarts: Counter<"signer" | "reason">;
  readonly bundleUpdates: Counter<"target">;
  readonly issuingCaNotAfter: Gauge<"signer">;
}

/** Creates the metrics; `defaults` adds the process metrics (CPU, memory, event loop) of prom-client. */
export function createMetrics(options: { defaults?: boolean } = {}): ShimMetrics {
  const registry = new Registry();
  if (options.defaults === true) collectDefaultMetrics({ register: registry, prefix: "edgeca_shim_" });
  const registers = [registry];
  return {
    registry,
    issued: new Counter({ name: "edgeca_shim_certificates_issued_total", help: "Certificates written to CSR status.", labelNames: ["signer"], registers }),
    failed: new Counter({ name: "edgeca_shim_csrs_failed_total", help: "CSRs marked Failed, by reason.", labelNames: ["signer", "reason"], registers }),
    retried: new Counter({ name: "edgeca_shim_retries_total", help: "Reconciles requeued after a transient fault, by reason.", labelNames: ["signer", "reason"], registers }),
    // The identity label is bounded by throttle.ts (MAX_IDENTITY_LABELS, then "other").
    throttled: new Counter({
      name: "edgeca_shim_throttled_total",
      help: "Sign requests the signer answered 429 (an issuance budget spent), by signer name and requested identity.",
      labelNames: ["signer", "identity"],
      registers,
    }),
    verificationFailures: new Counter({ name: "edgeca_shim_verification_failures_total", help: "Signer answers refused by verification (never written).", labelNames: ["signer"], registers }),
    issueLatency: new Histogram({
      name: "edgeca_shim_issue_latency_seconds",
      help: "Time from CSR creation to the certificate being written.",
      labelNames: ["signer"],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300],
      registers,
    }),
    signerRequest: new Histogram({
      name: "edgeca_shim_signer_request_duration_seconds",
      help: "Latency of requests to the signer, by endpoint and HTTP status.",
      labelNames: ["endpoint", "status"],
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    // Batching at work (docs/shim.md "Batches"): 1 is a CSR sent alone over /v1/sign.
    signerBatchItems: new Histogram({
      name: "edgeca_shim_signer_batch_items",
      help: "Sign requests carried by each request to the signer (/v1/sign: 1; /v1/sign-batch: the batch's size).",
      buckets: [1, 2, 4, 8, 16, 32],
      registers,
    }),
    queueDepth: new Gauge({ name: "edgeca_shim_queue_depth", help: "CSR keys waiting to be reconciled.", registers }),
    leader: new Gauge({ name: "edgeca_shim_leader", help: "1 while this replica holds the leader Lease.", registers }),
    watchRestarts: new Counter({ name: "edgeca_shim_watch_restarts_total", help: "Restarts of the CSR list+watch loop, by reason.", labelNames: ["signer", "reason"], registers }),
    bundleUpdates: new Counter({ name: "edgeca_shim_bundle_updates_total", help: "Writes of the published trust bundle, by target.", labelNames: ["target"], registers }),
    // The issuing CA's expiry, for the near-expiry alert (infra/monitoring): no other metric carries it.
    issuingCaNotAfter: new Gauge({
      name: "edgeca_shim_issuing_ca_not_after_seconds",
      help: "NotAfter (Unix seconds) of the CA that issued the last verified certificate, by signer name.",
      labelNames: ["signer"],
      registers,
    }),
  };
}
