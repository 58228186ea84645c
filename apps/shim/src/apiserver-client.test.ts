import { randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createTestCa } from "@edgeca/testenv";
import { useControlPlane } from "@edgeca/testenv/vitest";
import { KubeConfig, type V1CertificateSigningRequest } from "@kubernetes/client-node";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { ApiserverClient, ApiserverError, splitLines, type WatchEvent } from "./apiserver-client.ts";
import { csrStatusApi, setFailed, writeStatus } from "./csr-status.ts";
import { apiserverReason, kubeMessage } from "./kube-error.ts";
import { createCsr, deleteCsr, USAGES } from "../test/support/csr-api.ts";
import { workloadCsr } from "../test/support/workload-csr.ts";

const cp = useControlPlane();
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "edgeca-apiserver-client-"));
  await writeFile(join(dir, "ca.pem"), cp.caPem);
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function adminConfig(): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(cp.kubeconfigPath);
  return kc;
}

/** A kubeconfig with `user` against the test apiserver, CA from a file (as in-cluster config has it). */
function configWith(user: Record<string, unknown>, cluster: Record<string, unknown> = {}): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: "test", server: cp.server, caFile: join(dir, "ca.pem"), skipTLSVerify: false, ...cluster }],
    users: [{ name: "u", ...user }],
    contexts: [{ name: "test", cluster: "test", user: "u" }],
    currentContext: "test",
  });
  return kc;
}

async function failureOf(call: Promise<unknown>): Promise<unknown> {
  return await call.then(() => new Error("expected a failure"), (error: unknown) => error);
}

async function newCsr(signerName: string, client?: ApiserverClient): Promise<string> {
  const name = `client-${randomBytes(4).toString("hex")}`;
  const pem = (await workloadCsr("ztunnel-p256", "spiffe://cluster.local/ns/a/sa/b")).pem;
  if (client === undefined) await createCsr(cp.admin, name, signerName, pem);
  else await client.json("POST", "/apis/certificates.k8s.io/v1/certificatesigningrequests", { apiVersion: "certificates.k8s.io/v1", kind: "CertificateSigningRequest", metadata: { name }, spec: { request: Buffer.from(pem).toString("base64"), signerName, usages: USAGES } });
  return name;
}

