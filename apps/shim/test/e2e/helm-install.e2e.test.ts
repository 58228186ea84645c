/**
 * `helm install` of infra/helm/edgeca-shim into the real local apiserver, then the shim issuing a
 * certificate exactly as that installation would run it. The control plane has no nodes, so the pod never
 * starts; instead the test reads the Deployment, its ConfigMap, Secrets and ServiceAccount back from the
 * cluster and runs the bundled shim the way apps/shim/Dockerfile runs it (its entry point and CMD, its
 * USER, a read-only root with only the copied bundle, a memory /tmp) with the environment and volume files
 * the kubelet would give that pod (pod-from-cluster.ts): in-cluster API access with the chart's
 * ServiceAccount, so only the chart's RBAC applies. The only changes: the metrics port binds 127.0.0.1 on a
 * free port (the pod's 8080 on all addresses is not allowed here) and the Lease timings are shortened.
 * Everything uses its own names (namespace, release, signer name), so the kustomize-based e2e tests in
 * the same cluster are not touched.
 */
import { execFile } from "node:child_process";
import { X509Certificate } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { setTimeout as sleep } from "node:timers/promises";
import { startLocalSigner, type LocalSigner } from "@edgeca/edge";
import type { KubeApiClient } from "@edgeca/testenv";
import { useControlPlane } from "@edgeca/testenv/vitest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { chainOf, createCsr, decide, issued, waitForCsr } from "../support/csr-api.ts";
import { readImageSpec, type ImageSpec } from "./dockerfile.ts";
import { helmRunner, type ToolResult } from "./go-tools.ts";
import { podFromCluster, type ClusterPod } from "./pod-from-cluster.ts";
import { startPod, type PodProcess } from "./pod-sandbox.ts";
import { workloadCsr } from "../support/workload-csr.ts";

const repo = fileURLToPath(new URL("../../../../", import.meta.url));
const NAMESPACE = "edgeca-helm-e2e";
const RELEASE = "e2e";
const FULLNAME = "e2e-edgeca-shim";
const SIGNER = "example.com/helm";
const AUDIENCE = "edgeca-helm-signer";

const cp = useControlPlane();
let helm: (args: readonly string[]) => Promise<ToolResult>;
let work: string;
let signer: LocalSigner;
let istiod: KubeApiClient;
/** The installed pod and the image, read by the first test. */
let installed: { pod: ClusterPod; image: ImageSpec; env: Record<string, string> } | undefined;

async function kubectl(args: string[], input?: string): Promise<string> {
  const out = await cp.kubectl(args, input === undefined ? {} : { input });
  if (out.code !== 0) throw new Error(`kubectl ${args.join(" ")}: ${out.stderr}`);
  return out.stdout;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => { resolve(typeof address === "object" && address !== null ? address.port : 0); });
    });
  });
}

/** `edgeca init` for this release's ServiceAccount and signer name, as the operator runs it. */
async function initSigner(dir: string): Promise<void> {
  const jwks = join(work, "jwks.json");
  await writeFile(jwks, JSON.stringify(cp.jwks));
  await promisify(execFile)(process.execPath, [
    "--import", "tsx", join(repo, "apps/cli/src/main.ts"), "init", "--out", dir,
    "--signer-name", SIGNER, "--trust-domain", "cluster.local", "--jwks", jwks, "--token-audience", AUDIENCE,
    "--token-issuer", cp.serviceAccountIssuer, "--shim-subject", `system:serviceaccount:${NAMESPACE}:${FULLNAME}`,
  ], { cwd: repo, timeout: 120_000 });
}

/** istiod's CSR rights for this signer name (as infra/istio grants them for the real one). */
async function grantIstiod(): Promise<void> {
  await cp.ensureServiceAccount("istio-system", "istiod");
  await kubectl(["apply", "-f", "-"], `
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: { name: e2e-helm-istiod-csr }
rules:
  - { apiGroups: [certificates.k8s.io], resources: [certificatesigningrequests, certificatesigningrequests/approval], verbs: [create, get, update] }
  - { apiGroups: [certificates.k8s.io], resources: [signers], resourceNames: ["${SIGNER}"], verbs: [approve] }
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: { name: e2e-helm-istiod-csr }
roleRef: { apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: e2e-helm-istiod-csr }
subjects: [{ kind: ServiceAccount, name: istiod, namespace: istio-system }]
`);
  istiod = cp.clientForToken(await cp.mintToken({ namespace: "istio-system", serviceAccount: "istiod" }));
}

