/**
 * `npm run demo`: the main job, end to end, on real parts. A real kube-apiserver, the signer (the Worker in
 * workerd behind the mTLS edge emulator) and the shim (with the RBAC of infra/k8s) run locally; istiod's
 * RA mode is reproduced as the `istio-system/istiod` ServiceAccount with the permissions Istio's chart gives
 * it; a bookinfo-like mesh's certificate requests go through it; each certificate is then verified the way
 * Istio's "Custom CA Integration using Kubernetes CSR" task does: against `root-cert.pem` from Secret
 * `istio-system/external-ca-cert`, with the SPIFFE ID of the workload's ServiceAccount.
 */
import { webcrypto } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createWorkloadCsr, istiodRbac, IstiodRa, ISTIOD_NAMESPACE, ISTIOD_SERVICE_ACCOUNT, KubeApiError } from "@edgeca/testenv";
import type { ControlPlane, RaOutcome } from "@edgeca/testenv";
import { localParts, startLocalStack } from "../local/index.ts";
import type { LocalStack, PartStarter } from "../local/index.ts";
import { watchParent } from "../parent-watch.ts";
import { parseCertificates, verifyChain } from "../verify/index.ts";
import { meshPlan, type PlannedRequest } from "./mesh-plan.ts";
import { percentile } from "./percentile.ts";

const SIGNER_NAME = "example.com/foo";
const TRUST_DOMAIN = "cluster.local";
const ISTIOD_USER = `system:serviceaccount:${ISTIOD_NAMESPACE}:${ISTIOD_SERVICE_ACCOUNT}`;
const BUNDLE_SECRET = { namespace: "istio-system", name: "external-ca-cert", key: "root-cert.pem" };
/** How many workload requests istiod has in flight at once (agents start together when a mesh rolls out). */
const CONCURRENCY = 6;

export interface MeshDemoOptions {
  /** Where the stack's state goes; a fresh temporary directory (removed afterwards) when absent. */
  readonly stateDir?: string;
  /** Leave the stack running, print `ready`, and stop on SIGINT/SIGTERM. */
  readonly keep?: boolean;
  /** The summary (stdout in the CLI). */
  readonly print: (line: string) => void;
  /** Progress of the stack (stderr in the CLI). */
  readonly log: (line: string) => void;
}

/** What the demo measured; `--json` prints it as the last line. */
export interface MeshDemoResult {
  readonly requested: number;
  readonly issued: number;
  readonly verified: number;
  readonly refused: number;
  /** Outcomes that differ from what was intended (an expected issuance refused, a refusal issued, a failed check). */
  readonly unexpected: number;
  /** Time from CSR creation to certificate, over issued requests. */
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  /** The reason and message Kubernetes recorded on the refused CSR. */
  readonly refusal: { readonly reason: string; readonly message: string } | undefined;
  /** Secrets and ConfigMaps in the cluster that hold a private key (CA or other); must be 0. */
  readonly privateKeysInCluster: number;
  readonly bundleMatchesSigner: boolean;
  readonly stateDir: string;
}

interface Row {
  readonly request: PlannedRequest;
  readonly outcome: RaOutcome;
  readonly verified: boolean;
  readonly note: string;
}

/** Runs the demo; resolves once the stack is stopped (or, with `keep`, once a signal stopped it). */
export async function runMeshDemo(options: MeshDemoOptions): Promise<MeshDemoResult> {
  const { print, log } = options;
  const stateDir = options.stateDir ?? (await mkdtemp(join(tmpdir(), "edgeca-demo-")));
  const parts = [localParts.signer, localParts.shim].filter((p): p is PartStarter => p !== undefined);
  if (parts.length !== 2) throw new Error("the demo needs the local signer and the shim parts");
  const stack = await startLocalStack({
    stateDir,
    signerName: SIGNER_NAME,
    trustDomain: TRUST_DOMAIN,
    allowedRequestors: [ISTIOD_USER],
    parts,
    log,
  });
  try {
    const result = await exercise(stack, stateDir, print, log);
    if (options.keep === true) {
      print(`the stack stays up; state in ${stateDir} (kubeconfig, root-cert.pem). Ctrl-C stops it.`);
      print("ready");
      await untilSignal();
    }
    return result;
  } finally {
    await stack.stop();
    if (options.stateDir === undefined) await rm(stateDir, { recursive: true, force: true });
  }
}

