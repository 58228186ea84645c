/**
 * The demo's greedy identity (issue 13): acting as a runaway or compromised istiod, it asks for more
 * certificates for one SPIFFE ID than the identity's issuance budget allows in a window. The signer
 * answers the surplus 429 with Retry-After; the shim retries those CSRs, never marks them Failed, and
 * they are issued once the window has closed. Each CSR is deleted afterwards, as istiod does.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { createIstioCsr, type KubeApiClient } from "@edgeca/testenv";

const CSR_PATH = "/apis/certificates.k8s.io/v1/certificatesigningrequests";

export interface GreedyOptions {
  /** A client with istiod's CSR permissions (create, approve, get, delete). */
  readonly istiod: KubeApiClient;
  readonly signerName: string;
  readonly spiffeId: string;
  /** CSRs created at once (more than the identity's budget). */
  readonly count: number;
  /** How long every CSR may take to get its certificate (past the budget's window). */
  readonly timeoutMs: number;
}

export interface GreedyResult {
  readonly spiffeId: string;
  readonly requested: number;
  readonly issued: number;
  /** CSRs that ended Failed: 0 when throttling works as it should. */
  readonly failed: number;
  /** From the first create to the last certificate. */
  readonly elapsedMs: number;
}

interface CsrState {
  readonly status?: { readonly certificate?: string; readonly conditions?: readonly { readonly type: string }[] };
}

async function state(istiod: KubeApiClient, name: string): Promise<CsrState | undefined> {
  const res = await istiod.send("GET", `${CSR_PATH}/${name}`);
  if (res.status !== 200) return undefined;
  return res.json as CsrState;
}

async function createApproved(o: GreedyOptions, name: string): Promise<void> {
  const { csrPem } = await createIstioCsr({ keyType: "P-256", uris: [o.spiffeId] });
  const usages = ["digital signature", "key encipherment", "server auth", "client auth"];
  const spec = { request: Buffer.from(csrPem).toString("base64"), signerName: o.signerName, usages, expirationSeconds: 3600 };
  const created = (await o.istiod.request("POST", CSR_PATH, { apiVersion: "certificates.k8s.io/v1", kind: "CertificateSigningRequest", metadata: { name }, spec })) as Record<string, unknown>;
  const approved = { type: "Approved", status: "True", reason: "IstiodApprove", message: "the demo's greedy identity, approved as istiod approves its own CSRs" };
  await o.istiod.request("PUT", `${CSR_PATH}/${name}/approval`, { ...created, status: { conditions: [approved] } });
}

export async function runGreedyIdentity(o: GreedyOptions): Promise<GreedyResult> {
  const started = Date.now();
  const names = Array.from({ length: o.count }, (_, i) => `csr-greedy-${started.toString(36)}-${i}`);
  await Promise.all(names.map((n) => createApproved(o, n)));
  const done = new Map<string, "issued" | "failed">();
  const deadline = started + o.timeoutMs;
  while (done.size < names.length && Date.now() < deadline) {
    for (const name of names) {
      if (done.has(name)) continue;
      const s = await state(o.istiod, name);
      if ((s?.status?.certificate ?? "") !== "") done.set(name, "issued");
      else if (s?.status?.conditions?.some((c) => c.type === "Failed") === true) done.set(name, "failed");
    }
    if (done.size < names.length) await sleep(250);
  }
  const elapsedMs = Date.now() - started;
  await Promise.all(names.map((n) => o.istiod.send("DELETE", `${CSR_PATH}/${n}`)));
  const count = (what: "issued" | "failed") => [...done.values()].filter((v) => v === what).length;
  return { spiffeId: o.spiffeId, requested: names.length, issued: count("issued"), failed: count("failed"), elapsedMs };
}
