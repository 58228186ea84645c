/**
 * `npm run bench -- e2e`: the CSR → certificate path under a burst, through the real apiserver, for
 * kube-controller-manager's csrsigning controller and for edgeca side by side in one run (e2e-stack.ts).
 * Each signer gets the same burst (csr-burst.ts) while one watch per signer notes every certificate
 * (csr-watch.ts); afterwards every certificate is verified and the CSRs are deleted before the next burst.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { ISTIOD_USAGES } from "@edgeca/testenv";
import { percentile } from "../demo/percentile.ts";
import type { BenchKubeClient } from "./bench-kube-client.ts";
import { prepareCsrs, runBurst, type PreparedCsr } from "./csr-burst.ts";
import { CsrCollector } from "./csr-watch.ts";
import { withRetries } from "./kube-retry.ts";
import { EDGECA_SIGNER, KCM_SIGNER, startE2eStack, TRUST_DOMAIN, type E2eStack } from "./e2e-stack.ts";
import { verifyIssued } from "./issued-verification.ts";
import { batchesBetween, readBatchTotals } from "./shim-batches.ts";

export const SIGNER_IDS = ["kube-controller-manager", "edgeca"] as const;
export type SignerId = (typeof SIGNER_IDS)[number];

export interface E2eBenchOptions {
  /** CSRs per signer, half RSA-2048 and half P-256. */
  readonly count: number;
  /** Create+approve exchanges in flight. */
  readonly inFlight: number;
  /** Delay the edge adds to every signer answer. */
  readonly signerRttMs: number;
  /** How long after the last create a CSR may take before it counts as lost. */
  readonly waitSeconds: number;
  /** kube-controller-manager's client limits (--kube-api-qps, --kube-api-burst). */
  readonly kcmQps: number;
  /** Which signers get the burst, in this order; default both, kube-controller-manager first. */
  readonly signers?: readonly SignerId[];
  readonly signal?: AbortSignal;
}

export interface SignerRun {
  readonly signer: SignerId;
  readonly signerName: string;
  readonly count: number;
  readonly issued: number;
  /** First create sent → last certificate seen. */
  readonly allIssuedMs: number;
  /** First create sent → last create answered. */
  readonly createdMs: number;
  readonly issuedPerSecond: number;
  /** Certificate seen on the watch − our create request's send time (ms resolution). */
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  /** Certificate seen − metadata.creationTimestamp (whole seconds, so up to 1 s more). */
  readonly p50FromCreationTimestampMs: number;
  readonly p99FromCreationTimestampMs: number;
  /** Neither issued nor refused within `waitSeconds` of the last create. */
  readonly lost: number;
  /** Any Failed (or Denied) condition: every request of the burst is a valid one. */
  readonly wronglyFailed: number;
  readonly verified: number;
  readonly retries: number;
  /** CPU seconds each process used from the first create to the last certificate (or the wait's end). */
  readonly cpuSeconds: Readonly<Record<string, number>>;
  /** Up to ten problems (refusals, failed verifications, watch errors), each naming its CSR. */
  readonly problems: readonly string[];
  /** edgeca only: requests the shim sent the signer during the burst, and the CSRs they carried (shim-batches.ts). */
  readonly signerRequests?: number;
  readonly signerRequestCsrs?: number;
}

export interface E2eBenchResult {
  readonly options: Omit<E2eBenchOptions, "signal" | "signers">;
  readonly runs: readonly SignerRun[];
}

/** Starts the stack, runs both bursts, stops everything (also on error or abort). */
export async function runE2eBench(options: E2eBenchOptions, log: (line: string) => void): Promise<E2eBenchResult> {
  log(`preparing ${options.count} requests (half RSA-2048, half P-256; keys made before the bursts)`);
  const csrs = await prepareCsrs(options.count, TRUST_DOMAIN);
  options.signal?.throwIfAborted();
  const wanted = options.signers ?? SIGNER_IDS;
  const stack = await startE2eStack({ ...options, withKcm: wanted.includes("kube-controller-manager"), log });
  let ok = false;
  try {
    const signers = wanted.map((id) => signerUnderTest(stack, id));
    for (const s of signers) {
      log(`warm-up: 2 CSRs for ${s.signerName}`);
      await burstFor(stack, s, csrs.slice(0, 2), `warm-${shortName(s.id)}-`, { ...options, waitSeconds: 60 });
    }
    const runs: SignerRun[] = [];
    for (const s of signers) {
      log(`burst: ${options.count} CSRs for ${s.signerName} (${s.id}), ${options.inFlight} in flight`);
      const run = await burstFor(stack, s, csrs, `bench-${shortName(s.id)}-`, options);
      log(`${s.id}: ${run.issued}/${run.count} issued in ${(run.allIssuedMs / 1000).toFixed(1)} s, p99 ${(run.p99Ms / 1000).toFixed(2)} s, ${run.verified} verified`);
      runs.push(run);
    }
    ok = true;
    const { count, inFlight, signerRttMs, waitSeconds, kcmQps } = options;
    return { options: { count, inFlight, signerRttMs, waitSeconds, kcmQps }, runs };
  } finally {
    await stack.stop(!ok);
  }
}

