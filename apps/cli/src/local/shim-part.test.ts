/**
 * `edgeca local up` with every part, checked from outside the way an operator would: kubectl acting as
 * istiod (its own token, Istio's RBAC plus `approve` on the signer) creates and approves a CSR made with
 * openssl; the shim gets it signed; openssl verifies the chain against DIR/root-cert.pem, which the shim
 * also published to Secret istio-system/external-ca-cert.
 */
import { execFile, spawn } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { ensureBinaries, processesMentioning, runKubectl } from "@edgeca/testenv";
import { afterAll, beforeAll, describe, expect, test } from "vitest";

const root = fileURLToPath(new URL("../../../../", import.meta.url));
const main = join(root, "apps/cli/src/main.ts");
const run = promisify(execFile);
let dir = "";

beforeAll(async () => {
  await ensureBinaries();
  dir = await mkdtemp(join(tmpdir(), "edgeca-local-up-shim-"));
}, 40 * 60_000);

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const istiodRbac = `
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: { name: istiod-clusterrole-istio-system }
rules:
  - apiGroups: [certificates.k8s.io]
    resources: [certificatesigningrequests, certificatesigningrequests/approval, certificatesigningrequests/status]
    verbs: [update, create, get, delete, watch]
  - apiGroups: [certificates.k8s.io]
    resources: [signers]
    resourceNames: [example.com/foo]
    verbs: [approve]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: { name: istiod-clusterrole-istio-system }
roleRef: { apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: istiod-clusterrole-istio-system }
subjects: [{ kind: ServiceAccount, name: istiod, namespace: istio-system }]
`;

describe("edgeca local up with the shim", () => {
  test("kubectl acting as istiod gets a CSR signed; the chain verifies with openssl against DIR/root-cert.pem", async () => {
    const stateDir = join(dir, "state");
    const child = spawn(process.execPath, ["--import", "tsx", main, "local", "up", "--state-dir", stateDir], { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (c: string) => (stdout += c));
    child.stderr.setEncoding("utf8").on("data", (c: string) => (stderr += c));
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => { resolve(code); }));
    try {
      const deadline = Date.now() + 150_000;
      while (!stdout.split("\n").includes("ready") && child.exitCode === null && Date.now() < deadline) await sleep(200);
      expect(stdout.split("\n"), stderr).toContain("ready");
      expect(stderr).toContain("shim ready");
      const admin = join(stateDir, "kubeconfig");

      // istiod's identity: its ServiceAccount, its RBAC, a kubeconfig with only its token.
      expect((await runKubectl(admin, ["create", "serviceaccount", "istiod", "-n", "istio-system"])).code).toBe(0);
      expect((await runKubectl(admin, ["apply", "-f", "-"], { input: istiodRbac })).code).toBe(0);
      const token = (await runKubectl(admin, ["create", "token", "istiod", "-n", "istio-system"])).stdout.trim();
      const server = (await runKubectl(admin, ["config", "view", "--minify", "-o", "jsonpath={.clusters[0].cluster.server}"])).stdout;
      const caData = (await runKubectl(admin, ["config", "view", "--raw", "--minify", "-o", "jsonpath={.clusters[0].cluster.certificate-authority-data}"])).stdout;
      const istiod = join(dir, "istiod.kubeconfig");
      await writeFile(
        istiod,
        [
          "apiVersion: v1",
          "kind: Config",
          `clusters: [{ name: local, cluster: { server: "${server}", certificate-authority-data: ${caData} } }]`,
          `users: [{ name: istiod, user: { token: "${token}" } }]`,
          "contexts: [{ name: istiod, context: { cluster: local, user: istiod } }]",
          "current-context: istiod",
          "",
        ].join("\n"),
      );

      // A ztunnel-style request from openssl: P-256, a critical URI SAN.
      const key = join(dir, "workload.key");
      const csrPath = join(dir, "workload.csr");
      await run("openssl", ["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", key]);
      await run("openssl", ["req", "-new", "-key", key, "-subj", "/O=", "-addext", "subjectAltName=critical,URI:spiffe://cluster.local/ns/bookinfo/sa/reviews", "-out", csrPath]);
      const manifest = [
        "apiVersion: certificates.k8s.io/v1",
        "kind: CertificateSigningRequest",
        "metadata: { name: csr-workload-kubectl }",
        "spec:",
        "  signerName: example.com/foo",
        "  usages: [digital signature, key encipherment, server auth, client auth]",
        "  expirationSeconds: 3600",
        `  request: ${(await readFile(csrPath)).toString("base64")}`,
        "",
      ].join("\n");
      const created = await runKubectl(istiod, ["create", "-f", "-"], { input: manifest });
      expect(created.code, created.stderr).toBe(0);
      const approved = await runKubectl(istiod, ["certificate", "approve", "csr-workload-kubectl"]);
      expect(approved.code, approved.stderr).toBe(0);
      let certificate = "";
      const until = Date.now() + 20_000;
      while (certificate === "" && Date.now() < until) {
        certificate = (await runKubectl(istiod, ["get", "csr", "csr-workload-kubectl", "-o", "jsonpath={.status.certificate}"])).stdout.trim();
        if (certificate === "") await sleep(200);
      }
      expect(certificate).not.toBe("");
      const chain = join(dir, "chain.pem");
      await writeFile(chain, Buffer.from(certificate, "base64"));
      const verified = await run("openssl", ["verify", "-CAfile", join(stateDir, "root-cert.pem"), "-untrusted", chain, chain]);
      expect(verified.stdout.trim()).toBe(`${chain}: OK`);
      const san = await run("openssl", ["x509", "-in", chain, "-noout", "-ext", "subjectAltName"]);
      expect(san.stdout).toContain("URI:spiffe://cluster.local/ns/bookinfo/sa/reviews");

      // The root istiod would mount is the one the signer serves.
      const published = (await runKubectl(admin, ["get", "secret", "external-ca-cert", "-n", "istio-system", "-o", "jsonpath={.data.root-cert\\.pem}"])).stdout;
      expect(Buffer.from(published, "base64").toString("utf8").trim()).toBe((await readFile(join(stateDir, "root-cert.pem"), "utf8")).trim());
    } finally {
      child.kill("SIGTERM");
      expect(await exited).toBe(0);
    }
    expect(processesMentioning(stateDir)).toEqual([]);
  });
});
