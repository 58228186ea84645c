/**
 * Two clusters on one signer, all real: two control planes (etcd + kube-apiserver), the Worker in workerd
 * behind the mTLS edge emulator, a shim in each cluster, istiod's RA flow in each (`IstiodRa` as
 * istio-system/istiod). Cluster A's shim cannot get B's identity, intermediate or policy; a certificate from
 * A verifies against the bundle B publishes; rotating A's intermediate leaves B's issuer and certificates as
 * they were.
 */
import { execFile } from "node:child_process";
import { X509Certificate } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { request } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { createIstioCsr, ensureBinaries, istiodRbac, IstiodRa, ISTIOD_NAMESPACE, ISTIOD_SERVICE_ACCOUNT } from "@edgeca/testenv";
import type { RaOutcome } from "@edgeca/testenv";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { caActivateCommand } from "../commands/ca-activate.ts";
import { caAddIssuerCommand } from "../commands/ca-add-issuer.ts";
import { startLocalSigner, type LocalSigner } from "@edgeca/edge";
import { certificatesOf } from "../ca/certificates.ts";
import { inEachCluster, localParts, startLocalStack } from "./index.ts";
import type { LocalCluster, LocalStack, PartStarter } from "./index.ts";

const SIGNER = "example.com/foo";
const ISTIOD_USER = `system:serviceaccount:${ISTIOD_NAMESPACE}:${ISTIOD_SERVICE_ACCOUNT}`;
const STACK_MS = 8 * 60_000;

let scratch = "";
let stackOrUndefined: LocalStack | undefined;
let restarted: LocalSigner | undefined;
const istiods = new Map<string, IstiodRa>();

function stack(): LocalStack {
  if (stackOrUndefined === undefined) throw new Error("the stack did not start");
  return stackOrUndefined;
}
function cluster(name: string): LocalCluster {
  const c = stack().clusters.find((x) => x.name === name);
  if (c === undefined) throw new Error(`no cluster ${name}`);
  return c;
}

beforeAll(async () => {
  await ensureBinaries();
  scratch = await mkdtemp(join(tmpdir(), "edgeca-multi-"));
  const { signer, shim } = localParts;
  if (signer === undefined || shim === undefined) throw new Error("this build has no signer or shim part");
  const parts: PartStarter[] = [signer, inEachCluster("shims", shim)];
  const clusters = [
    { name: "cluster-a", trustDomain: "a.example" },
    { name: "cluster-b", trustDomain: "b.example" },
  ];
  stackOrUndefined = await startLocalStack({ stateDir: scratch, signerName: SIGNER, trustDomain: "a.example", allowedRequestors: [ISTIOD_USER], clusters, parts, log: () => undefined });
  for (const c of stack().clusters) {
    await c.controlPlane.ensureServiceAccount(ISTIOD_NAMESPACE, ISTIOD_SERVICE_ACCOUNT);
    const applied = await c.controlPlane.kubectl(["apply", "-f", "-"], { input: JSON.stringify({ apiVersion: "v1", kind: "List", items: istiodRbac(SIGNER) }) });
    if (applied.code !== 0) throw new Error(`istiod RBAC in ${c.name}: ${applied.stderr}`);
    const kube = await c.controlPlane.kubeconfigForServiceAccount(ISTIOD_NAMESPACE, ISTIOD_SERVICE_ACCOUNT);
    istiods.set(c.name, new IstiodRa({ kubeconfig: kube.kubeconfig, signerName: SIGNER }));
  }
}, 40 * 60_000);

afterAll(async () => {
  await restarted?.stop();
  await stackOrUndefined?.stop();
  await rm(scratch, { recursive: true, force: true });
}, 120_000);

/** istiod of `name` asks for a workload certificate for `spiffeId` (ECDSA P-256, as istio-agent). */
async function requestIn(name: string, spiffeId: string): Promise<RaOutcome> {
  const istiod = istiods.get(name);
  if (istiod === undefined) throw new Error(`no istiod in ${name}`);
  const csr = await createIstioCsr({ keyType: "P-256", uris: [spiffeId] });
  return await istiod.sign({ csrPem: csr.csrPem, expirationSeconds: 3600 });
}

async function issuedIn(name: string, spiffeId: string): Promise<string> {
  const outcome = await requestIn(name, spiffeId);
  if (outcome.status !== "issued") throw new Error(`${name}: ${spiffeId} was not issued: ${JSON.stringify(outcome)}`);
  return outcome.certificateChain;
}

