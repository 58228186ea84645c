/**
 * Pod certificates against the real kube-apiserver v1.35 (certificates.k8s.io/v1beta1 PodCertificateRequest,
 * feature gate on, NodeRestriction admission on): a Node object and a Pod bound to it (no kubelet runs),
 * PodCertificateRequests created with THAT node's client certificate as the kubelet creates them, the real
 * signer (workerd behind the mTLS edge) with pod certificates enabled for the signer name, and a real shim.
 * Own control plane: Nodes and Pods must not leak into the run's shared one.
 */
import { constants, createPublicKey, generateKeyPairSync, sign, X509Certificate, type KeyObject } from "node:crypto";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { createTestNode, startControlPlane, type ControlPlane, type TestNode } from "@edgeca/testenv";
import { KubeConfig } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LogRecord } from "../../src/logger.ts";
import { startShim, type Shim } from "../../src/shim.ts";
import { createHttpSignerClient } from "../../src/signer-client.ts";
import { until } from "../support/until.ts";
import { E2EStack, SIGNER_NAME, TRUST_DOMAIN } from "./harness.ts";

const NS = "shop";
const SA = "web";
let cp: ControlPlane | undefined;
let stack: E2EStack | undefined;
let shim: Shim | undefined;
const logs: LogRecord[] = [];
let nodeA: TestNode;
let nodeB: TestNode;
let saUid = "";
let podUid = "";

interface Pcr {
  metadata: { name: string };
  spec: { maxExpirationSeconds: number };
  status?: { conditions?: { type: string; reason: string; message: string }[]; certificateChain?: string; notBefore?: string; notAfter?: string; beginRefreshAt?: string };
}

/** Enables pod certificates for the signer name in the signer's configuration (the signer restarts). */
const enablePodCertificates = (s: E2EStack): Promise<void> => s.reconfigureSigner((config) => {
  config.clusters = config.clusters.map((c) => ({ ...c, podCertificates: { signerNames: [SIGNER_NAME] } }));
});

beforeAll(async () => {
  cp = await startControlPlane();
  stack = await E2EStack.start(cp);
  await enablePodCertificates(stack);
  await cp.ensureServiceAccount(NS, SA);
  saUid = ((await cp.admin.request("GET", `/api/v1/namespaces/${NS}/serviceaccounts/${SA}`)) as { metadata: { uid: string } }).metadata.uid;
  nodeA = await createTestNode(cp, "node-a");
  nodeB = await createTestNode(cp, "node-b");
  const pod = await cp.admin.request("POST", `/api/v1/namespaces/${NS}/pods`, {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: "web-0" },
    spec: { nodeName: nodeA.name, serviceAccountName: SA, automountServiceAccountToken: false, containers: [{ name: "app", image: "registry.invalid/app:1" }] },
  });
  podUid = (pod as { metadata: { uid: string } }).metadata.uid;

  const config = stack.config("pods");
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(stack.shimKubeconfigPath);
  const signer = createHttpSignerClient({ url: config.signerUrl, clientCertFile: config.clientCertFile, clientKeyFile: config.clientKeyFile, caFile: config.signerCaFile, tokenFile: config.tokenFile, timeoutMs: config.signerTimeoutMs });
  shim = await startShim(config, { kubeConfig, signer, logSink: (r) => logs.push(r) });
}, 240_000);

afterAll(async () => {
  await shim?.stop();
  await stack?.stop();
  await cp?.stop();
});

type KeyKind = "P-256" | "RSA-3072" | "P-521";

/** A key and proof of possession as the kubelet makes them (podcertificatemanager.go). */
function kubeletKey(kind: KeyKind, uid: string): { spki: Buffer; proof: Buffer } {
  const data = Buffer.from(uid, "ascii");
  if (kind === "RSA-3072") {
    const { publicKey, privateKey } = generateKeyPairSync("rsa", { modulusLength: 3072 });
    // rsa.SignPSS(SHA-256, nil options): the longest salt.
    return { spki: der(publicKey), proof: sign("sha256", data, { key: privateKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_MAX_SIGN }) };
  }
  const { publicKey, privateKey } = generateKeyPairSync("ec", { namedCurve: kind === "P-256" ? "prime256v1" : "secp521r1" });
  // ecdsa.SignASN1 over SHA-256(uid): Node's sign() writes the ASN.1 (DER) form by default.
  return { spki: der(publicKey), proof: sign("sha256", data, privateKey) };
}

function der(key: KeyObject): Buffer {
  return key.export({ type: "spki", format: "der" });
}

/** Creates a PodCertificateRequest as `node`; resolves the apiserver's status and its Status message, if any. */
async function createPcr(node: TestNode, name: string, key: { spki: Buffer; proof: Buffer }, spec: Record<string, unknown> = {}): Promise<{ status: number; message: string }> {
  const res = await node.api.send("POST", `/apis/certificates.k8s.io/v1beta1/namespaces/${NS}/podcertificaterequests`, {
    apiVersion: "certificates.k8s.io/v1beta1",
    kind: "PodCertificateRequest",
    metadata: { name },
    spec: {
      signerName: SIGNER_NAME,
      podName: "web-0",
      podUID: podUid,
      serviceAccountName: SA,
      serviceAccountUID: saUid,
      nodeName: node.name,
      nodeUID: node.uid,
      maxExpirationSeconds: 86_400,
      pkixPublicKey: key.spki.toString("base64"),
      proofOfPossession: key.proof.toString("base64"),
      ...spec,
    },
  });
  const json = res.json;
  const message = typeof json === "object" && json !== null && "message" in json && typeof json.message === "string" ? json.message : "";
  return { status: res.status, message };
}

