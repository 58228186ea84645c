/**
 * One workload of the demo as a real pilot-agent: start it, wait for what should happen (a certificate, or
 * the signer's refusal), check it the way Istio's Custom CA task does, and stop the agent.
 *
 * Issued: the chain the agent wrote verifies to `root-cert.pem` of Secret `istio-system/external-ca-cert`,
 * the leaf's SPIFFE ID is the ServiceAccount's, and the CSR (matched by the leaf's serial) was created and
 * approved by istiod and deleted after issuance. Refused: the CSR carries the signer's `Failed` condition and
 * the agent still holds no certificate.
 */
import type { X509Certificate } from "node:crypto";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { startPilotAgent } from "@edgeca/testenv";
import type { AgentNetwork, ControlPlane, CsrRecord, CsrWatch, Istiod, PilotAgent } from "@edgeca/testenv";
import { parseCertificates, verifyChain } from "../verify/index.ts";
import type { PlannedWorkload } from "./mesh-plan.ts";

/** How long one agent may take to obtain its certificate (key generation, istiod, the signer). */
const ISSUE_TIMEOUT_MS = 120_000;
/** How long the refused CSR may take to be failed by the shim (the agent first generates an RSA-5120 key). */
const REFUSAL_TIMEOUT_MS = 180_000;
/** After the refusal, how long the agent is watched for a certificate that must not come. */
const NO_CERT_GRACE_MS = 2_000;

export interface WorkloadContext {
  readonly controlPlane: ControlPlane;
  readonly istiod: Istiod;
  readonly watch: CsrWatch;
  readonly agentBinary: string;
  readonly roots: readonly X509Certificate[];
  readonly istiodUser: string;
  readonly dir: string;
  readonly secretTtlSeconds: number;
  /** The agents' network namespace, where the machine allows one. */
  readonly network: AgentNetwork | undefined;
}

export type WorkloadOutcome =
  | { readonly status: "issued"; readonly csrName: string; readonly latencyMs: number; readonly verified: boolean; readonly note: string; readonly issuer: string }
  | { readonly status: "failed"; readonly csrName: string; readonly reason: string; readonly message: string; readonly agentHasCertificate: boolean }
  | { readonly status: "error"; readonly message: string };

export interface WorkloadRow {
  readonly workload: PlannedWorkload;
  readonly outcome: WorkloadOutcome;
}

/** Runs one workload's agent to its outcome; never throws for the workload's own failure. */
export async function runWorkload(workload: PlannedWorkload, index: number, ctx: WorkloadContext): Promise<WorkloadRow> {
  let agent: PilotAgent | undefined;
  try {
    agent = await startPilotAgent({
      binary: ctx.agentBinary,
      controlPlane: ctx.controlPlane,
      istiod: ctx.istiod,
      namespace: workload.namespace,
      serviceAccount: workload.serviceAccount,
      podName: workload.podName,
      dir: join(ctx.dir, `${String(index).padStart(2, "0")}-${workload.namespace}-${workload.podName}`),
      key: workload.key,
      secretTtlSeconds: ctx.secretTtlSeconds,
      ...(ctx.network === undefined ? {} : { network: ctx.network }),
    });
    const outcome = workload.expect === "issued" ? await issued(agent, ctx) : await refused(agent, ctx);
    return { workload, outcome };
  } catch (error) {
    return { workload, outcome: { status: "error", message: error instanceof Error ? error.message : String(error) } };
  } finally {
    await agent?.stop();
  }
}

async function issued(agent: PilotAgent, ctx: WorkloadContext): Promise<WorkloadOutcome> {
  const certs = await agent.waitForCertificate(ISSUE_TIMEOUT_MS);
  const serial = certs.leaf.serialNumber;
  const record = await ctx.watch.waitFor(`the CSR of ${agent.spiffeId} deleted after issuance`, 30_000, (records) =>
    records.find((r) => r.serial === serial && r.deletedAt !== undefined),
  );
  const chain = parseCertificates(certs.chainPem, `${agent.outputDir}/cert-chain.pem`);
  const verification = verifyChain({ chain, roots: ctx.roots, spiffeId: agent.spiffeId });
  const failed = verification.checks.filter((c) => c.result === "fail").map((c) => `${c.name}: ${c.detail}`);
  failed.push(...csrProblems(record, ctx.istiodUser));
  return {
    status: "issued",
    csrName: record.name,
    latencyMs: (record.issuedAt ?? record.createdAt) - record.createdAt,
    verified: failed.length === 0,
    note: failed.join("; "),
    // The issuing CA above the leaf: with several clusters, each cluster's own (mesh-clusters.ts).
    issuer: chain[1]?.subject.split("\n").join(", ") ?? "",
  };
}

/** What istiod must have done with an issued CSR: created it as itself, approved it, deleted it. */
function csrProblems(record: CsrRecord, istiodUser: string): string[] {
  const problems: string[] = [];
  if (record.username !== istiodUser) problems.push(`CSR ${record.name} created by ${record.username}, not ${istiodUser}`);
  // chiron (istiod) approves with the message "CSR (<name>) for the certificate (<dns name>) is approved".
  const approved = record.conditions.find((c) => c.type === "Approved");
  if (approved === undefined) problems.push(`CSR ${record.name} has no Approved condition`);
  else if (!approved.message.startsWith(`CSR (${record.name})`)) problems.push(`CSR ${record.name} approved with "${approved.message}", not by istiod`);
  if (record.deletedAt === undefined) problems.push(`CSR ${record.name} was not deleted`);
  return problems;
}

async function refused(agent: PilotAgent, ctx: WorkloadContext): Promise<WorkloadOutcome> {
  const { record, failed } = await ctx.watch.waitFor(`a Failed condition on the CSR of ${agent.spiffeId}`, REFUSAL_TIMEOUT_MS, (records) => {
    for (const r of records) {
      const condition = r.uris.includes(agent.spiffeId) ? r.conditions.find((c) => c.type === "Failed") : undefined;
      if (condition !== undefined) return { record: r, failed: condition };
    }
    return undefined;
  });
  // The agent's side: istiod keeps waiting on the failed CSR (60 s), so the agent must still have nothing.
  await sleep(NO_CERT_GRACE_MS);
  const agentHasCertificate = (await agent.certificates()) !== undefined;
  return { status: "failed", csrName: record.name, reason: failed.reason, message: failed.message, agentHasCertificate };
}
