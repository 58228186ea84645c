/**
 * CSR operations for the end-to-end tests, over the testenv's plain JSON client, as a chosen identity
 * (istiod's ServiceAccount for requests, the admin for what only an admin or another signer would do).
 * Answers are parsed with zod: the apiserver is a trust boundary for the tests too.
 */
import type { KubeApiClient } from "@edgeca/testenv";
import { z } from "zod";
import { until } from "./until.ts";

const CSR_PATH = "/apis/certificates.k8s.io/v1/certificatesigningrequests";

export const Condition = z.object({ type: z.string(), status: z.string(), reason: z.string().optional(), message: z.string().optional() });
export const Csr = z.object({
  metadata: z.object({ name: z.string(), uid: z.string(), resourceVersion: z.string() }).loose(),
  spec: z.object({ signerName: z.string() }).loose(),
  status: z.object({ certificate: z.string().optional(), conditions: z.array(Condition).optional() }).loose().optional(),
}).loose();
export type Csr = z.infer<typeof Csr>;

export const USAGES = ["digital signature", "key encipherment", "server auth", "client auth"];

/** Creates a CSR named `name` for `signerName` with `csrPem`, as the identity of `client`. */
export async function createCsr(client: KubeApiClient, name: string, signerName: string, csrPem: string, expirationSeconds = 3600): Promise<Csr> {
  return Csr.parse(
    await client.request("POST", CSR_PATH, {
      apiVersion: "certificates.k8s.io/v1",
      kind: "CertificateSigningRequest",
      metadata: { name },
      spec: { request: Buffer.from(csrPem).toString("base64"), signerName, usages: USAGES, expirationSeconds },
    }),
  );
}

export async function getCsr(client: KubeApiClient, name: string): Promise<Csr | undefined> {
  const res = await client.send("GET", `${CSR_PATH}/${name}`);
  if (res.status === 404) return undefined;
  if (res.status !== 200) throw new Error(`GET csr ${name}: HTTP ${res.status} ${res.text}`);
  return Csr.parse(res.json);
}

/** Adds an Approved (or Denied) condition through `/approval`, as istiod does for its own CSRs. */
export async function decide(client: KubeApiClient, name: string, type: "Approved" | "Denied"): Promise<void> {
  const csr = await getCsr(client, name);
  if (csr === undefined) throw new Error(`csr ${name} not found`);
  const conditions = [...(csr.status?.conditions ?? []), { type, status: "True", reason: type === "Approved" ? "E2EApprove" : "E2EDeny", message: "by the e2e test" }];
  await client.request("PUT", `${CSR_PATH}/${name}/approval`, { ...csr, status: { ...csr.status, conditions } });
}

/** Writes a status (as whoever `client` is); returns the HTTP status and text, without judging. */
export async function putStatus(client: KubeApiClient, csr: Csr, status: Record<string, unknown>): Promise<{ status: number; text: string }> {
  const res = await client.send("PUT", `${CSR_PATH}/${csr.metadata.name}/status`, { ...csr, status: { ...csr.status, ...status } });
  return { status: res.status, text: res.text };
}

export async function deleteCsr(client: KubeApiClient, name: string): Promise<void> {
  await client.send("DELETE", `${CSR_PATH}/${name}`);
}

/** Polls the CSR until `done` holds (or `timeoutMs`); returns the last state seen. */
export async function waitForCsr(client: KubeApiClient, name: string, done: (csr: Csr | undefined) => boolean, timeoutMs = 15_000): Promise<Csr | undefined> {
  return until(() => getCsr(client, name), done, timeoutMs);
}

export const issued = (csr: Csr | undefined): boolean => (csr?.status?.certificate ?? "") !== "";
export const conditionOf = (csr: Csr | undefined, type: string) => csr?.status?.conditions?.find((c) => c.type === type);

/** The PEM chain in `status.certificate`. */
export function chainOf(csr: Csr | undefined): string {
  return Buffer.from(csr?.status?.certificate ?? "", "base64").toString("utf8");
}
