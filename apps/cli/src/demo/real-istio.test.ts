/**
 * edgeca with the real istiod and pilot-agent (not our emulator): istiod in RA mode against the local stack
 * (real kube-apiserver, the Worker in workerd behind the edge emulator, the shim), workloads as
 * `pilot-agent proxy sidecar` without Envoy. Each test uses its own namespace and ServiceAccounts and its
 * own CSR watch; they share the stack and istiod, which take half a minute to start.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AgentNetwork, CsrWatch, ensureIstioBinaries, startIstiod, startPilotAgent } from "@edgeca/testenv";
import type { IstioBinaries, Istiod, PilotAgent, StartPilotAgentOptions } from "@edgeca/testenv";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { localParts, startLocalStack } from "../local/index.ts";
import type { LocalStack, PartStarter, StackPart } from "../local/index.ts";
import { parseCertificates, verifyChain } from "../verify/index.ts";

const SIGNER = "example.com/foo";
const ISTIOD_USER = "system:serviceaccount:istio-system:istiod";
let dir = "";
let istio: IstioBinaries;
let stackOrUndefined: LocalStack | undefined;
let istiodOrUndefined: Istiod | undefined;
let network: AgentNetwork | undefined;
const agents: PilotAgent[] = [];
const extraParts: StackPart[] = [];

beforeAll(async () => {
  // The first build takes about 15 minutes on 2 cores; progress goes to stderr.
  istio = await ensureIstioBinaries();
  dir = await mkdtemp(join(tmpdir(), "edgeca-real-istio-"));
  const parts = [localParts.signer, localParts.shim].filter((p): p is PartStarter => p !== undefined);
  stackOrUndefined = await startLocalStack({ stateDir: dir, signerName: SIGNER, trustDomain: "cluster.local", allowedRequestors: [ISTIOD_USER], parts, log: () => undefined });
  istiodOrUndefined = await startIstiod({ binary: istio.pilotDiscovery, controlPlane: stackOrUndefined.controlPlane, signerName: SIGNER, dir: join(dir, "istiod") });
  // Where allowed (root), the agents run in a network namespace holding only lo.
  network = await AgentNetwork.start(istiodOrUndefined.secureGrpcAddress);
}, 45 * 60_000);

afterAll(async () => {
  for (const agent of agents) await agent.stop();
  await network?.stop();
  await istiodOrUndefined?.stop();
  for (const part of extraParts) await part.stop();
  await stackOrUndefined?.stop();
  await rm(dir, { recursive: true, force: true });
}, 120_000);

/** The shared stack and istiod (beforeAll started them, or failed and no test runs). */
function shared(): { stack: LocalStack; istiod: Istiod } {
  if (stackOrUndefined === undefined || istiodOrUndefined === undefined) throw new Error("the stack or istiod did not start");
  return { stack: stackOrUndefined, istiod: istiodOrUndefined };
}

async function agent(options: Omit<StartPilotAgentOptions, "binary" | "controlPlane" | "istiod" | "dir">): Promise<PilotAgent> {
  const { stack, istiod } = shared();
  const started = await startPilotAgent({
    ...options,
    binary: istio.pilotAgent,
    controlPlane: stack.controlPlane,
    istiod,
    dir: join(dir, "agents", `${options.namespace}-${options.podName}`),
    ...(network === undefined ? {} : { network }),
  });
  agents.push(started);
  return started;
}

/** The chain an agent wrote, checked against external-ca-cert's root-cert.pem and the agent's SPIFFE ID. */
function failedChecks(chainPem: string, spiffeId: string): string[] {
  const { istiod } = shared();
  const chain = parseCertificates(chainPem, "cert-chain.pem");
  const roots = parseCertificates(istiod.externalRootPem, "external-ca-cert root-cert.pem");
  return verifyChain({ chain, roots, spiffeId }).checks.filter((c) => c.result === "fail").map((c) => `${c.name}: ${c.detail}`);
}

