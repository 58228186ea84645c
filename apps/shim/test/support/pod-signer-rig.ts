/**
 * A PcrReconciler wired for unit tests: a Map for the cache, an in-memory status subresource with the
 * apiserver's optimistic concurrency, a scripted pod signer whose certificates come from a root made at
 * test time (so verification passes or fails for real), the real TrustBundle and metrics.
 */
import "reflect-metadata";
import { webcrypto } from "node:crypto";
import type { V1beta1PodCertificateRequest } from "@kubernetes/client-node";
import { BasicConstraintsExtension, KeyUsageFlags, KeyUsagesExtension, SubjectAlternativeNameExtension, X509CertificateGenerator, type X509Certificate } from "@peculiar/x509";
import type { Bundle, PodSignRequest, PodSignResponse, SignResponse } from "@edgeca/shared";
import { createLogger, type LogRecord } from "../../src/logger.ts";
import { createMetrics, type ShimMetrics } from "../../src/metrics.ts";
import { PcrReconciler } from "../../src/pcr-reconcile.ts";
import type { PcrStatusApi } from "../../src/pcr-status.ts";
import type { PodSigner, SignerClient } from "../../src/signer-client.ts";
import { TrustBundle } from "../../src/trust-bundle.ts";
import { apiError } from "./kube-errors.ts";

const EC = { name: "ECDSA", namedCurve: "P-256" } as const;
const SIGN = { name: "ECDSA", hash: "SHA-256" } as const;
export const POD_SIGNER = "example.com/foo";

/** A root that issues pod leaves with the validity and SAN the test asks for. */
export interface PodIssuer {
  readonly rootPem: string;
  /** A leaf for the key with URI SAN `san` (and `dns` names, when given) and the validity asked for. */
  issue(spkiBase64: string, options: { san: string; dns?: readonly string[]; notBefore: Date; notAfter: Date }): Promise<string>;
}

export async function createPodIssuer(): Promise<PodIssuer> {
  const keys = await webcrypto.subtle.generateKey(EC, true, ["sign", "verify"]);
  const root: X509Certificate = await X509CertificateGenerator.createSelfSigned({
    name: "CN=pod test root",
    keys,
    signingAlgorithm: SIGN,
    notBefore: new Date(Date.now() - 3_600_000),
    notAfter: new Date(Date.now() + 100 * 86_400_000),
    extensions: [new BasicConstraintsExtension(true, undefined, true), new KeyUsagesExtension(KeyUsageFlags.keyCertSign, true)],
  });
  return {
    rootPem: root.toString("pem"),
    async issue(spkiBase64, o) {
      const publicKey = await webcrypto.subtle.importKey("spki", Buffer.from(spkiBase64, "base64"), EC, true, ["verify"]);
      const leaf = await X509CertificateGenerator.create({
        subject: "",
        issuer: root.subject,
        publicKey,
        signingKey: keys.privateKey,
        signingAlgorithm: SIGN,
        notBefore: o.notBefore,
        notAfter: o.notAfter,
        extensions: [
          new SubjectAlternativeNameExtension([{ type: "url", value: o.san }, ...(o.dns ?? []).map((value) => ({ type: "dns" as const, value }))], true),
          new BasicConstraintsExtension(false, undefined, true),
        ],
      });
      return leaf.toString("pem");
    },
  };
}

/** A pod signer whose answers the test scripts; serves `roots` as the bundle. */
export class ScriptedPodSigner implements SignerClient, PodSigner {
  readonly requests: PodSignRequest[] = [];
  answer: (request: PodSignRequest) => Promise<PodSignResponse> = () => Promise.reject(new Error("no answer scripted"));

  constructor(readonly roots: string[]) {}

  async signPod(request: PodSignRequest): Promise<PodSignResponse> {
    this.requests.push(request);
    return await this.answer(request);
  }

  sign(): Promise<SignResponse> {
    return Promise.reject(new Error("CSRs are not signed here"));
  }

  bundle(): Promise<Bundle> {
    return Promise.resolve({ roots: [...this.roots], pem: this.roots.join("") });
  }