describe("ApiserverClient against the real apiserver", () => {
  it("reads and writes a CSR's status as plain JSON; 409 and 404 are ApiserverHttp409/404 with the apiserver's message", async () => {
    const kc = adminConfig();
    const api = csrStatusApi(kc);
    const name = await newCsr("client.example.com/status", ApiserverClient.for(kc));
    try {
      const read = await api.readCertificateSigningRequest({ name });
      expect(read.metadata?.name).toBe(name);
      // Plain JSON: timestamps stay the apiserver's strings (no ObjectSerializer).
      expect(typeof read.metadata?.creationTimestamp).toBe("string");

      const written = await writeStatus(api, read, setFailed("SignerRefused", "by the test", new Date()));
      expect(written.outcome).toBe("written");
      expect(written.csr?.status?.conditions?.map((c) => c.type)).toEqual(["Failed"]);

      // The copy we read first is stale now: optimistic concurrency refuses it.
      const stale = structuredClone(read);
      stale.status = { conditions: [] };
      const conflict = await failureOf(api.replaceCertificateSigningRequestStatus({ name, body: stale }));
      expect(conflict).toBeInstanceOf(ApiserverError);
      expect(apiserverReason(conflict)).toBe("ApiserverHttp409");
      expect(kubeMessage(conflict)).toMatch(/^HTTP 409: Operation cannot be fulfilled .*the object has been modified/);
    } finally {
      await deleteCsr(cp.admin, name);
    }
    const missing = await failureOf(api.readCertificateSigningRequest({ name }));
    expect(apiserverReason(missing)).toBe("ApiserverHttp404");
    expect(kubeMessage(missing)).toContain(`"${name}" not found`);
    ApiserverClient.close(kc);
  });

  it("a server that does not answer is ApiserverUnreachable, naming the call and the cause", async () => {
    const kc = configWith({ token: "x" }, { server: "https://127.0.0.1:1" });
    const error = await failureOf(csrStatusApi(kc).readCertificateSigningRequest({ name: "a" }));
    expect(apiserverReason(error)).toBe("ApiserverUnreachable");
    expect(kubeMessage(error)).toMatch(/^GET https:\/\/127\.0\.0\.1:1\/apis\/certificates\.k8s\.io\/v1\/certificatesigningrequests\/a failed: connect ECONNREFUSED/);
  });

  it("authenticates with a bearer token file (the in-cluster ServiceAccount token), as client-node's tokenFile provider does", async () => {
    const namespace = `client-${randomBytes(3).toString("hex")}`;
    const token = await cp.mintToken({ namespace, serviceAccount: "reader" });
    await writeFile(join(dir, "token"), token);
    // The ServiceAccount has no RBAC: the 403 names who the apiserver took us for.
    const kc = configWith({ authProvider: { name: "tokenFile", config: { tokenFile: join(dir, "token") } } });
    const error = await failureOf(csrStatusApi(kc).readCertificateSigningRequest({ name: "a" }));
    expect(apiserverReason(error)).toBe("ApiserverHttp403");
    expect(kubeMessage(error)).toContain(`system:serviceaccount:${namespace}:reader`);
    // The same with the token inline.
    const inline = await failureOf(csrStatusApi(configWith({ token })).readCertificateSigningRequest({ name: "a" }));
    expect(kubeMessage(inline)).toContain(`system:serviceaccount:${namespace}:reader`);
    ApiserverClient.close(kc);
  });

  describe("material that changes on disk (only Date is faked: connections and timers are real)", () => {
    afterEach(() => {
      vi.useRealTimers();
    });
    const later = (ms: number): void => {
      vi.setSystemTime(Date.now() + ms);
    };

    it("sends a rotated token file's new token once client-node reads the file again (after 60 s), as the kubelet rotates the projected token", async () => {
      vi.useFakeTimers({ toFake: ["Date"] });
      const namespace = `rotate-${randomBytes(3).toString("hex")}`;
      const file = join(dir, "rotating-token");
      await writeFile(file, await cp.mintToken({ namespace, serviceAccount: "first" }));
      const kc = configWith({ authProvider: { name: "tokenFile", config: { tokenFile: file } } });
      // client-node's tokenFile provider is one instance for every KubeConfig: let any earlier read expire.
      later(61_000);
      const first = await failureOf(csrStatusApi(kc).readCertificateSigningRequest({ name: "a" }));
      expect(kubeMessage(first)).toContain(`system:serviceaccount:${namespace}:first`);

      await writeFile(file, await cp.mintToken({ namespace, serviceAccount: "second" }));
      later(2_000);
      const cached = await failureOf(csrStatusApi(kc).readCertificateSigningRequest({ name: "a" }));
      expect(kubeMessage(cached)).toContain(`system:serviceaccount:${namespace}:first`);
      later(60_000);
      const rotated = await failureOf(csrStatusApi(kc).readCertificateSigningRequest({ name: "a" }));
      expect(kubeMessage(rotated)).toContain(`system:serviceaccount:${namespace}:second`);
      ApiserverClient.close(kc);
    });

    it("connects with a CA file's new contents within a second of the change", async () => {
      vi.useFakeTimers({ toFake: ["Date"] });
      const caFile = join(dir, "changing-ca.pem");
      await writeFile(caFile, (await createTestCa("CN=not the cluster CA either")).certPem);
      const kc = configWith({ token: "x" }, { caFile });
      const untrusted = await failureOf(csrStatusApi(kc).readCertificateSigningRequest({ name: "a" }));
      expect(apiserverReason(untrusted)).toBe("ApiserverUnreachable");

      await writeFile(caFile, cp.caPem);
      later(1_500);
      // Trusted now: the apiserver itself answers (an unknown token is 401).
      const answered = await failureOf(csrStatusApi(kc).readCertificateSigningRequest({ name: "a" }));
      expect(apiserverReason(answered)).toBe("ApiserverHttp401");
      ApiserverClient.close(kc);
    });
  });

  it("checks the serving certificate against the kubeconfig's CA and tls-server-name", async () => {
    const wrongName = configWith({ token: "x" }, { tlsServerName: "not-the-apiserver.example" });
    const error = await failureOf(csrStatusApi(wrongName).readCertificateSigningRequest({ name: "a" }));
    expect(apiserverReason(error)).toBe("ApiserverUnreachable");
    expect(kubeMessage(error)).toMatch(/not-the-apiserver\.example/);

    await writeFile(join(dir, "other-ca.pem"), (await createTestCa("CN=not the cluster CA")).certPem);
    const wrongCa = configWith({ token: "x" }, { caFile: join(dir, "other-ca.pem") });
    const untrusted = await failureOf(csrStatusApi(wrongCa).readCertificateSigningRequest({ name: "a" }));
    expect(apiserverReason(untrusted)).toBe("ApiserverUnreachable");
    expect(kubeMessage(untrusted)).toMatch(/certificate/i);
  });

  it("streams a watch event by event and ends when the apiserver ends it", async () => {
    const kc = adminConfig();
    const signerName = `client-${randomBytes(3).toString("hex")}.example.com/watch`;
    const name = await newCsr(signerName);
    const events: WatchEvent[] = [];
    const query = new URLSearchParams({ fieldSelector: `spec.signerName=${signerName}`, timeoutSeconds: "1" });
    let opened = false;
    try {
      await ApiserverClient.for(kc).watch(`/apis/certificates.k8s.io/v1/certificatesigningrequests?${query.toString()}`, (e) => events.push(e), new AbortController().signal, () => (opened = true));
    } finally {
      await deleteCsr(cp.admin, name);
    }
    expect(opened).toBe(true);
    expect(events.map((e) => `${e.type}:${(e.object as V1CertificateSigningRequest).metadata?.name ?? ""}`)).toEqual([`ADDED:${name}`]);
    ApiserverClient.close(kc);
  });
});

describe("splitLines", () => {
  it("hands over whole lines only, however the chunks fall", () => {
    const lines: string[] = [];
    const split = splitLines((l) => lines.push(l));
    for (const chunk of ['{"a":', '1}\n{"b":2}\n\n{"c"', ":3}", "\n"]) split.push(chunk);
    expect(lines).toEqual(['{"a":1}', '{"b":2}', '{"c":3}']);
  });
});
