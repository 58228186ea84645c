/**
 * The demo's pod certificates (issue 14): a Node and a Pod bound to it (no kubelet runs), then
 * PodCertificateRequests created with THAT node's client certificate, as the kubelet creates them for a
 * `podCertificate` volume (its key, its proof of possession over the pod UID). The shim forwards them to
 * the signer; each issued chain is verified against the cluster's published root with the SPIFFE ID of the
 * pod's ServiceAccount. One request the signer's policy refuses (a P-521 key) must come back `Denied`
 * with reason `UnsupportedKeyType`.
 */
import { constants, createPublicKey, generateKeyPairSync, sign } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { createTestNode, type ControlPlane, type TestNode } from "@edgeca/testenv";
import { parseCertificates, verifyChain } from "../verify/index.ts";

const NS = "pods";
const SA = "web";
type KeyKind = "P-256" | "RSA-3072" | "P-521";
const ISSUED_KINDS: readonly KeyKind[] = ["P-256", "RSA-3072"];

export interface PodCertificateFigures {
  readonly requested: number;
  readonly issued: number;
  readonly verified: number;
  /** The request the policy refused, with the condition the shim wrote. */
  readonly refusal: { readonly keyType: KeyKind; readonly condition: { readonly type: string; readonly reason: string; readonly message: string } | undefined };
}

interface Pcr {
  spec: { maxExpirationSeconds: number };
  status?: { conditions?: { type: string; reason: string; message: string }[]; certificateChain?: string };
}

function kubeletKey(kind: KeyKind, uid: string): { spki: Buffer; proof: Buffer } {
  const data = Buffer.from(uid, "ascii");
  if (kind === "RSA-3072") {
    const { publicKey, privateKey } = generateKeyPairSync("rsa", { modulusLength: 3072 });
    return { spki: publicKey.export({ type: "spki", format: "der" }), proof: sign("sha256", data, { key: privateKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_MAX_SIGN }) };
  }
  const { publicKey, privateKey } = generateKeyPairSync("ec", { namedCurve: kind === "P-256" ? "prime256v1" : "secp521r1" });
  return { spki: publicKey.export({ type: "spki", format: "der" }), proof: sign("sha256", data, privateKey) };
}

async function uidOf(cp: ControlPlane, path: string): Promise<string> {
  return ((await cp.admin.request("GET", path)) as { metadata: { uid: string } }).metadata.uid;
}

/** Creates the request as the node and waits for its terminal condition (30 s at most). */
async function request(cp: ControlPlane, node: TestNode, name: string, spec: Record<string, unknown>, key: { spki: Buffer; proof: Buffer }): Promise<Pcr> {
  const path = `/apis/certificates.k8s.io/v1beta1/namespaces/${NS}/podcertificaterequests`;
  const body = { apiVersion: "certificates.k8s.io/v1beta1", kind: "PodCertificateRequest", metadata: { name }, spec: { ...spec, pkixPublicKey: key.spki.toString("base64"), proofOfPossession: key.proof.toString("base64") } };
  const created = await node.api.send("POST", path, body);
  if (created.status !== 201) throw new Error(`node ${node.name} could not create PodCertificateRequest ${name}: ${created.status} ${created.text.slice(0, 300)}`);
  const deadline = Date.now() + 30_000;
  for (;;) {
    const pcr = (await cp.admin.request("GET", `${path}/${name}`)) as Pcr;
    if ((pcr.status?.conditions ?? []).length > 0 || Date.now() > deadline) return pcr;
    await sleep(200);
  }
}

/** Whether `pcr` is Issued with a chain for `spki` and `spiffeId` that leads to a root of `bundlePem`. */
function verified(pcr: Pcr, spki: Buffer, spiffeId: string, bundlePem: string): boolean {
  const chainPem = pcr.status?.certificateChain;
  // Not issued (still pending after the wait, Denied or Failed): counted as not verified, never parsed.
  if (pcr.status?.conditions?.[0]?.type !== "Issued" || chainPem === undefined || chainPem === "") return false;
  const chain = parseCertificates(chainPem, "certificateChain");
  const verification = verifyChain({ chain, roots: parseCertificates(bundlePem, "the published root"), spiffeId });
  return verification.ok && chain[0]?.publicKey.equals(createPublicKey({ key: spki, format: "der", type: "spki" })) === true;
}

/** Runs the pod-certificate step in one cluster whose shim serves `signerName`. */
export async function runPodCertificates(o: { controlPlane: ControlPlane; signerName: string; trustDomain: string; bundlePem: string }): Promise<PodCertificateFigures> {
  const cp = o.controlPlane;
  await cp.ensureServiceAccount(NS, SA);
  const node = await createTestNode(cp, "demo-node-a");
  const pod = (await cp.admin.request("POST", `/api/v1/namespaces/${NS}/pods`, {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: "web-0" },
    spec: { nodeName: node.name, serviceAccountName: SA, automountServiceAccountToken: false, containers: [{ name: "app", image: "registry.invalid/app:1" }] },
  })) as { metadata: { uid: string } };
  const spec = {
    signerName: o.signerName,
    podName: "web-0",
    podUID: pod.metadata.uid,
    serviceAccountName: SA,
    serviceAccountUID: await uidOf(cp, `/api/v1/namespaces/${NS}/serviceaccounts/${SA}`),
    nodeName: node.name,
    nodeUID: node.uid,
    maxExpirationSeconds: 86_400,
  };
  const spiffeId = `spiffe://${o.trustDomain}/ns/${NS}/sa/${SA}`;
  let issued = 0;
  let ok = 0;
  for (const kind of ISSUED_KINDS) {
    const key = kubeletKey(kind, pod.metadata.uid);
    const pcr = await request(cp, node, `web-0-${kind.toLowerCase()}`, spec, key);
    if (pcr.status?.conditions?.[0]?.type === "Issued") issued++;
    if (verified(pcr, key.spki, spiffeId, o.bundlePem)) ok++;
  }
  const refused = await request(cp, node, "web-0-p-521", spec, kubeletKey("P-521", pod.metadata.uid));
  const c = refused.status?.conditions?.[0];
  const condition = c === undefined ? undefined : { type: c.type, reason: c.reason, message: c.message };
  return { requested: ISSUED_KINDS.length, issued, verified: ok, refusal: { keyType: "P-521", condition } };
}

/** Whether the figures are what the demo intends: every request issued and verified, the refusal Denied UnsupportedKeyType. */
export function podCertificatesAsIntended(f: PodCertificateFigures): boolean {
  return f.issued === f.requested && f.verified === f.requested && f.refusal.condition?.type === "Denied" && f.refusal.condition.reason === "UnsupportedKeyType";
}

export function podCertificateLines(f: PodCertificateFigures): string[] {
  const c = f.refusal.condition;
  return [
    `pod certificates (PodCertificateRequests from a node, as the kubelet makes them): requested ${f.requested}, issued ${f.issued}, verified against the published root ${f.verified}`,
    `  refused as intended: a ${f.refusal.keyType} key → ${c === undefined ? "no condition (unexpected)" : `${c.type} ${c.reason}: ${c.message}`}`,
  ];
}
