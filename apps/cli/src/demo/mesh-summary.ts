/** What the demo measured, and how it prints it. */
import { join } from "node:path";
import { percentile } from "./percentile.ts";
import type { KeyHolder } from "./cluster-keys.ts";
import type { DemoAudit } from "./demo-audit.ts";
import type { GreedyResult } from "./greedy-identity.ts";
import type { WorkloadRow } from "./mesh-workload.ts";

/**
 * istiod's own self-signed CA (Istio's default PILOT_CERT_PROVIDER=istiod), kept in this Secret: it signs
 * istiod's serving certificate only, never a workload's (every workload chain must verify to the signer's
 * root), so it is reported apart from edgeca's keys.
 */
export const ISTIOD_OWN_CA_SECRET = { namespace: "istio-system", name: "istio-ca-secret" } as const;

/** What the demo measured; `--json` prints it as the last line. */
export interface MeshDemoResult {
  /** The signer's audit records of the run: records = issued + refused (throttled included), demo-audit.ts. */
  readonly audit?: DemoAudit;
  /** The 429 answers the greedy identity got (a subset of audit.refused). */
  readonly throttled?: number;
  readonly greedy?: GreedyResult;
  readonly requested: number;
  readonly issued: number;
  readonly verified: number;
  readonly refused: number;
  /** Outcomes that differ from what was intended (an expected issuance refused, a refusal issued, a failed check). */
  readonly unexpected: number;
  /** Time from CSR creation to certificate (as the apiserver's watch reported them), over issued requests. */
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  /** The reason and message Kubernetes recorded on the refused CSR. */
  readonly refusal: { readonly reason: string; readonly message: string } | undefined;
  /** Secrets and ConfigMaps that hold a private key, other than istiod's own CA (below); must be 0. */
  readonly privateKeysInCluster: number;
  /** Whether istiod keeps its self-signed serving CA key in Secret istio-system/istio-ca-secret. */
  readonly istiodOwnCaKeyInCluster: boolean;
  readonly bundleMatchesSigner: boolean;
  /** The istiod that ran, e.g. `1.31-dev+eed52ebb66ad` (pilot-discovery version). */
  readonly istiod: string;
  readonly stateDir: string;
}

export function summarize(input: {
  readonly rows: readonly WorkloadRow[];
  readonly keys: readonly KeyHolder[];
  readonly bundleMatchesSigner: boolean;
  readonly istiodVersion: string;
  readonly stateDir: string;
}): MeshDemoResult {
  const { rows } = input;
  const issuedRows = rows.flatMap((r) => (r.outcome.status === "issued" ? [r.outcome] : []));
  const latencies = issuedRows.map((o) => o.latencyMs);
  const refusedRow = rows.flatMap((r) => (r.outcome.status === "failed" ? [r.outcome] : []))[0];
  const istiodOwn = (k: KeyHolder): boolean => k.kind === "Secret" && k.namespace === ISTIOD_OWN_CA_SECRET.namespace && k.name === ISTIOD_OWN_CA_SECRET.name;
  const privateKeysInCluster = input.keys.filter((k) => !istiodOwn(k)).length;
  let unexpected = rows.filter((r) => !intended(r)).length;
  if (privateKeysInCluster > 0 || !input.bundleMatchesSigner) unexpected++;
  return {
    requested: rows.length,
    issued: issuedRows.length,
    verified: issuedRows.filter((o) => o.verified).length,
    refused: rows.length - issuedRows.length,
    unexpected,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    maxMs: Math.max(0, ...latencies),
    refusal: refusedRow === undefined ? undefined : { reason: refusedRow.reason, message: refusedRow.message },
    privateKeysInCluster,
    istiodOwnCaKeyInCluster: input.keys.some(istiodOwn),
    bundleMatchesSigner: input.bundleMatchesSigner,
    istiod: input.istiodVersion,
    stateDir: input.stateDir,
  };
}

function intended(row: WorkloadRow): boolean {
  const o = row.outcome;
  if (row.workload.expect === "issued") return o.status === "issued" && o.verified;
  return o.status === "failed" && !o.agentHasCertificate;
}

function line(row: WorkloadRow): string {
  const o = row.outcome;
  const mark = intended(row) ? "ok  " : "BAD ";
  const title = row.workload.title;
  if (o.status === "issued") {
    const what = o.verified ? "issued, chain verified to root-cert.pem, SPIFFE ID matches, CSR approved and deleted by istiod" : `issued but ${o.note}`;
    return `  ${mark} ${`${String(o.latencyMs)} ms`.padStart(8)}  ${title}: ${what}`;
  }
  if (o.status === "failed") {
    const agent = o.agentHasCertificate ? "yet the agent HAS a certificate" : "the agent has no certificate";
    return `  ${mark} ${"".padStart(8)}  ${title}: CSR ${o.reason} — ${o.message}; ${agent}`;
  }
  return `  ${mark} ${"".padStart(8)}  ${title}: ${o.message}`;
}

export function printSummary(result: MeshDemoResult, rows: readonly WorkloadRow[], keys: readonly KeyHolder[], stateDir: string, print: (line: string) => void): void {
  for (const row of rows) print(line(row));
  print("");
  print(`requested ${result.requested}, issued ${result.issued}, verified ${result.verified}, refused ${result.refused} (intended: 1), unexpected ${result.unexpected}`);
  print(`CSR creation → certificate: p50 ${result.p50Ms} ms, p99 ${result.p99Ms} ms, max ${result.maxMs} ms`);
  if (result.refusal !== undefined) print(`the refused CSR's Failed condition: reason ${result.refusal.reason}, message "${result.refusal.message}"`);
  print(`trust bundle: Secret istio-system/external-ca-cert root-cert.pem ${result.bundleMatchesSigner ? "is" : "is NOT"} the signer's root`);
  print("where the keys are:");
  print(`  issuing CA key   only in the signer's secrets (${join(stateDir, "signer", "worker", "secrets.json")}, loaded into workerd; on Cloudflare: Workers secrets)`);
  print(`  root CA key      offline (${join(stateDir, "signer", "offline", "root-key.pem")}); never uploaded anywhere`);
  const others = keys.filter((k) => !(k.namespace === ISTIOD_OWN_CA_SECRET.namespace && k.name === ISTIOD_OWN_CA_SECRET.name));
  print(`  in the cluster   ${others.length === 0 ? "no edgeca or workload private key in any Secret or ConfigMap" : `${others.map((k) => `${k.kind} ${k.namespace}/${k.name}`).join(", ")} hold a private key`}; workload keys never left the agents`);
  if (result.istiodOwnCaKeyInCluster) {
    print(`  istiod's own CA  Secret ${ISTIOD_OWN_CA_SECRET.namespace}/${ISTIOD_OWN_CA_SECRET.name}: Istio's self-signed CA for istiod's serving certificate (PILOT_CERT_PROVIDER=istiod), not a workload issuer`);
  }
}
