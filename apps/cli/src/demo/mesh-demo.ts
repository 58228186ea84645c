/**
 * `npm run demo`: the main job, end to end, on real parts. A real kube-apiserver, the signer (the Worker in
 * workerd behind the mTLS edge emulator) and the shim (with the RBAC of infra/k8s) run locally; the real
 * istiod runs in RA mode against them as Istio's "Custom CA Integration using Kubernetes CSR" task (Part 2)
 * configures it, and a bookinfo mesh's workloads are real pilot-agents asking istiod for certificates. Each
 * certificate an agent wrote is verified the way the task does: against `root-cert.pem` from Secret
 * `istio-system/external-ca-cert`, with the SPIFFE ID of the workload's ServiceAccount. The mesh is spread
 * over two clusters on the one signer (mesh-clusters.ts): a control plane, a shim and an istiod in each,
 * each cluster signed by its own issuing CA under the shared root, each workload's chain checked against
 * the OTHER cluster's `external-ca-cert`.
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ensureIstioBinaries } from "@edgeca/testenv";
import { inEachCluster, localParts, startLocalStack } from "../local/index.ts";
import type { LocalStack, PartStarter } from "../local/index.ts";
import { watchParent } from "../parent-watch.ts";
import { parseCertificates } from "../verify/index.ts";
import { findPrivateKeysInCluster } from "./cluster-keys.ts";
import { auditLines, checkAudit, DEMO_BUDGETS, GREEDY_CSRS } from "./demo-audit.ts";
import { runGreedyIdentity } from "./greedy-identity.ts";
import { clusterFigures, clusterLines, demoClusters, startDemoClusters, stopDemoClusters, workloadsOf } from "./mesh-clusters.ts";
import type { DemoCluster, MultiClusterFigures } from "./mesh-clusters.ts";
import { meshPlan } from "./mesh-plan.ts";
import { podCertificateLines, podCertificatesAsIntended, runPodCertificates, type PodCertificateFigures } from "./pod-certificates.ts";
import { printSummary, summarize } from "./mesh-summary.ts";
import type { MeshDemoResult } from "./mesh-summary.ts";
import { runWorkload } from "./mesh-workload.ts";

export type { MeshDemoResult } from "./mesh-summary.ts";
export type { ClusterFigures, MultiClusterFigures } from "./mesh-clusters.ts";
export type { PodCertificateFigures } from "./pod-certificates.ts";

/** What `npm run demo -- --json` prints. */
export type DemoResult = MeshDemoResult & MultiClusterFigures & { readonly podCertificates: PodCertificateFigures };

const SIGNER_NAME = "example.com/foo";
const TRUST_DOMAIN = "cluster.local";
const ISTIOD_USER = "system:serviceaccount:istio-system:istiod";
/** How many agents start at once (a mesh rolling out; bounded for a 2-core machine). */
const CONCURRENCY = 6;
/** The agents' SECRET_TTL: short, as a mesh that rotates often would set it (the apiserver minimum is 600). */
const SECRET_TTL_SECONDS = 3600;

export interface MeshDemoOptions {
  /** Where the stack's state goes; a fresh temporary directory (removed afterwards) when absent. */
  readonly stateDir?: string;
  /** Leave the stack and istiod running, print `ready`, and stop on SIGINT/SIGTERM. */
  readonly keep?: boolean;
  /** The summary (stdout in the CLI). */
  readonly print: (line: string) => void;
  /** Progress of the stack (stderr in the CLI). */
  readonly log: (line: string) => void;
}

/** Runs the demo; resolves once everything is stopped (or, with `keep`, once a signal stopped it). */
export async function runMeshDemo(options: MeshDemoOptions): Promise<DemoResult> {
  const { print, log } = options;
  // First, because the first build takes about 15 minutes: nothing else is running meanwhile.
  const istio = await ensureIstioBinaries({ log });
  const stateDir = options.stateDir ?? (await mkdtemp(join(tmpdir(), "edgeca-demo-")));
  const { signer, shim } = localParts;
  if (signer === undefined || shim === undefined) throw new Error("the demo needs the local signer and the shim parts");
  const parts: PartStarter[] = [signer, inEachCluster("shims", shim)];
  const clusters = demoClusters(TRUST_DOMAIN);
  const stack = await startLocalStack({ stateDir, signerName: SIGNER_NAME, trustDomain: TRUST_DOMAIN, allowedRequestors: [ISTIOD_USER], budgets: DEMO_BUDGETS, clusters, parts, log });
  let meshClusters: DemoCluster[] = [];
  try {
    meshClusters = await startDemoClusters(stack.clusters, { pilotDiscovery: istio.pilotDiscovery, signerName: SIGNER_NAME, stateDir, log });
    const result = await exercise(stack, meshClusters, istio.pilotAgent, stateDir, print, log);
    if (options.keep === true) {
      print(`the stack and istiods stay up; state in ${stateDir} (cluster-a/ and cluster-b/: kubeconfig, root-cert.pem, istiod/istiod.log). Ctrl-C stops them.`);
      print("ready");
      await untilSignal();
    }
    return result;
  } finally {
    await stopDemoClusters(meshClusters);
    await stack.stop();
    if (options.stateDir === undefined) await rm(stateDir, { recursive: true, force: true });
  }
}

