/**
 * The signer's issuance budgets (docs/configuration.md "Budgets") seen from the shim: a 429
 * `rate_limited` answer is retried after its Retry-After, never Failed, and said out loud: a warn log
 * naming the identity, the Retry-After and the signer's detail (which names the budget), and
 * `edgeca_shim_throttled_total{signer, identity}`.
 *
 * The identity label is bounded: normally no identity is throttled at all, and in an incident a few are
 * (the flooding ones), but an attacker holding istiod's power could try to mint for thousands of
 * identities. The first MAX_IDENTITY_LABELS distinct identities get their own series; every later one is
 * counted under "other" (the log still names it), so the series stay bounded per shim process.
 */
import type { Logger } from "./logger.ts";
import type { ShimMetrics } from "./metrics.ts";
import type { SignerCallError } from "./signer-call-error.ts";

export const MAX_IDENTITY_LABELS = 50;
export const OTHER_IDENTITY = "other";

/** The identity a CSR asks for, from its sorted "type:value" SANs: the URI SAN, else the DNS names joined by ",". */
export function identityOf(sans: readonly string[]): string {
  const uri = sans.find((s) => s.startsWith("uri:"));
  if (uri !== undefined) return uri.slice("uri:".length);
  const dns = sans.filter((s) => s.startsWith("dns:")).map((s) => s.slice("dns:".length));
  return dns.length > 0 ? dns.join(",") : "(no SAN)";
}

export class ThrottleRecorder {
  readonly #labelled = new Set<string>();
  readonly #metrics: ShimMetrics;

  constructor(metrics: ShimMetrics) {
    this.#metrics = metrics;
  }

  /** Counts and logs one throttled sign request for `signer` and the CSR's `sans`. */
  record(signer: string, sans: readonly string[], error: SignerCallError, log: Logger): void {
    const identity = identityOf(sans);
    if (!this.#labelled.has(identity) && this.#labelled.size < MAX_IDENTITY_LABELS) this.#labelled.add(identity);
    this.#metrics.throttled.inc({ signer, identity: this.#labelled.has(identity) ? identity : OTHER_IDENTITY });
    log.warn("the signer throttled this identity (issuance budget spent); will retry after Retry-After", {
      identity,
      retryAfterSeconds: error.retryAfterMs === undefined ? null : Math.ceil(error.retryAfterMs / 1000),
      detail: error.problem?.detail ?? error.message,
    });
  }
}