/** The root(s) the shim of `name` published in istio-system/external-ca-cert (what istiod mounts). */
async function publishedBundle(name: string): Promise<string> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const got = await cluster(name).controlPlane.kubectl(["-n", "istio-system", "get", "secret", "external-ca-cert", "-o", "jsonpath={.data.root-cert\\.pem}"]);
    if (got.code === 0 && got.stdout !== "") return Buffer.from(got.stdout, "base64").toString("utf8");
    if (Date.now() > deadline) throw new Error(`${name}: no external-ca-cert Secret: ${got.stderr}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** `openssl verify` of a chain's leaf against `bundlePem`, the rest of the chain as untrusted intermediates. */
async function opensslVerify(chainPem: string, bundlePem: string, tag: string): Promise<string> {
  const [leaf, ...rest] = certificatesOf(chainPem);
  const files = { leaf: join(scratch, `${tag}-leaf.pem`), rest: join(scratch, `${tag}-untrusted.pem`), ca: join(scratch, `${tag}-ca.pem`) };
  await writeFile(files.leaf, leaf?.toString() ?? "");
  await writeFile(files.rest, rest.map((c) => c.toString()).join(""));
  await writeFile(files.ca, bundlePem);
  const { stdout } = await promisify(execFile)("openssl", ["verify", "-CAfile", files.ca, "-untrusted", files.rest, files.leaf]);
  return stdout.trim();
}

const issuerOf = (chainPem: string): string => certificatesOf(chainPem)[1]?.subject ?? "";

/** GET /v1/bundle with cluster `certOf`'s client certificate and a shim token minted in cluster `tokenOf`. */
async function bundleAs(certOf: string, tokenOf: string): Promise<number> {
  const own = join(cluster(certOf).stateDir, "signer");
  const token = await cluster(tokenOf).controlPlane.mintToken({ namespace: "edgeca-system", serviceAccount: "edgeca-shim", audiences: ["edgeca-signer"], expirationSeconds: 600 });
  const url = (await readFile(join(cluster(certOf).stateDir, "signer-url"), "utf8")).trim();
  const tls = { ca: await readFile(join(own, "edge-ca-cert.pem"), "utf8"), cert: await readFile(join(own, "client-cert.pem"), "utf8"), key: await readFile(join(own, "client-key.pem"), "utf8") };
  return await new Promise((resolve, reject) => {
    const req = request(`${url}/v1/bundle`, { ...tls, headers: { authorization: `Bearer ${token}` }, timeout: 10_000 }, (res) => {
      res.resume();
      res.on("end", () => {
        resolve(res.statusCode ?? 0);
      });
    });
    req.on("error", reject);
    req.end();
  });
}

describe("two clusters, one signer", () => {
  test("each cluster is signed by its own intermediate under the shared root; A's certificate verifies against B's published bundle and B's against A's", async () => {
    const fromA = await issuedIn("cluster-a", "spiffe://a.example/ns/default/sa/web");
    const fromB = await issuedIn("cluster-b", "spiffe://b.example/ns/default/sa/web");
    expect(issuerOf(fromA)).toBe("CN=edgeca issuing CA ca1");
    expect(issuerOf(fromB)).toBe("CN=edgeca issuing CA cluster-b-ca1");
    const bundleA = await publishedBundle("cluster-a");
    const bundleB = await publishedBundle("cluster-b");
    expect(bundleB).toBe(bundleA);
    expect(await opensslVerify(fromA, bundleB, "a-in-b")).toMatch(/: OK$/);
    expect(await opensslVerify(fromB, bundleA, "b-in-a")).toMatch(/: OK$/);
  }, STACK_MS);

  test("A's shim cannot get B's identity: a CSR for B's trust domain fails in A with the signer's policy refusal", async () => {
    const outcome = await requestIn("cluster-a", "spiffe://b.example/ns/default/sa/web");
    expect(outcome.status).toBe("failed");
    if (outcome.status !== "failed") return;
    expect(outcome.reason).toBe("PolicyDenied");
    expect(outcome.message).toContain("a.example");
  }, STACK_MS);

  test("a client certificate is accepted only with its own cluster's token: A's certificate with B's token is 401", async () => {
    expect(await bundleAs("cluster-a", "cluster-a")).toBe(200);
    expect(await bundleAs("cluster-b", "cluster-b")).toBe(200);
    expect(await bundleAs("cluster-a", "cluster-b")).toBe(401);
    expect(await bundleAs("cluster-b", "cluster-a")).toBe(401);
  }, STACK_MS);

  test("rotating A's intermediate (ca add-issuer/activate --cluster cluster-a) leaves B's issuer, bundle and certificates untouched", async () => {
    const beforeB = await issuedIn("cluster-b", "spiffe://b.example/ns/default/sa/before");
    const bundleB = await publishedBundle("cluster-b");
    const signerDir = join(scratch, "signer");
    const quiet = console.log;
    console.log = () => undefined;
    try {
      expect(await caAddIssuerCommand.run(["--dir", signerDir, "--cluster", "cluster-a", "--id", "a2"])).toBe(0);
      expect(await caActivateCommand.run(["--dir", signerDir, "--cluster", "cluster-a", "--id", "a2"])).toBe(0);
    } finally {
      console.log = quiet;
    }
    // The new configuration is a new deploy: the signer restarts on the same address with it.
    const port = Number(new URL((await readFile(join(scratch, "signer-url"), "utf8")).trim()).port);
    const signerPart = stack().parts.find((p) => p.name === "signer");
    await signerPart?.stop();
    restarted = await startLocalSigner({ dir: signerDir, port });

    const afterA = await issuedIn("cluster-a", "spiffe://a.example/ns/default/sa/after");
    const afterB = await issuedIn("cluster-b", "spiffe://b.example/ns/default/sa/after");
    expect(issuerOf(afterA)).toBe("CN=edgeca issuing CA a2");
    const [, issuingBefore] = certificatesOf(beforeB);
    const [, issuingAfter] = certificatesOf(afterB);
    expect(issuingAfter?.fingerprint256).toBe(issuingBefore?.fingerprint256);
    expect(await publishedBundle("cluster-b")).toBe(bundleB);
    expect(await opensslVerify(beforeB, bundleB, "b-before")).toMatch(/: OK$/);
    expect(await opensslVerify(afterA, bundleB, "a2-in-b")).toMatch(/: OK$/);
    expect(new X509Certificate(certificatesOf(afterA)[1]?.toString() ?? "").checkIssued(new X509Certificate(bundleB))).toBe(true);
  }, STACK_MS);
});