async function exercise(stack: LocalStack, stateDir: string, print: (line: string) => void, log: (line: string) => void): Promise<MeshDemoResult> {
  const cp = stack.controlPlane;
  log(`istiod: ServiceAccount ${ISTIOD_USER} with the CSR permissions of Istio's chart and approve on ${SIGNER_NAME}`);
  await cp.ensureServiceAccount(ISTIOD_NAMESPACE, ISTIOD_SERVICE_ACCOUNT);
  for (const object of istiodRbac(SIGNER_NAME)) await applyObject(cp, object);
  const istiodKube = await cp.kubeconfigForServiceAccount(ISTIOD_NAMESPACE, ISTIOD_SERVICE_ACCOUNT);
  const istiod = new IstiodRa({ kubeconfig: istiodKube.kubeconfig, signerName: SIGNER_NAME });

  // istiod reads root-cert.pem from this Secret at start-up; the shim publishes it from GET /v1/bundle.
  const bundlePem = await waitForBundleSecret(cp);
  const signerRootPem = await readFile(join(stateDir, "root-cert.pem"), "utf8");
  const roots = parseCertificates(bundlePem, `Secret ${BUNDLE_SECRET.namespace}/${BUNDLE_SECRET.name}`);
  const signerRoots = parseCertificates(signerRootPem, "root-cert.pem");
  const bundleMatchesSigner = signerRoots.every((r) => roots.some((b) => b.fingerprint256 === r.fingerprint256));

  const plan = meshPlan(TRUST_DOMAIN);
  print(`\nedgeca demo: ${plan.length} workload certificate requests through istiod's RA flow (signer ${SIGNER_NAME})\n`);
  const rows = await mapLimit(plan, CONCURRENCY, async (request): Promise<Row> => {
    const csr = await createWorkloadCsr(request.kind, request);
    const outcome = await istiod.sign({ csrPem: csr.csrPem, expirationSeconds: 86_400 });
    if (outcome.status !== "issued") return { request, outcome, verified: false, note: "" };
    const chain = parseCertificates(outcome.certificateChain, `certificate of ${outcome.csrName}`);
    const verification = verifyChain({ chain, roots, spiffeId: csr.spiffeId });
    const spki = Buffer.from(await webcrypto.subtle.exportKey("spki", csr.keys.publicKey));
    const keyMatches = chain[0]?.publicKey.export({ type: "spki", format: "der" }).equals(spki) ?? false;
    const failed = verification.checks.filter((c) => c.result === "fail").map((c) => `${c.name}: ${c.detail}`);
    if (!keyMatches) failed.push("the leaf's public key is not the workload's");
    return { request, outcome, verified: failed.length === 0, note: failed.join("; ") };
  });

  let unexpected = 0;
  for (const row of rows) {
    const { request, outcome } = row;
    const ms = `${outcome.latencyMs} ms`.padStart(8);
    if (outcome.status === "issued") {
      const good = request.expect === "issued" && row.verified;
      if (!good) unexpected++;
      print(`  ${good ? "ok  " : "BAD "} ${ms}  ${request.title}: issued${row.verified ? ", chain verified to root-cert.pem, SPIFFE ID matches" : ` but ${row.note}`}`);
    } else {
      const intended = request.expect === "refused" && outcome.status === "failed";
      if (!intended) unexpected++;
      const why = outcome.status === "timeout" ? "no certificate within istiod's 60 s" : `${outcome.status}: ${outcome.reason} — ${outcome.message}`;
      print(`  ${intended ? "ok  " : "BAD "} ${ms}  ${request.title}: ${why}`);
    }
  }

  const issuedRows = rows.filter((r) => r.outcome.status === "issued");
  const latencies = issuedRows.map((r) => r.outcome.latencyMs);
  const refusedRow = rows.find((r) => r.outcome.status === "failed" || r.outcome.status === "denied");
  const refusal = refusedRow !== undefined && (refusedRow.outcome.status === "failed" || refusedRow.outcome.status === "denied")
    ? { reason: refusedRow.outcome.reason, message: refusedRow.outcome.message }
    : undefined;
  const privateKeysInCluster = await countPrivateKeysInCluster(cp);
  if (privateKeysInCluster > 0 || !bundleMatchesSigner) unexpected++;

  const result: MeshDemoResult = {
    requested: rows.length,
    issued: issuedRows.length,
    verified: issuedRows.filter((r) => r.verified).length,
    refused: rows.length - issuedRows.length,
    unexpected,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    maxMs: Math.max(0, ...latencies),
    refusal,
    privateKeysInCluster,
    bundleMatchesSigner,
    stateDir,
  };
  print("");
  print(`requested ${result.requested}, issued ${result.issued}, verified ${result.verified}, refused ${result.refused} (intended: 1), unexpected ${result.unexpected}`);
  print(`CSR creation → certificate: p50 ${result.p50Ms} ms, p99 ${result.p99Ms} ms, max ${result.maxMs} ms`);
  if (refusal !== undefined) print(`the refused CSR's Failed condition: reason ${refusal.reason}, message "${refusal.message}"`);
  print(`trust bundle: Secret ${BUNDLE_SECRET.namespace}/${BUNDLE_SECRET.name} ${BUNDLE_SECRET.key} ${bundleMatchesSigner ? "is" : "is NOT"} the signer's root`);
  print("where the keys are:");
  print(`  issuing CA key   only in the signer's secrets (${join(stateDir, "signer", "worker", "secrets.json")}, loaded into workerd; on Cloudflare: Workers secrets)`);
  print(`  root CA key      offline (${join(stateDir, "signer", "offline", "root-key.pem")}); never uploaded anywhere`);
  print(`  in the cluster   ${privateKeysInCluster === 0 ? "no private key in any Secret or ConfigMap" : `${privateKeysInCluster} object(s) hold a private key`}; workload keys never left the workloads`);
  return result;
}