/** Creates or updates the object `kubectl create <args>` describes (the shared cluster may have it from a previous run). */
async function apply(args: string[]): Promise<void> {
  await kubectl(["apply", "-f", "-"], await kubectl(["create", ...args, "--dry-run=client", "-o", "yaml"]));
}

beforeAll(async () => {
  helm = await helmRunner();
  work = await mkdtemp(join(tmpdir(), "edgeca-helm-e2e-"));
  const material = join(work, "signer");
  await cp.ensureNamespace(NAMESPACE);
  await kubectl(["label", "--overwrite", "namespace", NAMESPACE, "pod-security.kubernetes.io/enforce=restricted"]);
  // What kube-controller-manager's root-ca publisher puts in every namespace (this control plane runs none).
  await apply(["-n", NAMESPACE, "configmap", "kube-root-ca.crt", "--from-literal", `ca.crt=${cp.caPem}`]);
  await initSigner(material);
  signer = await startLocalSigner({ dir: material, port: 0 });
  await apply(["-n", NAMESPACE, "secret", "tls", "e2e-shim-client", "--cert", join(material, "client-cert.pem"), "--key", join(material, "client-key.pem")]);
  await apply(["-n", NAMESPACE, "secret", "generic", "e2e-signer-ca", "--from-file", `ca.crt=${signer.serverCaPath}`]);
  await grantIstiod();
}, 3_600_000);

afterAll(async () => {
  await helm(["uninstall", RELEASE, "--namespace", NAMESPACE, "--kubeconfig", cp.kubeconfigPath]);
  // Published by the shim, not by the chart (absent where certificates.k8s.io/v1beta1 is not served).
  await cp.kubectl(["delete", "clustertrustbundles.certificates.k8s.io", "example.com:helm:edgeca", "--ignore-not-found"]);
  await signer.stop();
  await rm(work, { recursive: true, force: true });
});

