import { describe, expect, it } from "vitest";
import { decodePemBlocks, ecdsaP1363ToDer, parseCertificateDer, PodSignResponse, readGeneralNames, OID, toBase64, type PodSignRequest } from "@edgeca/shared";
import { call, fx, problemCode, verdict } from "../test/support/client.ts";
import type { SignerEnv } from "./env.ts";

// Configuration "a" with pod certificates switched on for cluster "plain" (off everywhere else).
function podEnv(maxLifetimeSeconds?: number): SignerEnv {
  const config = structuredClone(fx.configs.a);
  const clusters = config.clusters.map((c) =>
    c.name === "plain" ? { ...c, podCertificates: { signerNames: [fx.signerName], ...(maxLifetimeSeconds === undefined ? {} : { maxLifetimeSeconds }) } } : c,
  );
  return { EDGECA_CONFIG: JSON.stringify({ ...config, clusters }), ...fx.secrets };
}

type KeyKind = "P-256" | "P-384" | "P-521" | "RSA-3072" | "Ed25519";
const POD_UID = "0d9e4a4e-6d55-4c4e-9a55-5a1f1f0c0001";

/** A key as the kubelet makes it and its proof of possession over `uid` (k8s podcertificatemanager.go). */
async function podKey(kind: KeyKind, uid = POD_UID): Promise<{ pkixPublicKey: string; proofOfPossession: string }> {
  const message = new TextEncoder().encode(uid);
  let pair: CryptoKeyPair;
  let signature: Uint8Array;
  if (kind === "RSA-3072") {
    pair = (await crypto.subtle.generateKey({ name: "RSA-PSS", modulusLength: 3072, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" }, true, ["sign", "verify"])) as CryptoKeyPair;
    // Go's SignPSS with nil options: the longest salt (384 − 32 − 2 bytes).
    signature = new Uint8Array(await crypto.subtle.sign({ name: "RSA-PSS", saltLength: 350 }, pair.privateKey, message));
  } else if (kind === "Ed25519") {
    pair = (await crypto.subtle.generateKey({ name: "Ed25519" }, true, ["sign", "verify"])) as CryptoKeyPair;
    signature = new Uint8Array(await crypto.subtle.sign({ name: "Ed25519" }, pair.privateKey, message));
  } else {
    pair = (await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: kind }, true, ["sign", "verify"])) as CryptoKeyPair;
    signature = ecdsaP1363ToDer(new Uint8Array(await crypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, pair.privateKey, message)));
  }
  const spki = new Uint8Array((await crypto.subtle.exportKey("spki", pair.publicKey)) as ArrayBuffer);
  return { pkixPublicKey: toBase64(spki), proofOfPossession: toBase64(signature) };
}

async function podRequest(kind: KeyKind = "P-256", overrides: Partial<PodSignRequest> = {}): Promise<PodSignRequest> {
  return {
    signerName: fx.signerName,
    namespace: "shop",
    podName: "web-0",
    podUID: POD_UID,
    serviceAccountName: "web",
    serviceAccountUID: "6b3e0f0e-0000-4000-8000-000000000001",
    nodeName: "node-a",
    nodeUID: "9c1f0f0e-0000-4000-8000-000000000002",
    maxExpirationSeconds: 86_400,
    requestor: { username: "system:node:node-a" },
    object: { name: "web-0-pcr-x7k2p", uid: "5d0f0f0e-0000-4000-8000-000000000003" },
    ...(await podKey(kind)),
    ...overrides,
  };
}

function signPod(body: unknown, env: SignerEnv = podEnv()): Promise<Response> {
  return call("/v1/sign-pod", { body, cf: verdict(fx.fingerprints.plain), env });
}

async function refusal(res: Response): Promise<{ status: number; code: string; reason?: string; detail: string }> {
  const body = await res.json<{ code: string; reason?: string; detail: string }>();
  return { status: res.status, ...body };
}

