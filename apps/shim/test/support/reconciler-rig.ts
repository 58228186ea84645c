/**
 * A Reconciler wired to fakes for unit tests: a Map for the cache, FakeCertificatesApi for the status
 * writes, a scripted signer, the real TrustBundle over that signer, recorded Events, the real metrics and a
 * logger whose records are kept. Time is a number the test moves.
 */
import type { V1CertificateSigningRequest } from "@kubernetes/client-node";
import type { Bundle, SignRequest, SignResponse } from "@edgeca/shared";
import { createLogger, type LogRecord } from "../../src/logger.ts";
import { createMetrics, type ShimMetrics } from "../../src/metrics.ts";
import { Reconciler } from "../../src/reconcile.ts";
import type { SignerClient } from "../../src/signer-client.ts";
import { TrustBundle } from "../../src/trust-bundle.ts";
import { csrObject, TEST_SIGNER, type CsrObjectOptions } from "./csr-object.ts";
import { FakeCertificatesApi } from "./fake-certificates-api.ts";

/** A SignerClient whose answers the test scripts; counts its calls. */
export class ScriptedSigner implements SignerClient {
  readonly requests: SignRequest[] = [];
  bundles = 0;
  /** The roots `bundle()` serves. */
  roots: string[];
  /** What `sign` does; a test replaces it. */
  answer: (request: SignRequest) => Promise<string> = () => Promise.reject(new Error("no answer scripted"));
  /** Called inside `sign` before it answers (e.g. to delete the CSR while it is being signed). */
  during: () => void = () => undefined;

  constructor(rootPem: string) {
    this.roots = [rootPem];
  }

  async sign(request: SignRequest): Promise<SignResponse> {
    this.requests.push(request);
    this.during();
    const chain = await this.answer(request);
    return { certificateChain: chain, serialNumber: "01", notBefore: new Date(0).toISOString(), notAfter: new Date(0).toISOString() };
  }

  bundle(): Promise<Bundle> {
    this.bundles++;
    return Promise.resolve({ roots: [...this.roots], pem: this.roots.join("") });
  }

  close(): void {
    // Nothing pooled.
  }
}

export interface RecordedEvent {
  readonly csr: string;
  readonly reason: string;
  readonly note: string;
}

export interface ReconcilerRig {
  readonly reconciler: Reconciler;
  readonly cache: Map<string, V1CertificateSigningRequest>;
  readonly api: FakeCertificatesApi;
  readonly signer: ScriptedSigner;
  readonly events: RecordedEvent[];
  readonly metrics: ShimMetrics;
  readonly logs: LogRecord[];
  /** The reconciler's clock, in ms since the epoch. */
  now: number;
  /** Stores a CSR on the fake apiserver and puts the stored copy in the cache; returns that copy. */
  add(name: string, options?: CsrObjectOptions): V1CertificateSigningRequest;
  /** The watch event after a write: the cache takes the apiserver's copy. */
  sync(name: string): void;
}

export function reconcilerRig(rootPem: string): ReconcilerRig {
  const cache = new Map<string, V1CertificateSigningRequest>();
  const api = new FakeCertificatesApi();
  const signer = new ScriptedSigner(rootPem);
  const events: RecordedEvent[] = [];
  const metrics = createMetrics();
  const logs: LogRecord[] = [];
  const rig: ReconcilerRig = {
    cache,
    api,
    signer,
    events,
    metrics,
    logs,
    now: Date.now(),
    reconciler: new Reconciler({
      cache: {
        get: (name) => cache.get(name),
        // As CsrCache: only a CSR still cached is replaced.
        update: (csr) => {
          const name = csr.metadata?.name ?? "";
          if (cache.has(name)) cache.set(name, csr);
        },
      },
      api: api.api,
      signer,
      trust: new TrustBundle(signer, () => rig.now),
      events: {
        warning: (csr, reason, note) => {
          events.push({ csr: csr.metadata?.name ?? "", reason, note });
          return Promise.resolve();
        },
      },
      metrics,
      logger: createLogger({ level: "debug", sink: (record) => logs.push(record) }),
      now: () => rig.now,
      signerNames: new Set([TEST_SIGNER]),
    }),
    add(name, options) {
      const stored = api.put(csrObject(name, options));
      cache.set(name, stored);
      return stored;
    },
    sync(name) {
      const stored = api.get(name);
      if (stored === undefined) cache.delete(name);
      else cache.set(name, stored);
    },
  };
  return rig;
}
