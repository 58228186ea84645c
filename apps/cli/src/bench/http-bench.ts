/**
 * `npm run bench -- http`: `edgeca signer serve` (the real stack, in-process: the edge emulator with mTLS
 * and the Worker in workerd) against `cfssl serve` (plain HTTP), with the same bounded loopback client
 * and the same P-256 CSR, in one run, one at a time and with `concurrency` in flight, in alternating
 * slices so load from other processes falls on both alike.
 */
import { X509Certificate } from "node:crypto";
import { readFile, rm } from "node:fs/promises";
import { dirname, join } from "node:path";
import { loadavg } from "node:os";
import { Writable } from "node:stream";
import { createIstioCsr } from "@edgeca/testenv";
import { EDGE_THREAD_NAME, startLocalSigner, type LocalSigner } from "@edgeca/edge";
import { initMaterial, setBudgets } from "../signer/index.ts";
import { ensureCfssl, startCfssl, type CfsslServer } from "./cfssl-server.ts";
import { BenchClient, type ClientAnswer } from "./http-client.ts";
import { LatencyRecorder } from "./latency.ts";
import { CpuMeter, cpuSecondsOf, cpuSecondsOfAll, descendantsMentioning, ownThreadsCpuSeconds } from "./proc-cpu.ts";
import { measurePair, type Rate } from "./rate.ts";

export interface HttpBenchOptions {
  /** Upper bound of requests per side and measurement. */
  readonly count: number;
  /** Upper bound of seconds per side and measurement. */
  readonly seconds: number;
  /** In flight for the concurrent measurement. */
  readonly concurrency: number;
  /** Material from `edgeca init --out DIR`; absent: a fresh init in a temporary directory. */
  readonly dir?: string;
  /** workerd processes behind the edge (startLocalSigner's `workerdInstances`). */
  readonly workerdInstances?: number;
  /** Worker threads for the edge (startLocalSigner's `edgeThreads`; 0: the benchmark's own thread). */
  readonly edgeThreads?: number;
  /**
   * CSRs per `POST /v1/sign-batch` for a third measurement, `concurrency` CSRs in flight as batches against
   * cfssl with `concurrency` in flight (how the shim sends a burst); 0 or 1: none. Default 16.
   */
  readonly batch?: number;
}

export interface SideFigures {
  readonly rate: Rate;
  readonly p50Ms: number;
  readonly p99Ms: number;
}

/**
 * CPU milliseconds per request of each part over the timed slices (from /proc): workerd and the edge's
 * threads per signer-serve request, cfssl per cfssl request, and the benchmark's main thread (the client
 * of both sides, Miniflare's end of workerd's output pipe, and the edge when it has no thread) per request
 * of either side. `edgeThreads` is absent when the edge runs on the main thread.
 */
export interface CpuPerRequest {
  readonly workerd: number;
  readonly edgeThreads?: number;
  readonly cfssl: number;
  readonly mainThread: number;
}

export interface HttpBenchRow {
  /** CSRs in flight. */
  readonly inFlight: number;
  /** CSRs per signer-serve request: 1 over `/v1/sign`, more over `/v1/sign-batch` (rates and CPU then per certificate, latency per request). */
  readonly batch: number;
  readonly ours: SideFigures;
  readonly cfssl: SideFigures;
  readonly cpuMs: CpuPerRequest;
}

export interface HttpBenchResult {
  readonly options: HttpBenchOptions;
  readonly rows: readonly HttpBenchRow[];
  /** Subject and issuer of the first certificate each side answered with (checked to parse). */
  readonly firstCertificates: { readonly ours: CertificateSeen; readonly cfssl: CertificateSeen };
  /** 1-minute load average at the start and the end of the run. */
  readonly loadAverage: readonly [number, number];
}

export interface CertificateSeen {
  readonly subjectAltName: string;
  readonly issuer: string;
  readonly fingerprint256: string;
}

const SPIFFE_ID = "spiffe://cluster.local/ns/default/sa/bookinfo-productpage";
const ISTIOD = "system:serviceaccount:istio-system:istiod";
const USAGES = ["digital signature", "key encipherment", "server auth", "client auth"];
const ROUNDS = 4;

function certificateFrom(side: string, answer: ClientAnswer, pick: (json: unknown) => unknown): X509Certificate {
  if (answer.status !== 200) throw new Error(`${side} answered ${answer.status}: ${answer.body.slice(0, 300)}`);
  const pem = pick(JSON.parse(answer.body));
  if (typeof pem !== "string") throw new Error(`${side}: no certificate in the answer: ${answer.body.slice(0, 300)}`);
  return new X509Certificate(pem);
}

const seen = (cert: X509Certificate): CertificateSeen => ({ subjectAltName: cert.subjectAltName ?? "", issuer: cert.issuer, fingerprint256: cert.fingerprint256 });