async function exercise(
  stack: LocalStack,
  meshClusters: readonly DemoCluster[],
  agentBinary: string,
  stateDir: string,
  print: (line: string) => void,
  log: (line: string) => void,
): Promise<DemoResult> {
  const [first] = meshClusters;
  if (first === undefined) throw new Error("the demo has no cluster");
  const cp = stack.controlPlane;
  const signerRoots = parseCertificates(await readFile(join(stateDir, "root-cert.pem"), "utf8"), "root-cert.pem");
  // Every cluster's published bundle must carry the signer's root(s).
  const bundleMatchesSigner = meshClusters.every((c) => {
    const roots = parseCertificates(c.ownBundlePem, `${c.cluster.name}: external-ca-cert`);
    return signerRoots.every((r) => roots.some((b) => b.fingerprint256 === r.fingerprint256));
  });

  const plan = meshPlan();
  const names = meshClusters.map((c) => c.cluster.name).join(" and ");
  print(`\nedgeca demo: ${plan.length} workloads as real pilot-agents over ${names}, through istiod ${first.istiod.version} in RA mode in each (signer ${SIGNER_NAME})\n`);
  log(first.network === undefined ? "no network namespace allowed here: the agents run in the host's (status ports on all interfaces)" : "agents run in network namespaces holding only lo");
  const perCluster = await Promise.all(
    meshClusters.map(async (c, i) => {
      const ctx = { controlPlane: c.cluster.controlPlane, istiod: c.istiod, watch: c.watch, agentBinary, roots: c.peerRoots, istiodUser: ISTIOD_USER, dir: join(stateDir, c.cluster.name, "agents"), secretTtlSeconds: SECRET_TTL_SECONDS, network: c.network };
      const mine = workloadsOf(plan, i, meshClusters.length);
      const rows = await mapLimit(mine, Math.ceil(CONCURRENCY / meshClusters.length), async ({ workload, index }) => await runWorkload(workload, index, ctx));
      return { name: c.cluster.name, rows };
    }),
  );
  const rows = perCluster.flatMap((c) => c.rows);
  const keys = (await Promise.all(meshClusters.map((c) => findPrivateKeysInCluster(c.cluster.controlPlane)))).flat();
  // Issue 13: one identity asks for more than its budget, as a runaway istiod would; then the audit check.
  const istiodKubeconfig = (await cp.kubeconfigForServiceAccount("istio-system", "istiod")).kubeconfig;
  const greedy = await runGreedyIdentity({ istiodKubeconfig, signerName: SIGNER_NAME, spiffeId: `spiffe://${TRUST_DOMAIN}/ns/shop/sa/greedy`, count: GREEDY_CSRS, timeoutMs: 60_000 });
  const auditPath = join(stateDir, "signer", "audit.jsonl");
  const checked = await checkAudit(auditPath, meshClusters.flatMap((c) => [...c.watch.records.values()]), greedy);
  // Issue 14: pod certificates, requested by a node as the kubelet does, in the first cluster.
  const podCertificates = await runPodCertificates({ controlPlane: first.cluster.controlPlane, signerName: SIGNER_NAME, trustDomain: first.cluster.trustDomain, bundlePem: first.ownBundlePem });
  const summary = summarize({ rows, keys, bundleMatchesSigner, istiodVersion: first.istiod.version, stateDir });
  const figures = clusterFigures(perCluster);
  const unexpected = summary.unexpected + (checked.problems.length > 0 ? 1 : 0) + (figures.crossClusterVerified ? 0 : 1) + (podCertificatesAsIntended(podCertificates) ? 0 : 1);
  const result = { ...summary, unexpected, audit: checked.audit, throttled: checked.throttled, greedy, ...figures, podCertificates };
  printSummary(result, rows, keys, stateDir, print);
  for (const l of auditLines(checked, greedy, auditPath)) print(l);
  for (const l of clusterLines(figures)) print(l);
  for (const l of podCertificateLines(podCertificates)) print(l);
  return result;
}

async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index] as T, index);
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
