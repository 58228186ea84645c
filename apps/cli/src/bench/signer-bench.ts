/**
 * `npm run bench -- signer`: issuances per second beside the cryptographic floor, in Node (the signing
 * core called directly) and in workerd (the real Worker bundle through Miniflare's dispatchFetch), the
 * bundle size and the first-request latency. Every loop is bounded by a count and a time budget.
 */
import { readFile, rm } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { Readable } from "node:stream";
import { X509Certificate } from "node:crypto";
import { bundleWorker, readLocalMaterial, tlsClientAuthFor, type WorkerBundle } from "@edgeca/edge";
import { SigningCore } from "@edgeca/signer/core";
import type { SignRequest } from "@edgeca/shared";
import { Miniflare } from "miniflare";
import { createIstioCsr, type CsrKeyType } from "@edgeca/testenv";
import { initMaterial } from "../signer/index.ts";
import { floorOperation } from "./floor.ts";
import { measurePair, warmUp, measureRate, type Rate } from "./rate.ts";

export interface BenchOptions {
  /** Upper bound of issuances per measurement. */
  readonly count: number;
  /** Upper bound of seconds per measurement. */
  readonly seconds: number;
  /** In-flight requests for the concurrent measurements. */
  readonly concurrency: number;
  /** Material from `edgeca init --out DIR`; absent: a fresh `edgeca init` into a temporary directory. */
  readonly dir?: string;
}

export interface KeyRow {
  readonly keyType: CsrKeyType;
  readonly floor: Rate;
  readonly floorConcurrent: Rate;
  readonly node: Rate;
  readonly nodeConcurrent: Rate;
  readonly workerd: Rate;
  readonly workerdConcurrent: Rate;
}

export interface BenchResult {
  readonly options: BenchOptions;
  readonly rows: readonly KeyRow[];
  readonly bundle: { readonly bytes: number; readonly gzipBytes: number };
  /** `GET /healthz` through dispatchFetch: the Node ↔ workerd transport cost every workerd figure includes. */
  readonly workerdHealthz: Rate;
  /** Fresh Miniflare: time to ready, then the first /v1/sign. */
  readonly firstRequest: { readonly startupMs: number; readonly firstSignMs: number; readonly secondSignMs: number };
}

const SPIFFE_ID = "spiffe://cluster.local/ns/default/sa/bookinfo-productpage";
/** Untimed operations of each of the floor and the core before the Node measurements (see below), bounded in time too. */
const NODE_WARMUP = 12_000;
const NODE_WARMUP_SECONDS = 6;
const USAGES = ["digital signature", "key encipherment", "server auth", "client auth"];
const ISTIOD = "system:serviceaccount:istio-system:istiod";

interface Setup {
  readonly configText: string;
  readonly secrets: Readonly<Record<string, string>>;
  readonly caKeyPem: string;
  readonly clusterName: string;
  readonly signerName: string;
  readonly cf: { readonly tlsClientAuth: ReturnType<typeof tlsClientAuthFor> };
}

async function setUp(dir: string): Promise<Setup> {
  const material = await readLocalMaterial(dir);
  const config = JSON.parse(material.configText) as {
    activeIssuer: string;
    issuers: { id: string; keySecret: string }[];
    clusters: { name: string; signerNames: string[] }[];
  };
  const active = config.issuers.find((i) => i.id === config.activeIssuer);
  const caKeyPem = active === undefined ? undefined : material.secrets[active.keySecret];
  const [cluster] = config.clusters;
  const [signerName] = cluster?.signerNames ?? [];
  if (caKeyPem === undefined || cluster === undefined || signerName === undefined) {
    throw new Error(`${dir}/worker: the configuration names no active issuer key, cluster or signer name`);
  }
  const clientCert = new X509Certificate(await readFile(join(dir, "client-cert.pem")));
  const clientCa = new X509Certificate(material.clientCaPem);
  const tlsClientAuth = tlsClientAuthFor({ der: clientCert.raw, verified: "SUCCESS", issuerDer: clientCa.raw });
  return { configText: material.configText, secrets: material.secrets, caKeyPem, clusterName: cluster.name, signerName, cf: { tlsClientAuth } };
}

function signRequest(setup: Setup, csr: string): SignRequest {
  return { signerName: setup.signerName, csr, usages: USAGES, expirationSeconds: 86_400, requestor: { username: ISTIOD } };
}

