/**
 * PodCertificateRequest status writes against the run's real kube-apiserver (certificates.k8s.io/v1beta1,
 * feature gate on): the PCRs are created by the admin with a real proof of possession, so the apiserver's
 * status validation (ValidatePodCertificateRequestStatusUpdate) judges what the shim writes.
 */
import { generateKeyPairSync, randomBytes, sign } from "node:crypto";
import { useControlPlane } from "@edgeca/testenv/vitest";
import { KubeConfig, type V1beta1PodCertificateRequest } from "@kubernetes/client-node";
import { beforeAll, describe, expect, it } from "vitest";
import { ApiserverError } from "./apiserver-client.ts";
import { apiserverReason, kubeMessage } from "./kube-error.ts";
import { isPcrFinished, pcrStatusApi, setPcrIssued, setPcrRefused, writePcrStatus } from "./pcr-status.ts";
import { createPodIssuer, type PodIssuer } from "../test/support/pod-signer-rig.ts";

const cp = useControlPlane();
const NS = `pcr-status-${randomBytes(3).toString("hex")}`;
const SIGNER = "example.com/pcr-status";
const PODS = `/apis/certificates.k8s.io/v1beta1/namespaces/${NS}/podcertificaterequests`;
let issuer: PodIssuer;

beforeAll(async () => {
  issuer = await createPodIssuer();
  await cp.ensureNamespace(NS);
});

function adminConfig(): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(cp.kubeconfigPath);
  return kc;
}

/** Creates a PCR as the kubelet would shape it (P-256 key, proof over the pod UID); resolves the stored object. */
async function createPcr(): Promise<{ pcr: V1beta1PodCertificateRequest; spki: string }> {
  const podUID = crypto.randomUUID();
  const { publicKey, privateKey } = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
  const spki = publicKey.export({ type: "spki", format: "der" }).toString("base64");
  const pcr = (await cp.admin.request("POST", PODS, {
    apiVersion: "certificates.k8s.io/v1beta1",
    kind: "PodCertificateRequest",
    metadata: { name: `pcr-${randomBytes(4).toString("hex")}` },
    spec: {
      signerName: SIGNER,
      podName: "web-0",
      podUID,
      serviceAccountName: "web",
      serviceAccountUID: crypto.randomUUID(),
      nodeName: "node-a",
      nodeUID: crypto.randomUUID(),
      maxExpirationSeconds: 86_400,
      pkixPublicKey: spki,
      proofOfPossession: sign("sha256", Buffer.from(podUID, "ascii"), privateKey).toString("base64"),
    },
  })) as V1beta1PodCertificateRequest;
  return { pcr, spki };
}

const read = async (pcr: V1beta1PodCertificateRequest): Promise<V1beta1PodCertificateRequest> => (await cp.admin.request("GET", `${PODS}/${pcr.metadata?.name ?? ""}`)) as V1beta1PodCertificateRequest;
const conditionsOf = (pcr: V1beta1PodCertificateRequest | undefined): (string | undefined)[][] => (pcr?.status?.conditions ?? []).map((c) => [c.type, c.reason, c.message]);

/** The signer's answer for `spki`: 24 h from a minute ago (whole seconds, as in the leaf), refresh half-way. */
async function answerFor(spki: string, shiftMs = 0): Promise<Parameters<typeof setPcrIssued>[0]> {
  const notBefore = new Date(Math.floor(Date.now() / 1000) * 1000 - 60_000);
  const notAfter = new Date(notBefore.getTime() + 86_400_000);
  const chain = await issuer.issue(spki, { san: `spiffe://cluster.local/ns/${NS}/sa/web`, notBefore, notAfter });
  const at = (ms: number): string => new Date(ms + shiftMs).toISOString();
  return { certificateChain: chain, serialNumber: "01", notBefore: at(notBefore.getTime()), notAfter: at(notAfter.getTime()), beginRefreshAt: new Date((notBefore.getTime() + notAfter.getTime()) / 2).toISOString() };
}

describe("writePcrStatus against the real apiserver, over the shim's JSON client", () => {
  it("writes Issued with the chain and the times the apiserver checks against the leaf", async () => {
    const { pcr, spki } = await createPcr();
    const answer = await answerFor(spki);
    const result = await writePcrStatus(pcrStatusApi(adminConfig()), pcr, setPcrIssued(answer, new Date()));
    expect(result.outcome).toBe("written");
    const stored = await read(pcr);
    expect(result.pcr?.metadata?.resourceVersion).toBe(stored.metadata?.resourceVersion);
    expect(conditionsOf(stored)).toEqual([["Issued", "Issued", "issued by edgeca"]]);
    expect(stored.status?.certificateChain).toBe(answer.certificateChain);
    expect([stored.status?.notBefore, stored.status?.notAfter].map((t) => Date.parse(String(t)))).toEqual([Date.parse(answer.notBefore), Date.parse(answer.notAfter)]);
  });

  it("on 409 re-reads and writes Denied on the fresh copy; a request finished meanwhile is skipped", async () => {
    const { pcr, spki } = await createPcr();
    await cp.admin.request("PATCH", `${PODS}/${pcr.metadata?.name ?? ""}`, { metadata: { labels: { touched: "yes" } } }, "application/merge-patch+json");
    const api = pcrStatusApi(adminConfig());
    const denied = await writePcrStatus(api, pcr, setPcrRefused("Denied", "UnsupportedKeyType", "key type ECDSA P-521 is not supported", new Date()));
    expect(denied.outcome).toBe("written");
    expect(conditionsOf(await read(pcr))).toEqual([["Denied", "UnsupportedKeyType", "key type ECDSA P-521 is not supported"]]);
    // The stale copy again: 409, re-read, Denied already, nothing written.
    const issued = await writePcrStatus(api, pcr, setPcrIssued(await answerFor(spki), new Date()));
    expect(issued.outcome).toBe("skipped");
    expect(issued.pcr !== undefined && isPcrFinished(issued.pcr)).toBe(true);
  });

  it("a deleted request is gone", async () => {
    const { pcr } = await createPcr();
    await cp.admin.request("DELETE", `${PODS}/${pcr.metadata?.name ?? ""}`);
    await expect(writePcrStatus(pcrStatusApi(adminConfig()), pcr, setPcrRefused("Failed", "InvalidRequest", "x", new Date()))).resolves.toEqual({ outcome: "gone" });
  });

  it("a status the apiserver refuses is ApiserverHttp422 with its message; no answer is ApiserverUnreachable", async () => {
    const { pcr, spki } = await createPcr();
    // notBefore a second off the leaf's: the apiserver's status validation refuses it.
    const error = await writePcrStatus(pcrStatusApi(adminConfig()), pcr, setPcrIssued(await answerFor(spki, 1_000), new Date())).then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(ApiserverError);
    expect(apiserverReason(error)).toBe("ApiserverHttp422");
    expect(kubeMessage(error)).toMatch(/notBefore/);
    expect(conditionsOf(await read(pcr))).toEqual([]);

    const closed = adminConfig();
    const cluster = closed.getCurrentCluster();
    if (cluster === null) throw new Error("the admin kubeconfig has no cluster");
    closed.clusters = closed.clusters.map((c) => (c.name === cluster.name ? { ...c, server: "https://127.0.0.1:1" } : c));
    const down = await writePcrStatus(pcrStatusApi(closed), pcr, setPcrRefused("Failed", "InvalidRequest", "x", new Date())).then(() => undefined, (e: unknown) => e);
    expect(apiserverReason(down)).toBe("ApiserverUnreachable");
    expect(kubeMessage(down)).toMatch(/ECONNREFUSED/);
  });
});
