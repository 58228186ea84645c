import { execFileSync } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { request } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ensureBinaries, processesMentioning, runKubectl } from "@edgeca/testenv";
import type { KubectlResult } from "@edgeca/testenv";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { localUp } from "./local-up-child.ts";

let scratch = "";
/** Each of these starts a real stack; on a busy 2-core machine that can take a minute or more. */
const STACK_TEST_MS = 240_000;

beforeAll(async () => {
  // A first build of etcd and kube-apiserver takes many minutes; do it (or wait for it) outside the tests.
  await ensureBinaries();
  scratch = await mkdtemp(join(tmpdir(), "edgeca-local-up-"));
}, 40 * 60_000);

afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

/** GET over mTLS with a bearer token, trusting `caPem`. */
async function mtlsGet(url: string, tls: { ca: string; cert: string; key: string }, token: string): Promise<{ status: number; body: string }> {
  return await new Promise((resolve, reject) => {
    const req = request(url, { ...tls, headers: { authorization: `Bearer ${token}` }, timeout: 10_000 }, (res) => {
      let body = "";
      res.setEncoding("utf8").on("data", (c: string) => (body += c));
      res.on("end", () => {
        resolve({ status: res.statusCode ?? 0, body });
      });
    });
    req.on("error", reject);
    req.end();
  });
}