function startMiniflare(bundle: WorkerBundle, setup: Setup): Miniflare {
  return new Miniflare({
    modules: true,
    scriptPath: bundle.scriptPath,
    modulesRoot: bundle.outDir,
    compatibilityDate: bundle.config.compatibility_date,
    compatibilityFlags: bundle.config.compatibility_flags,
    bindings: { EDGECA_CONFIG: setup.configText, ...setup.secrets },
    // The Worker's audit line per issuance is read and dropped, not printed above the table; errors still show.
    handleRuntimeStdio(stdout: Readable, stderr: Readable) {
      stdout.resume();
      stderr.pipe(process.stderr);
    },
  });
}

async function dispatchSign(mf: Miniflare, setup: Setup, body: string): Promise<void> {
  const res = await mf.dispatchFetch("https://signer.example/v1/sign", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body,
    cf: setup.cf as never,
  });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`workerd /v1/sign answered ${res.status}: ${text.slice(0, 300)}`);
}

/** Runs the whole benchmark; `log` receives progress lines. */
export async function runSignerBench(options: BenchOptions, log: (line: string) => void): Promise<BenchResult> {
  if (options.dir === undefined) log("init: fresh CA material (edgeca init)");
  const dir = options.dir ?? (await initMaterial());
  const setup = await setUp(dir);
  log("bundle: wrangler deploy --dry-run");
  const bundle = await bundleWorker();
  const core = await SigningCore.load({ EDGECA_CONFIG: setup.configText, ...setup.secrets });
  const cluster = core.cluster(setup.clusterName);

  log("workerd: fresh Miniflare, first request");
  const t0 = performance.now();
  const fresh = startMiniflare(bundle, setup);
  await fresh.ready;
  const t1 = performance.now();
  const firstCsr = await createIstioCsr({ keyType: "P-256", uris: [SPIFFE_ID] });
  await dispatchSign(fresh, setup, JSON.stringify(signRequest(setup, firstCsr.csrPem)));
  const t2 = performance.now();
  await dispatchSign(fresh, setup, JSON.stringify(signRequest(setup, firstCsr.csrPem)));
  const t3 = performance.now();
  const firstRequest = { startupMs: t1 - t0, firstSignMs: t2 - t1, secondSignMs: t3 - t2 };

  const rows: KeyRow[] = [];
  const one = { count: options.count, seconds: options.seconds, concurrency: 1, warmup: Math.min(20, options.count) };
  const many = { ...one, concurrency: options.concurrency };
  let workerdHealthz: Rate;
  try {
    log("workerd: /healthz transport baseline");
    workerdHealthz = await measureRate(async () => {
      const res = await fresh.dispatchFetch("https://signer.example/healthz");
      await res.arrayBuffer();
    }, one);
    for (const keyType of ["P-256", "RSA-2048"] as const) {
      const { csrPem } = await createIstioCsr({ keyType, uris: [SPIFFE_ID] });
      const request = signRequest(setup, csrPem);
      const body = JSON.stringify(request);
      log(`${keyType}: floor and Node signing core, in alternating slices`);
      const floorOp = await floorOperation(csrPem, setup.caKeyPem);
      const nodeOp = () => core.sign(request, cluster);
      // Both are measured in their steady state, as in a signer that runs for hours: warmed first past
      // V8's optimising tiers. The floor is mostly Node's WebCrypto, warm in every run; the core's own
      // JavaScript is not: one at a time its main-thread CPU per P-256 issuance fell from about 170 µs over
      // the first 6,000 calls to 100–106 µs after 12,000 (the floor: 74–94 µs throughout), so with the 300
      // warm-up calls of before, the one-at-a-time ratio measured the core partly cold.
      await warmUp([floorOp, nodeOp], { count: NODE_WARMUP, seconds: NODE_WARMUP_SECONDS });
      const [floor, node] = await measurePair(floorOp, nodeOp, { ...one, warmup: 0, rounds: 5 });
      const [floorConcurrent, nodeConcurrent] = await measurePair(floorOp, nodeOp, { ...many, warmup: 0, rounds: 5 });
      log(`${keyType}: workerd through dispatchFetch`);
      const workerdOp = () => dispatchSign(fresh, setup, body);
      const workerd = await measureRate(workerdOp, one);
      const workerdConcurrent = await measureRate(workerdOp, many);
      rows.push({ keyType, floor, floorConcurrent, node, nodeConcurrent, workerd, workerdConcurrent });
    }
  } finally {
    await fresh.dispose();
    await rm(bundle.outDir, { recursive: true, force: true });
    if (options.dir === undefined) await rm(dirname(dir), { recursive: true, force: true });
  }
  return { options, rows, bundle: { bytes: bundle.bytes, gzipBytes: bundle.gzipBytes }, firstRequest, workerdHealthz };
}