  close(): void {
    // Nothing pooled.
  }
}

/** The status subresource of PodCertificateRequests in memory: a stale resourceVersion is 409, a missing object 404. */
export class FakePcrApi implements PcrStatusApi {
  readonly objects = new Map<string, V1beta1PodCertificateRequest>();
  readonly calls: string[] = [];
  #version = 100;

  put(pcr: V1beta1PodCertificateRequest): V1beta1PodCertificateRequest {
    const stored = structuredClone(pcr);
    (stored.metadata ??= {}).resourceVersion = String(++this.#version);
    this.objects.set(`${stored.metadata.namespace ?? ""}/${stored.metadata.name ?? ""}`, stored);
    return structuredClone(stored);
  }

  replaceNamespacedPodCertificateRequestStatus(p: { name: string; namespace: string; body: V1beta1PodCertificateRequest }): Promise<V1beta1PodCertificateRequest> {
    this.calls.push(`replace ${p.namespace}/${p.name}`);
    const stored = this.objects.get(`${p.namespace}/${p.name}`);
    if (stored === undefined) return Promise.reject(apiError(404));
    if (p.body.metadata?.resourceVersion !== stored.metadata?.resourceVersion) return Promise.reject(apiError(409));
    // The status subresource changes only the status.
    const next = structuredClone(stored);
    if (p.body.status !== undefined) next.status = structuredClone(p.body.status);
    return Promise.resolve(this.put(next));
  }

  readNamespacedPodCertificateRequest(p: { name: string; namespace: string }): Promise<V1beta1PodCertificateRequest> {
    this.calls.push(`read ${p.namespace}/${p.name}`);
    const stored = this.objects.get(`${p.namespace}/${p.name}`);
    return stored === undefined ? Promise.reject(apiError(404)) : Promise.resolve(structuredClone(stored));
  }
}

export interface PcrRig {
  readonly reconciler: PcrReconciler;
  readonly cache: Map<string, V1beta1PodCertificateRequest>;
  readonly api: FakePcrApi;
  readonly signer: ScriptedPodSigner;
  readonly metrics: ShimMetrics;
  readonly logs: LogRecord[];
  /** The Warning Events recorded: `namespace/name`, reason, note. */
  readonly events: { pcr: string; reason: string; note: string }[];
  now: number;
  /** Stores a PCR on the fake apiserver and in the cache; returns its key. */
  add(pcr: V1beta1PodCertificateRequest): string;
}

export function pcrRig(rootPem: string): PcrRig {
  const cache = new Map<string, V1beta1PodCertificateRequest>();
  const api = new FakePcrApi();
  const signer = new ScriptedPodSigner([rootPem]);
  const metrics = createMetrics();
  const logs: LogRecord[] = [];
  const events: PcrRig["events"] = [];
  const rig: PcrRig = {
    cache,
    api,
    signer,
    metrics,
    logs,
    events,
    now: Date.now(),
    reconciler: new PcrReconciler({
      cache: {
        get: (key) => cache.get(key),
        update: (pcr) => {
          const key = `${pcr.metadata?.namespace ?? ""}/${pcr.metadata?.name ?? ""}`;
          if (cache.has(key)) cache.set(key, pcr);
        },
      },
      api,
      signer,
      trust: new TrustBundle(signer, () => rig.now),
      events: {
        warning: (pcr, reason, note) => {
          events.push({ pcr: `${pcr.metadata?.namespace ?? ""}/${pcr.metadata?.name ?? ""}`, reason, note });
          return Promise.resolve();
        },
      },
      metrics,
      logger: createLogger({ level: "debug", sink: (record) => logs.push(record) }),
      now: () => rig.now,
      signerNames: new Set([POD_SIGNER]),
    }),
    add(pcr) {
      const stored = api.put(pcr);
      const key = `${stored.metadata?.namespace ?? ""}/${stored.metadata?.name ?? ""}`;
      cache.set(key, stored);
      return key;
    },
  };
  return rig;
}
