import { generateKeyPairSync } from "node:crypto";
import type { V1beta1PodCertificateRequest } from "@kubernetes/client-node";
import type { PodSignResponse } from "@edgeca/shared";
import { beforeAll, describe, expect, it } from "vitest";
import { verifyPodAnswer } from "./pcr-answer.ts";
import { readRoots, type ChainCertificate } from "./verify-answer.ts";
import { createPodIssuer, POD_SIGNER, type PodIssuer } from "../test/support/pod-signer-rig.ts";

const SPIFFE = "spiffe://cluster.local/ns/shop/sa/web";
const spki = (): string => generateKeyPairSync("ec", { namedCurve: "prime256v1" }).publicKey.export({ type: "spki", format: "der" }).toString("base64");
const KEY = spki();
let issuer: PodIssuer;
let roots: ChainCertificate[];
const now = Date.now();

beforeAll(async () => {
  issuer = await createPodIssuer();
  roots = readRoots(issuer.rootPem);
});

function pcr(pkixPublicKey = KEY): V1beta1PodCertificateRequest {
  return {
    metadata: { name: "a", namespace: "shop" },
    spec: { signerName: POD_SIGNER, podName: "web-0", podUID: "p", serviceAccountName: "web", serviceAccountUID: "s", nodeName: "n", nodeUID: "u", maxExpirationSeconds: 86_400, pkixPublicKey, proofOfPossession: "", stubPKCS10Request: "" },
  };
}

interface Leaf {
  san?: string;
  dns?: string[];
  lifetimeS?: number;
  notBeforeAgoS?: number;
  refreshAt?: (notBefore: number, notAfter: number) => number;
  statusShiftMs?: number;
}

/** An answer for KEY as the signer gives it, changed as `o` says. */
async function answer(o: Leaf = {}): Promise<PodSignResponse> {
  const notBefore = Math.floor(now / 1000) * 1000 - (o.notBeforeAgoS ?? 60) * 1000;
  const notAfter = notBefore + (o.lifetimeS ?? 86_400) * 1000;
  const chain = await issuer.issue(KEY, { san: o.san ?? SPIFFE, ...(o.dns === undefined ? {} : { dns: o.dns }), notBefore: new Date(notBefore), notAfter: new Date(notAfter) });
  const refresh = o.refreshAt?.(notBefore, notAfter) ?? (notBefore + notAfter) / 2;
  const iso = (ms: number): string => new Date(ms).toISOString();
  return { certificateChain: chain, serialNumber: "01", notBefore: iso(notBefore + (o.statusShiftMs ?? 0)), notAfter: iso(notAfter), beginRefreshAt: iso(refresh) };
}

const check = async (o: Leaf, request = pcr()): Promise<void> => { verifyPodAnswer(request, await answer(o), roots, now); };

describe("verifyPodAnswer", () => {
  it("accepts the signer's answer for the request's key, namespace and ServiceAccount (any trust domain)", async () => {
    await expect(check({})).resolves.toBeUndefined();
    await expect(check({ san: "spiffe://example.org/ns/shop/sa/web" })).resolves.toBeUndefined();
  });

  it("names each refused identity: another key, more SANs, another namespace or ServiceAccount, no workload ID", async () => {
    await expect(check({}, pcr(spki()))).rejects.toThrow("the leaf's public key is not the CSR's");
    await expect(check({ dns: ["web.shop.svc"] })).rejects.toThrow(`the leaf's SANs [dns:web.shop.svc, uri:${SPIFFE}] are not the requested [uri:${SPIFFE}]`);
    await expect(check({ san: "spiffe://cluster.local/ns/shop/sa/admin" })).rejects.toThrow('the leaf\'s SPIFFE ID spiffe://cluster.local/ns/shop/sa/admin is not the request\'s namespace "shop" and ServiceAccount "web"');
    await expect(check({ san: "spiffe://cluster.local/ns/other/sa/web" })).rejects.toThrow(/is not the request's namespace "shop"/);
    await expect(check({ san: "spiffe://cluster.local/web" })).rejects.toThrow(/^the leaf's URI SAN is not a workload SPIFFE ID: /);
  });

  it("names each time the apiserver would refuse: status times, lifetime, notBefore skew, beginRefreshAt", async () => {
    await expect(check({ statusShiftMs: 1_000 })).rejects.toThrow("the answer's notBefore/notAfter are not the leaf's");
    await expect(check({ lifetimeS: 86_401 })).rejects.toThrow("the leaf's lifetime 86401 s is outside [3600, maxExpirationSeconds 86400]");
    await expect(check({ lifetimeS: 3_599 })).rejects.toThrow(/lifetime 3599 s is outside/);
    await expect(check({ notBeforeAgoS: 301 })).rejects.toThrow(/notBefore .* is not within 5 minutes of now/);
    await expect(check({ refreshAt: (nb) => nb + 599_000 })).rejects.toThrow(/^beginRefreshAt .* is not at least 10 minutes inside the validity/);
    await expect(check({ refreshAt: (_nb, na) => na - 599_000 })).rejects.toThrow(/is not at least 10 minutes inside/);
  });

  it("refuses a chain that is no chain, or that does not lead to the bundle", async () => {
    const good = await answer();
    expect(() => { verifyPodAnswer(pcr(), { ...good, certificateChain: "" }, roots, now); }).toThrow("the chain: no CERTIFICATE PEM block");
    const other = await createPodIssuer();
    expect(() => { verifyPodAnswer(pcr(), good, readRoots(other.rootPem), now); }).toThrow(/does not lead to a root of the current trust bundle/);
  });
});