describe("POST /v1/sign-pod: issuance", () => {
  it.each(["P-256", "P-384", "RSA-3072"] as const)("issues a %s pod certificate for the spec's SPIFFE ID", async (kind) => {
    const request = await podRequest(kind);
    const res = await signPod(request);
    expect(res.status).toBe(200);
    const answer = PodSignResponse.parse(await res.json());
    const [leafDer] = decodePemBlocks(answer.certificateChain);
    if (leafDer === undefined) throw new Error("no leaf");
    const leaf = parseCertificateDer(leafDer);
    const san = leaf.extensions.get(OID.subjectAltName);
    if (san === undefined) throw new Error("no SAN");
    expect(readGeneralNames(san.value).uri).toEqual([`spiffe://${fx.trustDomain}/ns/shop/sa/web`]);
    expect(toBase64(leaf.spki)).toBe(request.pkixPublicKey);
    expect(leaf.notBefore.toISOString()).toBe(answer.notBefore);
    expect(leaf.notAfter.toISOString()).toBe(answer.notAfter);
    // What kube-apiserver checks on the status write: lifetime ≤ maxExpirationSeconds, ≥ 1 h; refresh margins.
    const nb = Date.parse(answer.notBefore), na = Date.parse(answer.notAfter), refresh = Date.parse(answer.beginRefreshAt);
    expect(na - nb).toBe(86_400_000);
    expect(Math.abs(nb - Date.now())).toBeLessThan(5 * 60_000);
    expect(refresh).toBeGreaterThanOrEqual(nb + 600_000);
    expect(refresh).toBeLessThanOrEqual(na - 600_000);
  });

  it("clamps the lifetime to the cluster's maximum, never above maxExpirationSeconds", async () => {
    const short = PodSignResponse.parse(await (await signPod(await podRequest("P-256", { maxExpirationSeconds: 7200 }), podEnv(86_400))).json());
    expect(Date.parse(short.notAfter) - Date.parse(short.notBefore)).toBe(7_200_000);
    const clamped = PodSignResponse.parse(await (await signPod(await podRequest("P-256", { maxExpirationSeconds: 7_862_400 }), podEnv(3600))).json());
    expect(Date.parse(clamped.notAfter) - Date.parse(clamped.notBefore)).toBe(3_600_000);
  });
});

describe("POST /v1/sign-pod: refusals", () => {
  it("refuses when pod certificates are not configured for the cluster (off by default)", async () => {
    const res = await call("/v1/sign-pod", { body: await podRequest(), cf: verdict(fx.fingerprints.plain) });
    const r = await refusal(res);
    expect(r).toMatchObject({ status: 422, code: "policy_denied" });
    expect(r.detail).toContain("podCertificates.signerNames");
  });

  it("refuses a requestor other than the node the spec names", async () => {
    const res = await signPod(await podRequest("P-256", { requestor: { username: "system:node:node-b" } }));
    const r = await refusal(res);
    expect(r).toMatchObject({ status: 422, code: "policy_denied" });
    expect(r.detail).toContain('"system:node:node-a"');
  });

  it.each(["P-521", "Ed25519"] as const)("denies a %s key with reason UnsupportedKeyType", async (kind) => {
    const r = await refusal(await signPod(await podRequest(kind)));
    expect(r).toMatchObject({ status: 422, code: "policy_denied", reason: "UnsupportedKeyType" });
  });

  it("denies unverified user annotations with reason InvalidUnverifiedUserAnnotations", async () => {
    const r = await refusal(await signPod(await podRequest("P-256", { unverifiedUserAnnotationKeys: ["example.com/wish"] })));
    expect(r).toMatchObject({ status: 422, reason: "InvalidUnverifiedUserAnnotations" });
  });

  it("refuses a proof of possession over another pod's UID (400)", async () => {
    const request = await podRequest("P-256", await podKey("P-256", "another-pod-uid"));
    const r = await refusal(await signPod(request));
    expect(r).toMatchObject({ status: 400, code: "invalid_request" });
    expect(r.detail).toContain("proofOfPossession");
  });

  it("refuses a malformed public key and a maxExpirationSeconds outside the API's range (400)", async () => {
    expect(await problemCode(await signPod(await podRequest("P-256", { pkixPublicKey: "AAAA" })))).toBe("invalid_request");
    expect(await problemCode(await signPod(await podRequest("P-256", { maxExpirationSeconds: 600 })))).toBe("invalid_request");
  });

  it("refuses a signer name the cluster may not use (403)", async () => {
    expect((await signPod(await podRequest("P-256", { signerName: "example.com/bar" }))).status).toBe(403);
  });
});