/** Creates the object, or replaces it when it exists (a plain `kubectl apply` for our two RBAC objects). */
async function applyObject(cp: ControlPlane, object: Record<string, unknown>): Promise<void> {
  const kind = object.kind === "ClusterRole" ? "clusterroles" : "clusterrolebindings";
  const collection = `/apis/rbac.authorization.k8s.io/v1/${kind}`;
  try {
    await cp.admin.request("POST", collection, object);
  } catch (error) {
    if (!(error instanceof KubeApiError && error.status === 409)) throw error;
    const name = (object.metadata as { name: string }).name;
    await cp.admin.request("PUT", `${collection}/${name}`, object);
  }
}

async function waitForBundleSecret(cp: ControlPlane): Promise<string> {
  const path = `/api/v1/namespaces/${BUNDLE_SECRET.namespace}/secrets/${BUNDLE_SECRET.name}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    const answer = await cp.admin.send("GET", path);
    const data = (answer.json as { data?: Record<string, string> } | undefined)?.data;
    const value = data?.[BUNDLE_SECRET.key];
    if (answer.status === 200 && value !== undefined && value !== "") return Buffer.from(value, "base64").toString("utf8");
    if (Date.now() > deadline) {
      throw new Error(`the shim did not publish Secret ${BUNDLE_SECRET.namespace}/${BUNDLE_SECRET.name} (${BUNDLE_SECRET.key}) within 30 s; see shim.log in the state dir`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Counts Secrets and ConfigMaps, in every namespace, whose data holds a PEM private key. */
async function countPrivateKeysInCluster(cp: ControlPlane): Promise<number> {
  const marker = /-----BEGIN [A-Z ]*PRIVATE KEY-----/;
  let found = 0;
  for (const [path, decode] of [
    ["/api/v1/secrets", true],
    ["/api/v1/configmaps", false],
  ] as const) {
    const list = (await cp.admin.request("GET", path)) as { items?: { data?: Record<string, string> }[] };
    for (const item of list.items ?? []) {
      const values = Object.values(item.data ?? {}).map((v) => (decode ? Buffer.from(v, "base64").toString("utf8") : v));
      if (values.some((v) => marker.test(v))) found++;
    }
  }
  return found;
}

async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

async function untilSignal(): Promise<void> {
  await new Promise<void>((resolve) => {
    const done = (): void => {
      process.off("SIGINT", done);
      process.off("SIGTERM", done);
      unwatch();
      resolve();
    };
    const unwatch = watchParent(done);
    process.once("SIGINT", done);
    process.once("SIGTERM", done);
  });
}