const shortName = (id: SignerId): string => (id === "edgeca" ? "edgeca" : "kcm");

function signerUnderTest(stack: E2eStack, id: SignerId): SignerUnderTest {
  if (id === "edgeca") return { id, signerName: EDGECA_SIGNER, usages: [...ISTIOD_USAGES], rootPem: stack.edgecaRootPem };
  if (stack.kcm === undefined) throw new Error("kube-controller-manager was not started");
  // kube-apiserver-client: the controller accepts only these usages (client auth required).
  return { id, signerName: KCM_SIGNER, usages: ["digital signature", "key encipherment", "client auth"], rootPem: stack.kcm.signingCaPem };
}

interface SignerUnderTest {
  readonly id: SignerId;
  readonly signerName: string;
  readonly usages: readonly string[];
  readonly rootPem: string;
}

/** One burst for one signer, measured; its CSRs are deleted afterwards. */
async function burstFor(stack: E2eStack, s: SignerUnderTest, csrs: readonly PreparedCsr[], prefix: string, options: E2eBenchOptions): Promise<SignerRun> {
  const collector = await CsrCollector.start(stack.admin, s.signerName, prefix);
  let run: SignerRun;
  try {
    const cpuBefore = stack.cpu.take();
    const batchesBefore = s.id === "edgeca" ? await readBatchTotals(stack.shimMetricsUrl) : undefined;
    const burst = await runBurst(stack.istiod, csrs, { namePrefix: prefix, signerName: s.signerName, usages: s.usages, inFlight: options.inFlight, ...signalOf(options) });
    await collector.waitFor(csrs.length, burst.lastCreatedMs + options.waitSeconds * 1000, options.signal);
    const cpuSeconds = stack.cpu.since(cpuBefore);
    const batches = batchesBefore === undefined ? undefined : batchesBetween(batchesBefore, await readBatchTotals(stack.shimMetricsUrl));
    const verification = verifyIssued(collector.issued, csrs, prefix, s.rootPem);
    const fromSend: number[] = [];
    const fromCreation: number[] = [];
    let lastSeen = burst.firstSentMs;
    for (const [name, seen] of collector.issued) {
      const sent = burst.sentAt.get(name);
      if (sent !== undefined) fromSend.push(seen.observedMs - sent);
      fromCreation.push(seen.observedMs - seen.creationTimestampMs);
      lastSeen = Math.max(lastSeen, seen.observedMs);
    }
    const problems = [
      ...[...collector.refused].slice(0, 5).map(([name, r]) => `${name}: ${r.type} ${r.reason}: ${r.message}`),
      ...verification.problems,
      ...(collector.lastError === "" ? [] : [`watch: ${collector.lastError}`]),
    ].slice(0, 10);
    const allIssuedMs = lastSeen - burst.firstSentMs;
    run = {
      signer: s.id,
      signerName: s.signerName,
      count: csrs.length,
      issued: collector.issued.size,
      allIssuedMs,
      createdMs: burst.lastCreatedMs - burst.firstSentMs,
      issuedPerSecond: allIssuedMs > 0 ? collector.issued.size / (allIssuedMs / 1000) : 0,
      p50Ms: percentile(fromSend, 50),
      p99Ms: percentile(fromSend, 99),
      maxMs: percentile(fromSend, 100),
      p50FromCreationTimestampMs: percentile(fromCreation, 50),
      p99FromCreationTimestampMs: percentile(fromCreation, 99),
      lost: csrs.length - collector.decided,
      wronglyFailed: collector.refused.size,
      verified: verification.verified,
      retries: burst.retries,
      cpuSeconds,
      problems,
      ...(batches === undefined ? {} : { signerRequests: batches.requests, signerRequestCsrs: batches.csrs }),
    };
  } finally {
    await collector.stop();
  }
  await deleteCsrs(stack.admin, s.signerName);
  return run;
}

const signalOf = (options: E2eBenchOptions): { signal?: AbortSignal } => (options.signal === undefined ? {} : { signal: options.signal });

/** Deletes the signer's CSRs and waits (bounded) until they are gone, so the next burst starts clean. */
async function deleteCsrs(admin: BenchKubeClient, signerName: string): Promise<void> {
  const path = `/apis/certificates.k8s.io/v1/certificatesigningrequests?fieldSelector=${encodeURIComponent(`spec.signerName=${signerName}`)}`;
  await withRetries(() => admin.send("DELETE", path), `deleting the CSRs of ${signerName}`);
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const left = await withRetries(() => admin.send("GET", `${path}&limit=1`), `listing the CSRs of ${signerName} left`);
    if (((left.json as { items?: unknown[] }).items ?? []).length === 0) break;
    await sleep(250);
  }
  // Let the informers of both signers settle the deletions before the next burst is measured.
  await sleep(2000);
}