async function waitForTerminal(name: string): Promise<Pcr> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const pcr = (await cp?.admin.request("GET", `/apis/certificates.k8s.io/v1beta1/namespaces/${NS}/podcertificaterequests/${name}`)) as Pcr;
    if ((pcr.status?.conditions ?? []).length > 0 || Date.now() > deadline) return pcr;
    await sleep(200);
  }
}

describe("PodCertificateRequests from a node", () => {
  it.each(["P-256", "RSA-3072"] as const)("issues a %s pod certificate that verifies against the published root", async (kind) => {
    const key = kubeletKey(kind, podUid);
    const name = `web-0-${kind.toLowerCase()}`;
    expect(await createPcr(nodeA, name, key)).toMatchObject({ status: 201 });
    const pcr = await waitForTerminal(name);
    expect(pcr.status?.conditions?.map((c) => [c.type, c.reason])).toEqual([["Issued", "Issued"]]);
    const blocks = (pcr.status?.certificateChain ?? "").match(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g) ?? [];
    const [leaf, issuer] = blocks.map((b) => new X509Certificate(b));
    if (leaf === undefined || issuer === undefined) throw new Error("the chain has no leaf and issuer");
    const root = new X509Certificate(await readFile(join(stack?.materialDir ?? "", "root-cert.pem")));
    expect(leaf.verify(issuer.publicKey) && issuer.verify(root.publicKey) && issuer.checkIssued(root)).toBe(true);
    expect(leaf.publicKey.equals(createPublicKey({ key: key.spki, format: "der", type: "spki" }))).toBe(true);
    expect(leaf.subjectAltName).toBe(`URI:spiffe://${TRUST_DOMAIN}/ns/${NS}/sa/${SA}`);
    expect(Date.parse(pcr.status?.notBefore ?? "")).toBe(Date.parse(leaf.validFrom));
    expect(Date.parse(pcr.status?.notAfter ?? "")).toBe(Date.parse(leaf.validTo));
    expect((Date.parse(leaf.validTo) - Date.parse(leaf.validFrom)) / 1000).toBeLessThanOrEqual(pcr.spec.maxExpirationSeconds);
    const refresh = Date.parse(pcr.status?.beginRefreshAt ?? "");
    expect(refresh).toBeGreaterThan(Date.parse(leaf.validFrom));
    expect(refresh).toBeLessThan(Date.parse(leaf.validTo));
  });

  it("refuses (apiserver, NodeRestriction) a node asking for a pod that is not on it", async () => {
    const key = kubeletKey("P-256", podUid);
    const asItself = await createPcr(nodeB, "web-0-from-node-b", key);
    expect(asItself.status).toBe(403);
    expect(asItself.message).toContain(`is not running on node "${nodeB.name}"`);
    const posing = await createPcr(nodeB, "web-0-posing", key, { nodeName: nodeA.name, nodeUID: nodeA.uid });
    expect(posing.status).toBe(403);
    expect(posing.message).toContain(`which is not the requesting node "${nodeB.name}"`);
  });

  it("denies with the API's reason what the signer's policy refuses (a P-521 key: UnsupportedKeyType)", async () => {
    expect(await createPcr(nodeA, "web-0-p521", kubeletKey("P-521", podUid))).toMatchObject({ status: 201 });
    const pcr = await waitForTerminal("web-0-p521");
    expect(pcr.status?.conditions?.map((c) => [c.type, c.reason])).toEqual([["Denied", "UnsupportedKeyType"]]);
    expect(pcr.status?.conditions?.[0]?.message).toContain("ECDSA P-521");
    expect(pcr.status?.certificateChain ?? "").toBe("");
    // A Warning Event about it in its namespace, written with the shim's own RBAC (infra/k8s rbac-pcr.yaml).
    const events = async (): Promise<{ reason: string; note: string; regarding: { kind: string; name: string }; reportingController: string }[]> =>
      ((await cp?.admin.request("GET", `/apis/events.k8s.io/v1/namespaces/${NS}/events`)) as { items: { reason: string; note: string; regarding: { kind: string; name: string }; reportingController: string }[] }).items.filter((e) => e.regarding.name === "web-0-p521");
    const seen = await until(events, (e) => e.length > 0);
    expect(seen.map((e) => [e.regarding.kind, e.reason, e.reportingController])).toEqual([["PodCertificateRequest", "UnsupportedKeyType", "edgeca.dev/shim"]]);
    expect(seen[0]?.note).toContain("ECDSA P-521");
    expect(logs.filter((l) => l.msg === "could not record an Event")).toEqual([]);
  });
});
