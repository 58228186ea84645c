/**
 * The burst: what istiod in RA mode does when a mesh restarts, minus the waiting — for every prepared
 * request it creates a CSR and approves it itself (`/approval`), with a fixed number of these exchanges in
 * flight. It does not wait for certificates (the watch in csr-watch.ts collects them), so the CSRs pile up
 * at the signer exactly as fast as the apiserver takes them.
 */
import { webcrypto } from "node:crypto";
import { createIstioCsr, type CsrKeyType } from "@edgeca/testenv";
import type { BenchKubeAnswer as Answer, BenchKubeClient } from "./bench-kube-client.ts";
import { MAX_TRIES, withRetries } from "./kube-retry.ts";

const CSR_PATH = "/apis/certificates.k8s.io/v1/certificatesigningrequests";

/** One workload's request, made before the burst (key generation is not what is measured). */
export interface PreparedCsr {
  readonly keyType: CsrKeyType;
  readonly spiffeId: string;
  readonly csrPem: string;
  /** DER SubjectPublicKeyInfo of the workload key: the certificate must carry exactly this key. */
  readonly spki: Buffer;
}

/** Half RSA-2048, half P-256 (alternating), one SPIFFE ID each; keys made `parallel` at a time. */
export async function prepareCsrs(count: number, trustDomain: string, parallel = 8): Promise<PreparedCsr[]> {
  const out = new Array<PreparedCsr>(count);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      const i = next++;
      const keyType: CsrKeyType = i % 2 === 0 ? "RSA-2048" : "P-256";
      const spiffeId = `spiffe://${trustDomain}/ns/bench-${i % 20}/sa/workload-${i}`;
      const csr = await createIstioCsr({ keyType, uris: [spiffeId] });
      const spki = Buffer.from(await webcrypto.subtle.exportKey("spki", csr.keys.publicKey));
      out[i] = { keyType, spiffeId, csrPem: csr.csrPem, spki };
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(parallel, count)) }, worker));
  return out;
}

export interface BurstOptions {
  /** Names are `<prefix><index>`. */
  readonly namePrefix: string;
  readonly signerName: string;
  readonly usages: readonly string[];
  readonly inFlight: number;
  /** Stops creating more once aborted (SIGINT). */
  readonly signal?: AbortSignal;
}

export interface BurstResult {
  /** `Date.now()` just before each create request was sent, by CSR name. */
  readonly sentAt: ReadonlyMap<string, number>;
  readonly firstSentMs: number;
  readonly lastCreatedMs: number;
  /** Requests that needed another try (apiserver 409 / 429 / 5xx). */
  readonly retries: number;
}

/** Creates and approves every request as `client` (istiod), `inFlight` at a time. */
export async function runBurst(client: BenchKubeClient, csrs: readonly PreparedCsr[], options: BurstOptions): Promise<BurstResult> {
  const sentAt = new Map<string, number>();
  let retries = 0;
  let next = 0;
  let lastCreatedMs = 0;
  const firstSentMs = Date.now();
  const one = async (index: number, csr: PreparedCsr): Promise<void> => {
    const name = `${options.namePrefix}${index}`;
    const body = {
      apiVersion: "certificates.k8s.io/v1",
      kind: "CertificateSigningRequest",
      metadata: { name },
      spec: {
        request: Buffer.from(csr.csrPem, "utf8").toString("base64"),
        signerName: options.signerName,
        usages: [...options.usages],
        expirationSeconds: 86_400,
      },
    };
    sentAt.set(name, Date.now());
    const onRetry = (): void => {
      retries += 1;
    };
    let created = await withRetries(() => client.send("POST", CSR_PATH, body), `create ${name}`, onRetry, [409]);
    // 409 after a retried create: the first try reached the apiserver before its connection broke.
    if (created.status === 409) created = await existingOwn(client, name, options.signerName, onRetry);
    lastCreatedMs = Math.max(lastCreatedMs, Date.now());
    await approve(client, name, created.json, onRetry);
  };
  const worker = async (): Promise<void> => {
    while (next < csrs.length && options.signal?.aborted !== true) {
      const index = next++;
      const csr = csrs[index];
      if (csr !== undefined) await one(index, csr);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, options.inFlight) }, worker));
  options.signal?.throwIfAborted();
  return { sentAt, firstSentMs, lastCreatedMs, retries };
}

/** istiod's approval: an Approved condition written through the /approval subresource. */
async function approve(client: BenchKubeClient, name: string, created: unknown, onRetry: () => void): Promise<void> {
  let object: unknown = created;
  for (let attempt = 1; ; attempt++) {
    const body = {
      ...(typeof object === "object" && object !== null ? object : {}),
      status: { conditions: [{ type: "Approved", status: "True", reason: "IstiodRaApproval", message: `CSR (${name}) for the workload certificate is approved` }] },
    };
    const answer = await withRetries(() => client.send("PUT", `${CSR_PATH}/${name}/approval`, body), `approve ${name}`, onRetry, [409]);
    if (answer.status !== 409) return;
    // Someone wrote the CSR in between: approve the current version.
    if (attempt >= MAX_TRIES) throw new Error(`approve ${name}: still conflicting after ${MAX_TRIES} tries`);
    onRetry();
    object = (await withRetries(() => client.send("GET", `${CSR_PATH}/${name}`), `get ${name}`, onRetry)).json;
  }
}

/** The CSR `name` as it exists, when it is the one this burst created (same signer name). */
async function existingOwn(client: BenchKubeClient, name: string, signerName: string, onRetry: () => void): Promise<Answer> {
  const answer = await withRetries(() => client.send("GET", `${CSR_PATH}/${name}`), `get ${name}`, onRetry);
  const found = (answer.json as { spec?: { signerName?: string } } | undefined)?.spec?.signerName;
  if (found !== signerName) throw new Error(`create ${name}: it exists already, for signer ${String(found)} (a CSR left from another run?)`);
  return answer;
}