/** Rejects anything but a 200 (an op that quietly fails would be measured as fast). */
const expect200 = (side: string) => (answer: ClientAnswer): void => {
  if (answer.status !== 200) throw new Error(`${side} answered ${answer.status}: ${answer.body.slice(0, 300)}`);
};

/** Rejects anything but a 200 whose batch answers are all certificates. */
function expectIssued(batch: number, answer: ClientAnswer): void {
  expect200("signer serve")(answer);
  if (batch <= 1) return;
  const answers = (JSON.parse(answer.body) as { answers?: { issued?: unknown }[] }).answers ?? [];
  if (answers.length !== batch || answers.some((a) => a.issued === undefined)) throw new Error(`signer serve: a batch of ${batch} was not issued whole: ${answer.body.slice(0, 300)}`);
}

/** `rate` of requests carrying `batch` certificates each, as certificates. */
function perCertificate(rate: Rate, batch: number): Rate {
  return { ops: rate.ops * batch, seconds: rate.seconds, perSecond: rate.perSecond * batch, mainCpuMicros: rate.mainCpuMicros / batch, processCpuMicros: rate.processCpuMicros / batch };
}

/** One level: both sides warmed up, then timed in alternating slices with their latency and CPU. */
async function measureLevel(
  meter: CpuMeter,
  level: { readonly inFlight: number; readonly batch: number },
  ops: { readonly ours: () => Promise<void>; readonly cfssl: () => Promise<void> },
  o: HttpBenchOptions & { readonly requestsInFlight: number },
): Promise<HttpBenchRow> {
  const oursLatency = new LatencyRecorder();
  const cfsslLatency = new LatencyRecorder();
  const oursOp = oursLatency.wrap(ops.ours);
  const cfsslOp = cfsslLatency.wrap(ops.cfssl);
  // Warm-up: as many requests as there are connections, so both pools are open before timing.
  await Promise.all(Array.from({ length: o.requestsInFlight }, oursOp));
  await Promise.all(Array.from({ length: level.inFlight }, cfsslOp));
  oursLatency.recording = true;
  cfsslLatency.recording = true;
  const cpu = meter.take();
  // The same bounds in certificates on both sides; measurePair's concurrency is per side, in requests.
  const [oursRequests, cfsslRate] = await measurePair(oursOp, cfsslOp, {
    count: o.count,
    seconds: o.seconds,
    concurrency: level.inFlight,
    rounds: ROUNDS,
    ...(level.batch > 1 ? { first: { count: Math.max(1, Math.floor(o.count / level.batch)), concurrency: o.requestsInFlight } } : {}),
  });
  const oursRate = perCertificate(oursRequests, level.batch);
  const figures = (rate: Rate, l: LatencyRecorder): SideFigures => ({ rate, p50Ms: l.percentile(50), p99Ms: l.percentile(99) });
  return { ...level, ours: figures(oursRate, oursLatency), cfssl: figures(cfsslRate, cfsslLatency), cpuMs: cpuPerRequest(meter.since(cpu), oursRate, cfsslRate) };
}

interface Sides {
  readonly signer: LocalSigner;
  readonly cfssl: CfsslServer;
  readonly dir: string;
  readonly edgeThreads: number;
}

/** The parts whose CPU time a run reports (CpuPerRequest). */
function cpuMeter(sides: Sides): CpuMeter {
  const workerd = descendantsMentioning("workerd");
  return new CpuMeter(
    new Map<string, () => number | undefined>([
      ["workerd", () => cpuSecondsOfAll(workerd)],
      ["edgeThreads", () => (sides.edgeThreads > 0 ? ownThreadsCpuSeconds((_tid, name) => name === EDGE_THREAD_NAME) : undefined)],
      ["cfssl", () => cpuSecondsOf(sides.cfssl.pid)],
      ["mainThread", () => ownThreadsCpuSeconds((tid) => tid === process.pid)],
    ]),
  );
}

function cpuPerRequest(used: Record<string, number>, ours: Rate, cfssl: Rate): CpuPerRequest {
  const per = (seconds: number | undefined, ops: number): number => (seconds === undefined || ops === 0 ? 0 : (seconds * 1000) / ops);
  const edge = used["edgeThreads"];
  return {
    workerd: per(used["workerd"], ours.ops),
    ...(edge === undefined ? {} : { edgeThreads: per(edge, ours.ops) }),
    cfssl: per(used["cfssl"], cfssl.ops),
    mainThread: per(used["mainThread"], ours.ops + cfssl.ops),
  };
}