describe("edgeca local up", () => {
  test("--no-signer --no-shim prints ready, serves kubectl through DIR/kubeconfig, and SIGTERM stops it with no process left", async () => {
    const stateDir = join(scratch, "bare");
    const { run, ready, ms } = await localUp(["--state-dir", stateDir, "--no-signer", "--no-shim"]);
    try {
      expect(ready, `no "ready" line; stderr:\n${run.stderr}`).toBe(true);
      console.log(`local up --no-signer --no-shim: ready after ${ms} ms`);
      const ns = await runKubectl(join(stateDir, "kubeconfig"), ["get", "namespace", "default", "-o", "jsonpath={.metadata.name}"]);
      expect(ns.stderr).toBe("");
      expect(ns.stdout).toBe("default");
      expect((await runKubectl(join(stateDir, "kubeconfig"), ["get", "csr"])).code).toBe(0);
    } finally {
      run.child.kill("SIGTERM");
    }
    expect(await run.exited).toBe(0);
    expect(run.stdout).toBe("ready\n");
    expect(run.stderr).toContain("stopped");
    // etcd and kube-apiserver ran with their data under the state dir: nothing may still mention it.
    expect(processesMentioning(stateDir)).toEqual([]);
  }, STACK_TEST_MS);

  test("with the signer: DIR/root-cert.pem is what the signer's bundle serves to the shim's identity, and SIGTERM stops it all", async () => {
    const stateDir = join(scratch, "signer");
    const { run, ready, ms } = await localUp(["--state-dir", stateDir, "--no-shim"]);
    try {
      expect(ready, `no "ready" line; stderr:\n${run.stderr}`).toBe(true);
      console.log(`local up --no-shim (control plane + signer): ready after ${ms} ms`);
      const kubeconfig = join(stateDir, "kubeconfig");
      // The shim's identity, as a cluster admin would set it up, with a token for the signer's audience.
      await runKubectl(kubeconfig, ["create", "namespace", "edgeca-system"]);
      await runKubectl(kubeconfig, ["create", "serviceaccount", "edgeca-shim", "-n", "edgeca-system"]);
      const token = await runKubectl(kubeconfig, ["create", "token", "edgeca-shim", "-n", "edgeca-system", "--audience", "edgeca-signer"]);
      expect(token.code, token.stderr).toBe(0);

      const signerDir = join(stateDir, "signer");
      const url = (await readFile(join(stateDir, "signer-url"), "utf8")).trim();
      const tls = {
        ca: await readFile(join(signerDir, "edge-ca-cert.pem"), "utf8"),
        cert: await readFile(join(signerDir, "client-cert.pem"), "utf8"),
        key: await readFile(join(signerDir, "client-key.pem"), "utf8"),
      };
      const bundle = await mtlsGet(`${url}/v1/bundle`, tls, token.stdout.trim());
      expect(bundle.status, bundle.body).toBe(200);
      const rootPem = await readFile(join(stateDir, "root-cert.pem"), "utf8");
      expect((JSON.parse(bundle.body) as { roots: string[] }).roots.map((r) => r.trim())).toEqual([rootPem.trim()]);

      // A token for another audience is refused: the signer checks the cluster's tokens for real.
      const other = await runKubectl(kubeconfig, ["create", "token", "edgeca-shim", "-n", "edgeca-system", "--audience", "someone-else"]);
      expect((await mtlsGet(`${url}/v1/bundle`, tls, other.stdout.trim())).status).toBe(401);
    } finally {
      run.child.kill("SIGTERM");
    }
    expect(await run.exited).toBe(0);
    expect(run.stderr).toContain("stopped");
    expect(processesMentioning(stateDir)).toEqual([]);
  }, STACK_TEST_MS);

  test("the whole stack: an istiod-identity CSR for example.com/foo is signed through the shim and the signer, and chains to DIR/root-cert.pem", async () => {
    const stateDir = join(scratch, "full");
    const { run, ready, ms } = await localUp(["--state-dir", stateDir]);
    try {
      expect(ready, `no "ready" line; stderr:\n${run.stderr}`).toBe(true);
      console.log(`local up (control plane + signer + shim): ready after ${ms} ms`);
      const kubeconfig = join(stateDir, "kubeconfig");
      const admin = (args: readonly string[], input?: string): Promise<KubectlResult> =>
        runKubectl(kubeconfig, args, input === undefined ? {} : { input });

      // istiod's identity and what its chart grants it (create/watch CSRs, approve for the signer name).
      await admin(["create", "namespace", "istio-system"]);
      await admin(["create", "serviceaccount", "istiod", "-n", "istio-system"]);
      const rbac = await admin(["apply", "-f", "-"], ISTIOD_RBAC);
      expect(rbac.code, rbac.stderr).toBe(0);
      const token = (await admin(["create", "token", "istiod", "-n", "istio-system"])).stdout.trim();
      const server = (await admin(["config", "view", "--raw", "-o", "jsonpath={.clusters[0].cluster.server}"])).stdout;
      const caData = (await admin(["config", "view", "--raw", "-o", "jsonpath={.clusters[0].cluster.certificate-authority-data}"])).stdout;
      const caFile = join(stateDir, "cluster-ca.pem");
      await writeFile(caFile, Buffer.from(caData, "base64"));
      const istiod = (args: readonly string[], input?: string): Promise<KubectlResult> =>
        runKubectl("/dev/null", ["--server", server, "--certificate-authority", caFile, "--token", token, ...args], input === undefined ? {} : { input });

      // A workload CSR as istio-agent makes it: empty subject, one critical SPIFFE URI SAN.
      const spiffeId = "spiffe://cluster.local/ns/default/sa/sleep";
      const keyFile = join(stateDir, "workload-key.pem");
      const csrPem = execFileSync("openssl", ["req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", keyFile, "-subj", "/", "-addext", `subjectAltName=critical,URI:${spiffeId}`], {
        encoding: "utf8",
        stdio: ["ignore", "pipe", "pipe"],
      });
      const csr = {
        apiVersion: "certificates.k8s.io/v1",
        kind: "CertificateSigningRequest",
        metadata: { name: "csr-workload-local-up" },
        spec: {
          request: Buffer.from(csrPem).toString("base64"),
          signerName: "example.com/foo",
          usages: ["digital signature", "key encipherment", "server auth", "client auth"],
          expirationSeconds: 3600,
        },
      };
      const created = await istiod(["create", "-f", "-"], JSON.stringify(csr));
      expect(created.code, created.stderr).toBe(0);
      const approved = await istiod(["certificate", "approve", "csr-workload-local-up"]);
      expect(approved.code, approved.stderr).toBe(0);

      const deadline = Date.now() + 30_000;
      let certificate = "";
      while (certificate === "" && Date.now() < deadline) {
        certificate = (await istiod(["get", "csr", "csr-workload-local-up", "-o", "jsonpath={.status.certificate}"])).stdout;
        if (certificate === "") await new Promise((resolve) => setTimeout(resolve, 250));
      }
      expect(certificate, `no certificate; shim log:\n${await readFile(join(stateDir, "shim.log"), "utf8").catch(() => "")}`).not.toBe("");
      const chainFile = join(stateDir, "chain.pem");
      await writeFile(chainFile, Buffer.from(certificate, "base64"));
      const verified = execFileSync("openssl", ["verify", "-CAfile", join(stateDir, "root-cert.pem"), "-untrusted", chainFile, chainFile], { encoding: "utf8" });
      expect(verified.trim()).toBe(`${chainFile}: OK`);
      const san = execFileSync("openssl", ["x509", "-in", chainFile, "-noout", "-ext", "subjectAltName"], { encoding: "utf8" });
      expect(san).toContain(`URI:${spiffeId}`);
    } finally {
      run.child.kill("SIGTERM");
    }
    expect(await run.exited).toBe(0);
    expect(run.stderr).toContain("stopped");
    expect(processesMentioning(stateDir)).toEqual([]);
  }, STACK_TEST_MS);

  test("without --state-dir it is a usage error (exit 2) naming the flag", async () => {
    const { run, ready } = await localUp(["--no-signer", "--no-shim"]);
    expect(ready).toBe(false);
    expect(await run.exited).toBe(2);
    expect(run.stderr).toContain("--state-dir DIR is required");
  });
});

/** What istiod's chart grants it for RA mode with K8S_SIGNER=example.com/foo (global.certSigners). */
const ISTIOD_RBAC = `
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: istiod-ra}
rules:
- apiGroups: [certificates.k8s.io]
  resources: [certificatesigningrequests]
  verbs: [create, get, list, watch, delete]
- apiGroups: [certificates.k8s.io]
  resources: [certificatesigningrequests/approval]
  verbs: [update]
- apiGroups: [certificates.k8s.io]
  resources: [signers]
  resourceNames: [example.com/foo]
  verbs: [approve]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: istiod-ra}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: istiod-ra}
subjects:
- {kind: ServiceAccount, name: istiod, namespace: istio-system}
`;
