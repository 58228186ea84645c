/**
 * `npm run demo`: the main job, end to end, on real parts. A real kube-apiserver, the signer (the Worker in
 * workerd behind the mTLS edge emulator) and the shim (with the RBAC of infra/k8s) run locally; the real
 * istiod runs in RA mode against them as Istio's "Custom CA Integration using Kubernetes CSR" task (Part 2)
 * configures it, and a bookinfo mesh's workloads are real pilot-agents asking istiod for certificates. Each
 * certificate an agent wrote is verified the way the task does: against `root-cert.pem` from Secret
 * `istio-system/external-ca-cert`, with the SPIFFE ID of the workload's ServiceAccount.
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AgentNetwork, CsrWatch, EXTERNAL_CA_SECRET, ensureIstioBinaries, startIstiod } from "@edgeca/testenv";
import type { Istiod } from "@edgeca/testenv";
import { localParts, startLocalStack } from "../local/index.ts";
import type { LocalStack, PartStarter } from "../local/index.ts";
import { watchParent } from "../parent-watch.ts";
import { parseCertificates } from "../verify/index.ts";
import { findPrivateKeysInCluster } from "./cluster-keys.ts";
import { auditLines, checkAudit, DEMO_BUDGETS, GREEDY_CSRS } from "./demo-audit.ts";
import { runGreedyIdentity } from "./greedy-identity.ts";
import { meshPlan } from "./mesh-plan.ts";
import { printSummary, summarize } from "./mesh-summary.ts";
import type { MeshDemoResult } from "./mesh-summary.ts";
import { runWorkload } from "./mesh-workload.ts";

export type { MeshDemoResult } from "./mesh-summary.ts";

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
export async function runMeshDemo(options: MeshDemoOptions): Promise<MeshDemoResult> {
  const { print, log } = options;
  // First, because the first build takes about 15 minutes: nothing else is running meanwhile.
  const istio = await ensureIstioBinaries({ log });
  const stateDir = options.stateDir ?? (await mkdtemp(join(tmpdir(), "edgeca-demo-")));
  const parts = [localParts.signer, localParts.shim].filter((p): p is PartStarter => p !== undefined);
  if (parts.length !== 2) throw new Error("the demo needs the local signer and the shim parts");
  const stack = await startLocalStack({ stateDir, signerName: SIGNER_NAME, trustDomain: TRUST_DOMAIN, allowedRequestors: [ISTIOD_USER], budgets: DEMO_BUDGETS, parts, log });
  let istiod: Istiod | undefined;
  try {
    istiod = await startIstiod({
      binary: istio.pilotDiscovery,
      controlPlane: stack.controlPlane,
      signerName: SIGNER_NAME,
      dir: join(stateDir, "istiod"),
      kubernetesApiQps: 200,
      kubernetesApiBurst: 400,
      log,
    });
    const result = await exercise(stack, istiod, istio.pilotAgent, stateDir, print, log);
    if (options.keep === true) {
      print(`the stack and istiod stay up; state in ${stateDir} (kubeconfig, root-cert.pem, istiod/istiod.log). Ctrl-C stops them.`);
      print("ready");
      await untilSignal();
    }
    return result;
  } finally {
    await istiod?.stop();
    await stack.stop();
    if (options.stateDir === undefined) await rm(stateDir, { recursive: true, force: true });
  }
}

async function exercise(stack: LocalStack, istiod: Istiod, agentBinary: string, stateDir: string, print: (line: string) => void, log: (line: string) => void): Promise<MeshDemoResult> {
  const cp = stack.controlPlane;
  const bundlePem = istiod.externalRootPem;
  const signerRootPem = await readFile(join(stateDir, "root-cert.pem"), "utf8");
  const roots = parseCertificates(bundlePem, `Secret ${EXTERNAL_CA_SECRET.namespace}/${EXTERNAL_CA_SECRET.name}`);
  const signerRoots = parseCertificates(signerRootPem, "root-cert.pem");
  const bundleMatchesSigner = signerRoots.every((r) => roots.some((b) => b.fingerprint256 === r.fingerprint256));

  const plan = meshPlan();
  print(`\nedgeca demo: ${plan.length} workloads as real pilot-agents, through istiod ${istiod.version} in RA mode (signer ${SIGNER_NAME})\n`);
  // The agents run in a network namespace with only `lo` (their status ports bind all interfaces).
  const network = await AgentNetwork.start(istiod.secureGrpcAddress);
  log(network === undefined ? "no network namespace allowed here: the agents run in the host's (status ports on all interfaces)" : "agents run in a network namespace holding only lo");
  const watch = await CsrWatch.start(cp);
  try {
    const ctx = { controlPlane: cp, istiod, watch, agentBinary, roots, istiodUser: ISTIOD_USER, dir: join(stateDir, "agents"), secretTtlSeconds: SECRET_TTL_SECONDS, network };
    const rows = await mapLimit(plan, CONCURRENCY, async (workload, index) => await runWorkload(workload, index, ctx));
    const keys = await findPrivateKeysInCluster(cp);
    // Issue 13: one identity asks for more than its budget, as a runaway istiod would; then the audit check.
    const asIstiod = cp.clientForToken(await cp.mintToken({ namespace: "istio-system", serviceAccount: "istiod" }));
    const greedy = await runGreedyIdentity({ istiod: asIstiod, signerName: SIGNER_NAME, spiffeId: `spiffe://${TRUST_DOMAIN}/ns/shop/sa/greedy`, count: GREEDY_CSRS, timeoutMs: 60_000 });
    const auditPath = join(stateDir, "signer", "audit.jsonl");
    const checked = await checkAudit(auditPath, [...watch.records.values()], greedy);
    const summary = summarize({ rows, keys, bundleMatchesSigner, istiodVersion: istiod.version, stateDir });
    const result = { ...summary, unexpected: summary.unexpected + (checked.problems.length > 0 ? 1 : 0), audit: checked.audit, throttled: checked.throttled, greedy };
    printSummary(result, rows, keys, stateDir, print);
    for (const l of auditLines(checked, greedy, auditPath)) print(l);
    return result;
  } finally {
    watch.stop();
    await network?.stop();
  }
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