async function measureSides(sides: Sides, csrPem: string, options: HttpBenchOptions, log: (line: string) => void): Promise<Omit<HttpBenchResult, "options" | "loadAverage">> {
  const config = JSON.parse(await readFile(join(sides.dir, "worker", "config.json"), "utf8")) as { clusters: { signerNames: string[] }[] };
  const signerName = config.clusters[0]?.signerNames[0];
  if (signerName === undefined) throw new Error(`${sides.dir}/worker/config.json names no signer`);
  const oursBody = JSON.stringify({ signerName, csr: csrPem, usages: USAGES, expirationSeconds: 86_400, requestor: { username: ISTIOD } });
  const cfsslBody = JSON.stringify({ certificate_request: csrPem });
  const tls = {
    caPem: sides.signer.serverCaPem,
    certPem: await readFile(join(sides.dir, "client-cert.pem"), "utf8"),
    keyPem: await readFile(join(sides.dir, "client-key.pem"), "utf8"),
  };
  const rows: HttpBenchRow[] = [];
  const meter = cpuMeter(sides);
  let firstCertificates: HttpBenchResult["firstCertificates"] | undefined;
  const batch = options.batch ?? 16;
  const levels = [{ inFlight: 1, batch: 1 }, { inFlight: options.concurrency, batch: 1 }, ...(batch > 1 ? [{ inFlight: options.concurrency, batch }] : [])];
  for (const level of levels) {
    const requestsInFlight = Math.max(1, Math.round(level.inFlight / level.batch));
    const ours = new BenchClient(sides.signer.url, requestsInFlight, tls);
    const ref = new BenchClient(sides.cfssl.url, level.inFlight);
    try {
      if (firstCertificates === undefined) {
        const mine = certificateFrom("signer serve", await ours.post("/v1/sign", oursBody), (j) => (j as { certificateChain?: unknown }).certificateChain);
        const theirs = certificateFrom("cfssl serve", await ref.post("/api/v1/cfssl/sign", cfsslBody), (j) => (j as { result?: { certificate?: unknown } }).result?.certificate);
        firstCertificates = { ours: seen(mine), cfssl: seen(theirs) };
      }
      const path = level.batch > 1 ? "/v1/sign-batch" : "/v1/sign";
      const body = level.batch > 1 ? `{"requests":[${Array.from({ length: level.batch }, () => oursBody).join(",")}]}` : oursBody;
      log(`${level.inFlight} in flight${level.batch > 1 ? ` (${requestsInFlight} ${path} of ${level.batch})` : ""}: signer serve and cfssl serve in ${ROUNDS} alternating slices each`);
      rows.push(await measureLevel(meter, level, { ours: async () => { expectIssued(level.batch, await ours.post(path, body)); }, cfssl: async () => { expect200("cfssl serve")(await ref.post("/api/v1/cfssl/sign", cfsslBody)); } }, { ...options, requestsInFlight }));
    } finally {
      ours.close();
      ref.close();
    }
  }
  if (firstCertificates === undefined) throw new Error("no measurement ran");
  return { rows, firstCertificates };
}

/** Runs the whole benchmark; `log` receives progress lines. */
export async function runHttpBench(options: HttpBenchOptions, log: (line: string) => void): Promise<HttpBenchResult> {
  const loadStart = loadavg()[0] ?? 0;
  const cfsslBinary = await ensureCfssl(log);
  if (options.dir === undefined) log("init: fresh CA material (edgeca init)");
  const dir = options.dir ?? (await initMaterial());
  // One CSR re-sent thousands of times a second is a flood by the issuance budgets' definition (one
  // identity): a fresh init's budgets are raised, still counted by the Durable Object on every request.
  if (options.dir === undefined) await setBudgets(dir, { perIdentity: { limit: 10_000_000, windowSeconds: 60 }, cluster: { limit: 10_000_000, windowSeconds: 60 } });
  const { csrPem } = await createIstioCsr({ keyType: "P-256", uris: [SPIFFE_ID] });
  let signer: LocalSigner | undefined;
  let cfssl: CfsslServer | undefined;
  try {
    log("starting signer serve (edge + workerd) and cfssl serve");
    // The Worker's audit lines are written (workerd → pipe → this process) but not printed over the table.
    const sink = new Writable({ write: (_chunk, _encoding, done) => { done(); } });
    signer = await startLocalSigner({
      dir,
      workerOutput: { stdout: sink, stderr: process.stderr },
      ...(options.workerdInstances === undefined ? {} : { workerdInstances: options.workerdInstances }),
      ...(options.edgeThreads === undefined ? {} : { edgeThreads: options.edgeThreads }),
    });
    cfssl = await startCfssl(cfsslBinary);
    const measured = await measureSides({ signer, cfssl, dir, edgeThreads: options.edgeThreads ?? 0 }, csrPem, options, log);
    return { options, ...measured, loadAverage: [loadStart, loadavg()[0] ?? 0] };
  } finally {
    await signer?.stop();
    await cfssl?.stop();
    if (options.dir === undefined) await rm(dirname(dir), { recursive: true, force: true });
  }
}
