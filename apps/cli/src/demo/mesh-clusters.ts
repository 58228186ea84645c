/**
 * The demo's mesh spread over two clusters on one signer (issue 12): a control plane, a shim and the real
 * istiod in each; the workloads alternate between them, and each certificate an agent gets is checked
 * against the OTHER cluster's `external-ca-cert`, as a workload in one cluster of a multi-primary mesh
 * checks a peer from the other. Each cluster is signed by its own issuing CA under the shared root.
 */
import { join } from "node:path";
import type { X509Certificate } from "node:crypto";
import { AgentNetwork, CsrWatch, EXTERNAL_CA_SECRET, startIstiod } from "@edgeca/testenv";
import type { Istiod } from "@edgeca/testenv";
import type { LocalCluster, LocalClusterSpec } from "../local/index.ts";
import { parseCertificates } from "../verify/index.ts";
import type { PlannedWorkload } from "./mesh-plan.ts";
import type { WorkloadRow } from "./mesh-workload.ts";

/** Two clusters of one mesh sharing its trust domain (Istio multi-primary with one root). */
export function demoClusters(trustDomain: string): readonly LocalClusterSpec[] {
  return [
    { name: "cluster-a", trustDomain },
    { name: "cluster-b", trustDomain },
  ];
}

/** One cluster's part of the demo: its istiod, its agents' network, its CSR watch, the roots it checks against. */
export interface DemoCluster {
  readonly cluster: LocalCluster;
  readonly istiod: Istiod;
  readonly watch: CsrWatch;
  readonly network: AgentNetwork | undefined;
  /** The other cluster's published `external-ca-cert`, parsed: what this cluster's certificates are checked against. */
  readonly peerRoots: readonly X509Certificate[];
  /** Its own published bundle (PEM). */
  readonly ownBundlePem: string;
}

/** What the JSON says per cluster. */
export interface ClusterFigures {
  readonly name: string;
  readonly issued: number;
  /** Issued and verified against the other cluster's `external-ca-cert`. */
  readonly verified: number;
  /** The issuing CA's subject of this cluster's certificates (one, or several joined by ", " if they differ). */
  readonly issuer: string;
}

/** The multi-cluster figures of the demo's result. */
export interface MultiClusterFigures {
  readonly clusters: readonly ClusterFigures[];
  /** Every cluster issued, every certificate verified against the other cluster's bundle, and their issuers differ. */
  readonly crossClusterVerified: boolean;
}

/** Starts an istiod (and the agents' network, a CSR watch) in each cluster; stops what started if one fails. */
export async function startDemoClusters(
  clusters: readonly LocalCluster[],
  options: { readonly pilotDiscovery: string; readonly signerName: string; readonly stateDir: string; readonly log: (line: string) => void },
): Promise<DemoCluster[]> {
  const started: { cluster: LocalCluster; istiod: Istiod; watch: CsrWatch; network: AgentNetwork | undefined }[] = [];
  try {
    for (const cluster of clusters) {
      const istiod = await startIstiod({
        binary: options.pilotDiscovery,
        controlPlane: cluster.controlPlane,
        signerName: options.signerName,
        dir: join(options.stateDir, cluster.name, "istiod"),
        kubernetesApiQps: 200,
        kubernetesApiBurst: 400,
        log: options.log,
      });
      const entry = { cluster, istiod, watch: await CsrWatch.start(cluster.controlPlane), network: await AgentNetwork.start(istiod.secureGrpcAddress) };
      started.push(entry);
    }
  } catch (error) {
    await stopDemoClusters(started);
    throw error;
  }
  return started.map((own, i) => {
    const peer = started[(i + 1) % started.length] ?? own;
    const where = `${peer.cluster.name}: Secret ${EXTERNAL_CA_SECRET.namespace}/${EXTERNAL_CA_SECRET.name}`;
    return { ...own, peerRoots: parseCertificates(peer.istiod.externalRootPem, where), ownBundlePem: own.istiod.externalRootPem };
  });
}

/** Stops the watches, networks and istiods (in reverse). */
export async function stopDemoClusters(clusters: readonly { readonly istiod: Istiod; readonly watch: CsrWatch; readonly network: AgentNetwork | undefined }[]): Promise<void> {
  for (const c of [...clusters].reverse()) {
    c.watch.stop();
    await c.network?.stop();
    await c.istiod.stop();
  }
}

/** Which cluster each workload runs in: alternately, so every kind of workload lands in both. */
export function clusterOf(index: number, clusterCount: number): number {
  return index % clusterCount;
}

/** The plan's workloads of cluster `c` with their index in the whole plan. */
export function workloadsOf(plan: readonly PlannedWorkload[], c: number, clusterCount: number): { workload: PlannedWorkload; index: number }[] {
  return plan.flatMap((workload, index) => (clusterOf(index, clusterCount) === c ? [{ workload, index }] : []));
}

/** The per-cluster figures and the cross-cluster verdict from each cluster's rows. */
export function clusterFigures(perCluster: readonly { readonly name: string; readonly rows: readonly WorkloadRow[] }[]): MultiClusterFigures {
  const clusters = perCluster.map(({ name, rows }) => {
    const issued = rows.flatMap((r) => (r.outcome.status === "issued" ? [r.outcome] : []));
    const issuers = [...new Set(issued.map((o) => o.issuer))];
    return { name, issued: issued.length, verified: issued.filter((o) => o.verified).length, issuer: issuers.join(", ") };
  });
  const allVerified = clusters.every((c) => c.issued > 0 && c.verified === c.issued);
  const distinctIssuers = new Set(clusters.map((c) => c.issuer)).size === clusters.length && clusters.every((c) => !c.issuer.includes(", "));
  return { clusters, crossClusterVerified: clusters.length >= 2 && allVerified && distinctIssuers };
}

/** Lines for the printed summary. */
export function clusterLines(figures: MultiClusterFigures): string[] {
  return [
    "",
    "clusters (one signer; each cluster's certificates checked against the other cluster's external-ca-cert):",
    ...figures.clusters.map((c) => `  ${c.name.padEnd(10)} issued ${String(c.issued).padStart(2)}, verified ${String(c.verified).padStart(2)}, issuer ${c.issuer}`),
    `  cross-cluster verified: ${figures.crossClusterVerified ? "yes" : "NO"}`,
  ];
}