describe("the real istiod and pilot-agent with edgeca", () => {
  test("RSA and ECDSA sidecars get chains to external-ca-cert through CSRs istiod created, approved and deleted; a short-lived one renews itself", async () => {
    const { stack, istiod } = shared();
    const watch = await CsrWatch.start(stack.controlPlane);
    try {
      const rsa = await agent({ namespace: "flow", serviceAccount: "reviews", podName: "reviews-v1-0", secretTtlSeconds: 600 });
      const ecdsa = await agent({ namespace: "flow", serviceAccount: "ratings", podName: "ratings-v1-0", key: { ecdsaCurve: "P256" }, secretTtlSeconds: 600, secretGracePeriodRatio: 0.95 });
      const [rsaCerts, ecCerts] = await Promise.all([rsa.waitForCertificate(120_000), ecdsa.waitForCertificate(120_000)]);

      expect(failedChecks(rsaCerts.chainPem, "spiffe://cluster.local/ns/flow/sa/reviews")).toEqual([]);
      expect(failedChecks(ecCerts.chainPem, "spiffe://cluster.local/ns/flow/sa/ratings")).toEqual([]);
      expect(rsaCerts.leaf.publicKey.asymmetricKeyDetails?.modulusLength).toBe(2048);
      expect(ecCerts.leaf.publicKey.asymmetricKeyDetails?.namedCurve).toBe("prime256v1");
      // pilot-agent's root-cert.pem is the root of the chain, i.e. external-ca-cert's.
      expect(parseCertificates(rsaCerts.rootPem, "root-cert.pem")[0]?.fingerprint256).toBe(parseCertificates(istiod.externalRootPem, "bundle")[0]?.fingerprint256);

      for (const [a, serial] of [[rsa, rsaCerts.leaf.serialNumber], [ecdsa, ecCerts.leaf.serialNumber]] as const) {
        const record = await watch.waitFor(`the CSR of ${a.spiffeId} deleted`, 30_000, (rs) => rs.find((r) => r.serial === serial && r.deletedAt !== undefined));
        expect(record.username).toBe(ISTIOD_USER);
        expect(record.signerName).toBe(SIGNER);
        expect(record.uris).toEqual([a.spiffeId]);
        expect(record.expirationSeconds).toBe(600);
        expect([...record.usages].sort()).toEqual(["client auth", "digital signature", "key encipherment", "server auth"]);
        expect(record.name).toMatch(/^csr-workload-/);
        expect(record.conditions.find((c) => c.type === "Approved")?.message).toContain(`CSR (${record.name})`);
      }

      // SECRET_GRACE_PERIOD_RATIO 0.95 of 600 s: the agent renews about 30 s after issuance, with a new key.
      const renewed = await ecdsa.waitForCertificate(120_000, ecCerts.leaf.serialNumber);
      expect(renewed.keyPem).not.toBe(ecCerts.keyPem);
      expect(failedChecks(renewed.chainPem, ecdsa.spiffeId)).toEqual([]);
      expect(watch.forSpiffeId(ecdsa.spiffeId).length).toBeGreaterThanOrEqual(2);
      // It would go on renewing every 30 s.
      await Promise.all([rsa.stop(), ecdsa.stop()]);
    } finally {
      watch.stop();
    }
  }, 300_000);

  test("a sidecar with a key the signer refuses (RSA-5120): the CSR fails with PolicyDenied and the agent gets no certificate", async () => {
    const { stack } = shared();
    const watch = await CsrWatch.start(stack.controlPlane);
    try {
      const refused = await agent({ namespace: "refusal", serviceAccount: "legacy", podName: "legacy-v1-0", key: { rsaBits: 5120 } });
      const failed = await watch.waitFor("a Failed CSR for refusal/legacy", 180_000, (rs) =>
        rs.filter((r) => r.uris.includes(refused.spiffeId)).flatMap((r) => r.conditions.filter((c) => c.type === "Failed"))[0],
      );
      expect(failed.reason).toBe("PolicyDenied");
      expect(failed.message).toContain("RSA-5120");
      // istiod ignores Failed and waits out its 60 s; then it answers the agent with an error (pilot-agent
      // logs "ca request failed, starting attempt 1" and retries the same CSR), and the agent has nothing.
      const deadline = Date.now() + 100_000;
      while (!/ca request failed/.test(await refused.logTail(200)) && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 1000));
      }
      expect(await refused.logTail(200)).toMatch(/ca request failed/);
      expect(await refused.certificates()).toBeUndefined();
      const records = watch.forSpiffeId(refused.spiffeId);
      expect(records[0]?.deletedAt).toBeDefined();
      expect(records.every((r) => r.issuedAt === undefined)).toBe(true);
      // It would retry four more times, one Failed CSR a minute.
      await refused.stop();
    } finally {
      watch.stop();
    }
  }, 400_000);

  test("an agent claiming a foreign trust domain is refused by istiod itself: no CSR ever reaches the signer", async () => {
    const { stack } = shared();
    const watch = await CsrWatch.start(stack.controlPlane);
    try {
      // istiod checks the CSR's SPIFFE ID against the caller's token identity (spiffe://cluster.local/…)
      // before it creates anything: our emulator's foreign-trust-domain request cannot happen with it.
      const foreign = await agent({ namespace: "foreign", serviceAccount: "productpage", podName: "productpage-v1-0", trustDomain: "evil.example" });
      const refusal = /code = InvalidArgument desc = CSR signing error \(unable to validate SAN Identities in CSR\)/;
      const deadline = Date.now() + 60_000;
      while (!refusal.test(await foreign.logTail(200)) && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 500));
      }
      expect(await foreign.logTail(200)).toMatch(refusal);
      expect(await foreign.certificates()).toBeUndefined();
      const forNamespace = [...watch.records.values()].filter((r) => r.uris.some((u) => u.includes("/ns/foreign/")));
      expect(forNamespace).toEqual([]);
      await foreign.stop();
    } finally {
      watch.stop();
    }
  }, 120_000);

  test("a shim restart while a request waits: istiod's pending CSR is signed by the new shim and the agent gets its certificate", async () => {
    const { stack } = shared();
    const shim = stack.parts.find((p) => p.name === "shim");
    const startShim = localParts.shim;
    if (shim === undefined || startShim === undefined) throw new Error("the stack has no shim part");
    const watch = await CsrWatch.start(stack.controlPlane);
    try {
      await shim.stop();
      const waiting = await agent({ namespace: "restart", serviceAccount: "details", podName: "details-v1-0" });
      const pending = await watch.waitFor("an approved CSR for restart/details", 60_000, (rs) =>
        rs.find((r) => r.uris.includes(waiting.spiffeId) && r.conditions.some((c) => c.type === "Approved")),
      );
      expect(pending.issuedAt).toBeUndefined();
      expect(await waiting.certificates()).toBeUndefined();
      extraParts.push(
        await startShim({ controlPlane: stack.controlPlane, stateDir: dir, signerName: SIGNER, trustDomain: "cluster.local", allowedRequestors: [ISTIOD_USER], log: () => undefined }),
      );
      const certs = await waiting.waitForCertificate(60_000);
      expect(failedChecks(certs.chainPem, waiting.spiffeId)).toEqual([]);
      const record = await watch.waitFor("the CSR signed after the restart, deleted", 30_000, (rs) => rs.find((r) => r.serial === certs.leaf.serialNumber && r.deletedAt !== undefined));
      expect(record.name).toBe(pending.name);
    } finally {
      watch.stop();
    }
  }, 300_000);
});