describe("helm install of infra/helm/edgeca-shim", () => {
  it("installs into the apiserver, and the shim it describes, run as the image runs it, issues a certificate", async () => {
    const install = await helm([
      "install", RELEASE, join(repo, "infra/helm/edgeca-shim"), "--namespace", NAMESPACE, "--kubeconfig", cp.kubeconfigPath,
      "--set", `signer.url=${signer.url}`, "--set", `signer.name=${SIGNER}`, "--set", `signer.tokenAudience=${AUDIENCE}`,
      "--set", "signer.caSecretName=e2e-signer-ca", "--set", "clientCertSecretName=e2e-shim-client",
      // The Istio Secret in this release's namespace: istio-system/external-ca-cert belongs to the kustomize tests.
      "--set", `istio.secretNamespace=${NAMESPACE}`,
    ]);
    expect(install.stderr).toBe("");
    expect(install.code).toBe(0);
    expect(install.stdout).toContain("STATUS: deployed");
    expect(install.stdout).toContain(`kubectl -n ${NAMESPACE} rollout status deployment/${FULLNAME}`);

    const podName = `${FULLNAME}-7d9f8c6b5-e2e01`;
    const pod = await podFromCluster(cp, NAMESPACE, FULLNAME, podName);
    expect(pod.serviceAccount).toBe(FULLNAME);
    expect(pod.readOnlyRootFilesystem).toBe(true);
    const image = await readImageSpec(join(repo, "apps/shim/Dockerfile"), repo);
    // The image's USER is the pod's runAsUser: the chart and the Dockerfile agree.
    expect([image.uid, image.gid]).toEqual([pod.runAsUser, pod.runAsGroup]);
    await promisify(execFile)("pnpm", ["run", "--silent", "bundle"], { cwd: join(repo, "apps/shim"), timeout: 120_000 });

    const port = await freePort();
    const env = { ...pod.env, EDGECA_HTTP_HOST: "127.0.0.1", EDGECA_HTTP_PORT: String(port), EDGECA_LEASE_DURATION_SECONDS: "3", EDGECA_RENEW_DEADLINE_SECONDS: "2", EDGECA_RETRY_PERIOD_SECONDS: "1" };
    installed = { pod, image, env };
    const shim: PodProcess = await startPod({ image, files: pod.files, env, runAsUser: pod.runAsUser, runAsGroup: pod.runAsGroup, fsGroup: pod.fsGroup, tmpSize: pod.tmpSize });
    try {
      const deadline = Date.now() + 30_000;
      while (!shim.output().includes('"msg":"became leader"') && shim.child.exitCode === null && Date.now() < deadline) await sleep(100);
      expect(shim.output()).toContain('"msg":"became leader"');

      const csr = await workloadCsr("ztunnel-p256", "spiffe://cluster.local/ns/helm/sa/web");
      const name = `e2e-helm-${Date.now()}`;
      await createCsr(istiod, name, SIGNER, csr.pem);
      await decide(istiod, name, "Approved");
      const done = await waitForCsr(istiod, name, issued, 20_000);
      expect(issued(done), shim.output()).toBe(true);
      const chain = (chainOf(done).match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? []).map((b) => new X509Certificate(b));
      const root = new X509Certificate(await readFile(join(work, "signer", "root-cert.pem")));
      const [leaf, intermediate] = chain;
      if (leaf === undefined || intermediate === undefined) throw new Error(`chain of ${chain.length}`);
      expect(leaf.subjectAltName).toBe("URI:spiffe://cluster.local/ns/helm/sa/web");
      expect(leaf.verify(intermediate.publicKey) && intermediate.verify(root.publicKey)).toBe(true);

      // The chart's Lease, Role and Secret are the ones the shim used.
      const Lease = z.object({ spec: z.object({ holderIdentity: z.string() }).loose() }).loose();
      expect(Lease.parse(await cp.admin.request("GET", `/apis/coordination.k8s.io/v1/namespaces/${NAMESPACE}/leases/${FULLNAME}`)).spec.holderIdentity).toBe(podName);
      const Secret = z.object({ data: z.record(z.string(), z.string()).optional() }).loose();
      const published = async (): Promise<string> => Buffer.from(Secret.parse(await cp.admin.request("GET", `/api/v1/namespaces/${NAMESPACE}/secrets/external-ca-cert`)).data?.["root-cert.pem"] ?? "", "base64").toString("utf8");
      const until = Date.now() + 10_000;
      while (!(await published()).includes(root.toString().trim()) && Date.now() < until) await sleep(200);
      expect(new X509Certificate(await published()).fingerprint256).toBe(root.fingerprint256);

      // The issuing CA's expiry, exported for the near-expiry alert, is the intermediate's NotAfter.
      const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      expect(metrics).toMatch(new RegExp(`^edgeca_shim_certificates_issued_total\\{signer="${SIGNER}"\\} 1$`, "m"));
      expect(metrics).toContain(`edgeca_shim_issuing_ca_not_after_seconds{signer="${SIGNER}"} ${Math.floor(intermediate.validToDate.getTime() / 1000)}`);

      shim.child.kill("SIGTERM");
      expect(await shim.exited).toBe(0);
    } finally {
      await shim.dispose();
    }
  });

  it("runs only with the Deployment's file modes: the client key readable by its owner alone (0400), the non-root shim refuses to start, naming the file", async () => {
    if (installed === undefined) throw new Error("needs the install test before it");
    const { pod, image, env } = installed;
    const files = pod.files.map((f) => (f.path === "/etc/edgeca/client/tls.key" ? { ...f, mode: 0o400 } : f));
    const shim = await startPod({ image, files, env, runAsUser: pod.runAsUser, runAsGroup: pod.runAsGroup, fsGroup: pod.fsGroup, tmpSize: pod.tmpSize });
    try {
      expect(await shim.exited).toBe(1);
      expect(shim.output()).toContain("edgeca-shim: cannot start: cannot read the signer client's files: EACCES: permission denied, open '/etc/edgeca/client/tls.key'");
    } finally {
      await shim.dispose();
    }
  });
});
