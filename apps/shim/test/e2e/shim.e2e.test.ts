/**
 * The shim end to end (issue 4's nine tests): real kube-apiserver, real Worker behind the edge emulator,
 * shims running with the token and the RBAC of infra/k8s. One stack for the file; the tests run in order
 * and each uses its own CSR names. The disruptive ones (signer restart, bundle rotation, hand-over) come last.
 */
import { execFile, spawn } from "node:child_process";
import { randomBytes, X509Certificate } from "node:crypto";
import { copyFile, readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { setTimeout as sleep } from "node:timers/promises";
import { useControlPlane } from "@edgeca/testenv/vitest";
import type { Counter } from "prom-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { chainOf, conditionOf, createCsr, decide, deleteCsr, getCsr, issued, putStatus, waitForCsr } from "../support/csr-api.ts";
import { E2EStack, OTHER_SIGNER_NAME, SHIM_NAMESPACE, SIGNER_NAME, TOKEN_AUDIENCE, TRUST_DOMAIN, type RunningShim } from "./harness.ts";
import type { SignerClient } from "../../src/signer-client.ts";
import { workloadCsr } from "../support/workload-csr.ts";

const cp = useControlPlane();
let stack: E2EStack;
let primary: RunningShim;

const unique = (prefix: string): string => `${prefix}-${randomBytes(4).toString("hex")}`;
const spiffe = (ns: string, sa: string): string => `spiffe://${TRUST_DOMAIN}/ns/${ns}/sa/${sa}`;

async function total(counter: Counter, labels: Record<string, string> = {}): Promise<number> {
  const { values } = await counter.get();
  return values.filter((v) => Object.entries(labels).every(([k, want]) => v.labels[k] === want)).reduce((sum, v) => sum + v.value, 0);
}

/** Creates a CSR as istiod and approves it, as istiod does; returns its name. */
async function requestAsIstiod(prefix: string, kind: "sidecar-rsa2048" | "ztunnel-p256" = "ztunnel-p256", san = spiffe("e2e", "web")): Promise<{ name: string; csr: Awaited<ReturnType<typeof workloadCsr>> }> {
  const name = unique(prefix);
  const csr = await workloadCsr(kind, san);
  await createCsr(stack.istiod, name, SIGNER_NAME, csr.pem);
  await decide(stack.istiod, name, "Approved");
  return { name, csr };
}

function certificates(pem: string): X509Certificate[] {
  return (pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? []).map((b) => new X509Certificate(b));
}

const SecretData = z.object({ data: z.record(z.string(), z.string()).optional(), metadata: z.object({ resourceVersion: z.string() }).loose() }).loose();
const TrustBundleObject = z.object({ spec: z.object({ signerName: z.string(), trustBundle: z.string() }), metadata: z.object({ resourceVersion: z.string() }).loose() }).loose();

async function publishedSecret(): Promise<{ pem: string; resourceVersion: string }> {
  const secret = SecretData.parse(await cp.admin.request("GET", "/api/v1/namespaces/istio-system/secrets/external-ca-cert"));
  return { pem: Buffer.from(secret.data?.["root-cert.pem"] ?? "", "base64").toString("utf8"), resourceVersion: secret.metadata.resourceVersion };
}

async function publishedTrustBundle(): Promise<{ pem: string; signerName: string; resourceVersion: string } | undefined> {
  const res = await cp.admin.send("GET", "/apis/certificates.k8s.io/v1beta1/clustertrustbundles/example.com:foo:edgeca");
  if (res.status === 404) return undefined;
  const ctb = TrustBundleObject.parse(res.json);
  return { pem: ctb.spec.trustBundle, signerName: ctb.spec.signerName, resourceVersion: ctb.metadata.resourceVersion };
}

const fingerprints = (pem: string): string[] => certificates(pem).map((c) => c.fingerprint256).sort();

async function until<T>(probe: () => T | Promise<T>, ok: (value: T) => boolean, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (ok(value) || Date.now() > deadline) return value;
    await sleep(100);
  }
}

beforeAll(async () => {
  stack = await E2EStack.start(cp);
  primary = await stack.startShim("shim-a");
  await until(() => primary.shim.isLeader() && primary.shim.notReadyReason() === undefined, Boolean);
}, 180_000);

afterAll(async () => {
  await primary.shim.stop();
  await stack.stop();
});

describe("the shim against the real apiserver and the real signer", () => {
  it("serves /healthz, /readyz and Prometheus metrics, and nothing else", async () => {
    const base = `http://127.0.0.1:${primary.shim.port}`;
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
    const metrics = await fetch(`${base}/metrics`);
    expect(metrics.status).toBe(200);
    const text = await metrics.text();
    expect(text).toMatch(/^edgeca_shim_leader 1$/m);
    for (const name of ["edgeca_shim_certificates_issued_total", "edgeca_shim_signer_request_duration_seconds", "edgeca_shim_queue_depth", "edgeca_shim_issue_latency_seconds"]) {
      expect(text).toContain(name);
    }
    expect((await fetch(`${base}/`)).status).toBe(404);
    expect((await fetch(`${base}/healthz`, { method: "POST" })).status).toBe(405);
  });

  it("issues approved Istio-shaped CSRs (RSA-2048 sidecar, P-256 ztunnel) whose chains verify to the root", async () => {
    const root = new X509Certificate(await readFile(join(stack.materialDir, "root-cert.pem")));
    for (const kind of ["sidecar-rsa2048", "ztunnel-p256"] as const) {
      const { name, csr } = await requestAsIstiod(`e2e-issue-${kind}`, kind, spiffe("bookinfo", kind));
      const done = await waitForCsr(stack.istiod, name, issued);
      expect(issued(done)).toBe(true);
      const chain = certificates(chainOf(done));
      const [leaf, ...intermediates] = chain;
      if (leaf === undefined) throw new Error("no leaf");
      expect(intermediates.length).toBeGreaterThan(0);
      // Every link verifies with Node's own X.509 code, ending at the root from `edgeca init`.
      for (const [i, cert] of chain.entries()) {
        const issuer = chain[i + 1] ?? root;
        expect(cert.checkIssued(issuer)).toBe(true);
        expect(cert.verify(issuer.publicKey)).toBe(true);
      }
      expect(leaf.subjectAltName).toBe(`URI:${spiffe("bookinfo", kind)}`);
      expect(leaf.ca).toBe(false);
      const spki = Buffer.from(await crypto.subtle.exportKey("spki", csr.keys.publicKey));
      expect(leaf.publicKey.export({ type: "spki", format: "der" }).equals(spki)).toBe(true);
      await deleteCsr(stack.istiod, name);
    }
  });

  it("leaves unapproved, Denied and already-Failed CSRs and other signer names alone", async () => {
    const pending = unique("e2e-pending");
    await createCsr(stack.istiod, pending, SIGNER_NAME, (await workloadCsr("ztunnel-p256", spiffe("e2e", "pending"))).pem);
    const denied = unique("e2e-denied");
    await createCsr(stack.istiod, denied, SIGNER_NAME, (await workloadCsr("ztunnel-p256", spiffe("e2e", "denied"))).pem);
    await decide(stack.istiod, denied, "Denied");
    const failed = unique("e2e-failed");
    await createCsr(stack.istiod, failed, SIGNER_NAME, (await workloadCsr("ztunnel-p256", spiffe("e2e", "failed"))).pem);
    // Failed first (the admin stands in for another controller), approved afterwards: the shim sees an
    // approved CSR that is already Failed and must not touch it.
    const failedCsr = await getCsr(cp.admin, failed);
    if (failedCsr === undefined) throw new Error("gone");
    const preFailed = await putStatus(cp.admin, failedCsr, { conditions: [{ type: "Failed", status: "True", reason: "ByAnotherController", message: "e2e" }] });
    expect(preFailed.status, preFailed.text).toBe(200);
    await decide(stack.istiod, failed, "Approved");
    const other = unique("e2e-other-signer");
    await createCsr(cp.admin, other, OTHER_SIGNER_NAME, (await workloadCsr("ztunnel-p256", spiffe("e2e", "other"))).pem);
    await decide(cp.admin, other, "Approved");

    // A control request created after them is issued: the shim has seen the others by then.
    const control = await requestAsIstiod("e2e-control");
    expect(issued(await waitForCsr(stack.istiod, control.name, issued))).toBe(true);
    await sleep(500);

    for (const name of [pending, denied, failed, other]) {
      const csr = await getCsr(cp.admin, name);
      expect(issued(csr), name).toBe(false);
    }
    expect(conditionOf(await getCsr(cp.admin, pending), "Failed")).toBeUndefined();
    expect(conditionOf(await getCsr(cp.admin, denied), "Failed")).toBeUndefined();
    expect(conditionOf(await getCsr(cp.admin, failed), "Failed")?.reason).toBe("ByAnotherController");
    expect(conditionOf(await getCsr(cp.admin, other), "Failed")).toBeUndefined();
    expect(primary.signer.calls(pending) + primary.signer.calls(denied) + primary.signer.calls(failed) + primary.signer.calls(other)).toBe(0);
  });

  it("turns a policy refusal into Failed with a TitleCase reason and a Warning Event within seconds", async () => {
    const started = Date.now();
    // A SPIFFE ID outside the configured trust domain: well-formed, refused by policy (422 policy_denied).
    const { name } = await requestAsIstiod("e2e-refused", "ztunnel-p256", "spiffe://evil.example/ns/e2e/sa/web");
    const done = await waitForCsr(stack.istiod, name, (c) => conditionOf(c, "Failed") !== undefined, 10_000);
    const failed = conditionOf(done, "Failed");
    expect(failed?.reason).toBe("PolicyDenied");
    expect(failed?.message ?? "").not.toBe("");
    expect(issued(done)).toBe(false);
    expect(Date.now() - started).toBeLessThan(10_000);
    const Events = z.object({ items: z.array(z.object({ type: z.string(), reason: z.string(), note: z.string().optional(), regarding: z.object({ name: z.string() }).loose() }).loose()) });
    const events = await until(
      async () => Events.parse(await cp.admin.request("GET", "/apis/events.k8s.io/v1/namespaces/default/events")).items.filter((e) => e.regarding.name === name),
      (items) => items.length > 0,
    );
    expect(events[0]?.type).toBe("Warning");
    expect(events[0]?.reason).toBe("PolicyDenied");
    expect(await total(primary.shim.metrics.failed, { reason: "PolicyDenied" })).toBeGreaterThan(0);
  });

  it("drops a CSR deleted while in flight without error noise or retries", async () => {
    const name = unique("e2e-deleted");
    const held = primary.signer.hold(name);
    const csr = await workloadCsr("ztunnel-p256", spiffe("e2e", "deleted"));
    await createCsr(stack.istiod, name, SIGNER_NAME, csr.pem);
    await decide(stack.istiod, name, "Approved");
    await held; // the signer has answered; the shim is about to verify and write
    const retriesBefore = await total(primary.shim.metrics.retried);
    await deleteCsr(stack.istiod, name);
    await until(async () => getCsr(cp.admin, name), (c) => c === undefined);
    primary.signer.release(name);
    await sleep(1_500);
    expect(primary.signer.calls(name)).toBe(1);
    expect(await total(primary.shim.metrics.retried)).toBe(retriesBefore);
    const noise = primary.logs.filter((r) => (r.level === "warn" || r.level === "error") && JSON.stringify(r).includes(name));
    expect(noise).toEqual([]);
  });

  it("has exactly the RBAC it needs: no other signer, no other Secret", async () => {
    const root = await readFile(join(stack.materialDir, "root-cert.pem"), "utf8");
    const other = unique("e2e-rbac-other");
    await createCsr(cp.admin, other, OTHER_SIGNER_NAME, (await workloadCsr("ztunnel-p256", spiffe("e2e", "rbac"))).pem);
    await decide(cp.admin, other, "Approved");
    const otherCsr = await getCsr(stack.shimApi, other);
    if (otherCsr === undefined) throw new Error("the shim cannot read CSRs");
    // The CertificateSigning admission plugin refuses both the certificate and a Failed condition.
    const sign = await putStatus(stack.shimApi, otherCsr, { certificate: Buffer.from(root).toString("base64") });
    expect(sign.status, sign.text).toBe(403);
    const fail = await putStatus(stack.shimApi, otherCsr, { conditions: [...(otherCsr.status?.conditions ?? []), { type: "Failed", status: "True", reason: "X", message: "x" }] });
    expect(fail.status, fail.text).toBe(403);

    await cp.admin.send("POST", "/api/v1/namespaces/istio-system/secrets", { apiVersion: "v1", kind: "Secret", metadata: { name: "e2e-unrelated" }, stringData: { k: "v" } });
    expect((await stack.shimApi.send("GET", "/api/v1/namespaces/istio-system/secrets/external-ca-cert")).status).toBe(200);
    expect((await stack.shimApi.send("GET", "/api/v1/namespaces/istio-system/secrets/e2e-unrelated")).status).toBe(403);
    expect((await stack.shimApi.send("GET", "/api/v1/namespaces/istio-system/secrets")).status).toBe(403);
    expect((await stack.shimApi.send("GET", "/api/v1/namespaces/edgeca-system/secrets")).status).toBe(403);
    expect((await stack.shimApi.send("GET", "/api/v1/secrets")).status).toBe(403);
    expect((await stack.shimApi.send("POST", "/api/v1/namespaces/istio-system/secrets", { apiVersion: "v1", kind: "Secret", metadata: { name: "e2e-by-shim" } })).status).toBe(403);
    expect((await stack.shimApi.send("GET", "/api/v1/namespaces/kube-system/configmaps")).status).toBe(403);
    await deleteCsr(cp.admin, other);
  });

  it("stores no CA private key anywhere in the cluster", async () => {
    const SecretsSchema = z.object({ items: z.array(z.object({ data: z.record(z.string(), z.string()).optional() }).loose()) });
    const ConfigMaps = z.object({ items: z.array(z.object({ data: z.record(z.string(), z.string()).optional() }).loose()) });
    const values: string[] = [];
    for (const s of SecretsSchema.parse(await cp.admin.request("GET", "/api/v1/secrets")).items) {
      for (const v of Object.values(s.data ?? {})) values.push(Buffer.from(v, "base64").toString("utf8"));
    }
    for (const c of ConfigMaps.parse(await cp.admin.request("GET", "/api/v1/configmaps")).items) values.push(...Object.values(c.data ?? {}));
    values.push(JSON.stringify(await cp.admin.request("GET", "/apis/certificates.k8s.io/v1beta1/clustertrustbundles")));
    values.push(JSON.stringify(await cp.admin.request("GET", "/apis/certificates.k8s.io/v1/certificatesigningrequests")));
    expect(values.length).toBeGreaterThan(0);
    for (const v of values) expect(v).not.toMatch(/PRIVATE KEY/);

    // And not in etcd's files either: look for the DER of each CA key, the issuing CA's the Worker holds
    // and the root's and client CA's that `edgeca init` keeps offline.
    const secrets = z.record(z.string(), z.string()).parse(JSON.parse(await readFile(join(stack.materialDir, "worker", "secrets.json"), "utf8")));
    const offline = await Promise.all(["root-key.pem", "client-ca-key.pem"].map((f) => readFile(join(stack.materialDir, "offline", f), "utf8")));
    const needles = [...Object.values(secrets), ...offline].map((pem) => Buffer.from(pem.replace(/-----[^-]+-----|\s/g, ""), "base64"));
    expect(needles.length).toBe(Object.keys(secrets).length + 2);
    const files = (await readdir(cp.dataDir, { recursive: true, withFileTypes: true })).filter((d) => d.isFile()).map((d) => join(d.parentPath, d.name));
    for (const file of files) {
      const bytes = await readFile(file);
      for (const der of needles) expect(bytes.includes(der.subarray(0, 48)), file).toBe(false);
    }
  });

  it("publishes the trust bundle to the Secret and the ClusterTrustBundle, and rewrites them only when it changes", async () => {
    const root = await readFile(join(stack.materialDir, "root-cert.pem"), "utf8");
    const secret = await until(publishedSecret, (s) => s.pem !== "");
    expect(fingerprints(secret.pem)).toEqual(fingerprints(root));
    const ctb = await until(publishedTrustBundle, (b) => b !== undefined);
    expect(ctb?.signerName).toBe(SIGNER_NAME);
    expect(fingerprints(ctb?.pem ?? "")).toEqual(fingerprints(root));

    // Several refreshes (every second) later nothing was rewritten.
    await sleep(2_500);
    expect((await publishedSecret()).resourceVersion).toBe(secret.resourceVersion);
    expect((await publishedTrustBundle())?.resourceVersion).toBe(ctb?.resourceVersion);

    // A new root at the signer (fresh `edgeca init --force`, signer restarted on the same port): both follow.
    await stack.stopSigner();
    await stack.initMaterial(true);
    await stack.startSigner();
    const rotated = await readFile(join(stack.materialDir, "root-cert.pem"), "utf8");
    expect(fingerprints(rotated)).not.toEqual(fingerprints(root));
    const newSecret = await until(publishedSecret, (s) => fingerprints(s.pem).join() === fingerprints(rotated).join(), 20_000);
    expect(fingerprints(newSecret.pem)).toEqual(fingerprints(rotated));
    const newCtb = await until(publishedTrustBundle, (b) => fingerprints(b?.pem ?? "").join() === fingerprints(rotated).join(), 20_000);
    expect(fingerprints(newCtb?.pem ?? "")).toEqual(fingerprints(rotated));
    // The shim picked up the new client certificate too and still signs.
    const { name } = await requestAsIstiod("e2e-after-rotation");
    expect(issued(await waitForCsr(stack.istiod, name, issued, 20_000))).toBe(true);
  });

  it("retries while the signer is down and issues once it is back, never marking Failed", async () => {
    await stack.stopSigner();
    const retriesBefore = await total(primary.shim.metrics.retried);
    const { name } = await requestAsIstiod("e2e-signer-down");
    await sleep(3_000);
    const during = await getCsr(cp.admin, name);
    expect(issued(during)).toBe(false);
    expect(conditionOf(during, "Failed")).toBeUndefined();
    expect(await total(primary.shim.metrics.retried)).toBeGreaterThan(retriesBefore);
    await stack.startSigner();
    const done = await waitForCsr(stack.istiod, name, issued, 20_000);
    expect(issued(done)).toBe(true);
    expect(conditionOf(done, "Failed")).toBeUndefined();
  });

  it("runs two replicas where only the leader signs, and hands over when the leader stops", async () => {
    const standby = await stack.startShim("shim-b");
    try {
      await until(() => standby.shim.notReadyReason(), (r) => r === undefined);
      expect(primary.shim.isLeader()).toBe(true);
      expect(standby.shim.isLeader()).toBe(false);

      const first = await requestAsIstiod("e2e-leader");
      expect(issued(await waitForCsr(stack.istiod, first.name, issued))).toBe(true);
      expect(primary.signer.calls(first.name)).toBe(1);
      expect(standby.signer.calls(first.name)).toBe(0);

      await primary.shim.stop();
      const took = await until(() => standby.shim.isLeader(), Boolean, 10_000);
      expect(took).toBe(true);
      const second = await requestAsIstiod("e2e-handover");
      expect(issued(await waitForCsr(stack.istiod, second.name, issued))).toBe(true);
      expect(standby.signer.calls(second.name)).toBe(1);
      expect(await total(standby.shim.metrics.issued)).toBeGreaterThan(0);
    } finally {
      await standby.shim.stop();
    }
  });
  it("runs as the image runs it: the one-file bundle, configured by the environment, stopped by SIGTERM", async () => {
    const shimDir = fileURLToPath(new URL("../../", import.meta.url));
    await promisify(execFile)("pnpm", ["run", "--silent", "bundle"], { cwd: shimDir, timeout: 120_000 });
    const config = stack.config("shim-bundled");
    const env: Record<string, string> = {
      PATH: process.env["PATH"] ?? "",
      EDGECA_SIGNER_URL: config.signerUrl,
      EDGECA_SIGNER_NAMES: SIGNER_NAME,
      EDGECA_CLIENT_CERT_FILE: config.clientCertFile,
      EDGECA_CLIENT_KEY_FILE: config.clientKeyFile,
      EDGECA_SIGNER_CA_FILE: config.signerCaFile ?? "",
      EDGECA_TOKEN_FILE: config.tokenFile ?? "",
      EDGECA_TOKEN_AUDIENCE: config.tokenAudience ?? "",
      EDGECA_HTTP_HOST: "127.0.0.1",
      EDGECA_HTTP_PORT: "0",
      EDGECA_LEASE_DURATION_SECONDS: "3",
      EDGECA_RENEW_DEADLINE_SECONDS: "2",
      EDGECA_RETRY_PERIOD_SECONDS: "1",
      POD_NAME: "shim-bundled",
      POD_NAMESPACE: SHIM_NAMESPACE,
      KUBECONFIG: stack.shimKubeconfigPath,
    };
    const child = spawn(process.execPath, [join(shimDir, "dist/shim.mjs")], { env, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.setEncoding("utf8").on("data", (c: string) => (output += c));
    child.stderr.setEncoding("utf8").on("data", (c: string) => (output += c));
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => { resolve(code); }));
    try {
      expect(await until(() => output.includes('"msg":"became leader"'), Boolean, 20_000), output).toBe(true);
      const { name } = await requestAsIstiod("e2e-bundled");
      expect(issued(await waitForCsr(stack.istiod, name, issued))).toBe(true);
      child.kill("SIGTERM");
      expect(await exited).toBe(0);
      // Graceful shutdown released the Lease for the next leader.
      const Lease = z.object({ spec: z.object({ holderIdentity: z.string().optional() }).loose() }).loose();
      const lease = Lease.parse(await cp.admin.request("GET", `/apis/coordination.k8s.io/v1/namespaces/${SHIM_NAMESPACE}/leases/edgeca-shim`));
      expect(lease.spec.holderIdentity ?? "").toBe("");
      const lines = output.trim().split("\n").filter((l) => l.startsWith("{"));
      expect(lines.length).toBeGreaterThan(0);
      for (const line of lines) expect(() => JSON.parse(line) as unknown, line).not.toThrow();
    } finally {
      if (child.exitCode === null) child.kill("SIGKILL");
    }
  });
  it("treats a 401 from a misconfigured token as transient (retried, loud, never Failed) and re-reads the token file when it changes", async () => {
    const tokenFile = await stack.tokenFileFor("not-the-signer");
    const misconfigured = await stack.startShim("shim-wrong-token", { env: { EDGECA_TOKEN_FILE: tokenFile, EDGECA_TOKEN_AUDIENCE: "" } });
    try {
      await until(() => misconfigured.shim.isLeader(), Boolean, 10_000);
      const { name } = await requestAsIstiod("e2e-unauthenticated");
      await until(() => total(misconfigured.shim.metrics.retried, { reason: "Unauthenticated" }), (n) => n >= 2, 10_000);
      const csr = await getCsr(cp.admin, name);
      expect(issued(csr)).toBe(false);
      expect(conditionOf(csr, "Failed")).toBeUndefined();
      expect(misconfigured.logs.some((r) => r.level === "error" && r.msg.includes("refused the shim's credentials"))).toBe(true);
      // Kubelet rotates projected tokens in place; the shim reads the new one on its next request.
      await copyFile(await stack.tokenFileFor(TOKEN_AUDIENCE), tokenFile);
      expect(issued(await waitForCsr(cp.admin, name, issued, 20_000))).toBe(true);
    } finally {
      await misconfigured.shim.stop();
    }
  });

  it("never writes an answer that fails verification, and marks the CSR Failed after repeated bad answers", async () => {
    // No real signer hands out a certificate for the wrong key, so this shim's signer client is the real one
    // with the answer swapped: the real signer's certificate for a different key with the same SPIFFE ID.
    const swap = (real: SignerClient): SignerClient => ({
      ...real,
      async sign(request, signal) {
        const other = await workloadCsr("ztunnel-p256", spiffe("e2e", "tampered"));
        return await real.sign({ ...request, csr: other.pem }, signal);
      },
    });
    const tampering = await stack.startShim("shim-bad-answers", { wrap: swap });
    try {
      await until(() => tampering.shim.isLeader(), Boolean, 10_000);
      const { name } = await requestAsIstiod("e2e-bad-answer", "ztunnel-p256", spiffe("e2e", "tampered"));
      const done = await waitForCsr(cp.admin, name, (c) => conditionOf(c, "Failed") !== undefined, 30_000);
      expect(conditionOf(done, "Failed")?.reason).toBe("InvalidSignerAnswer");
      expect(conditionOf(done, "Failed")?.message).toMatch(/public key is not the CSR's/);
      expect(issued(done)).toBe(false);
      expect(await total(tampering.shim.metrics.verificationFailures)).toBe(5);
      expect(tampering.signer.calls(name)).toBe(5);
    } finally {
      await tampering.shim.stop();
    }
  });
  it("lets a standby take over when the leader dies without releasing the Lease", async () => {
    // The bundled shim (built by the test above) as leader, killed with SIGKILL: no graceful release.
    const shimDir = fileURLToPath(new URL("../../", import.meta.url));
    const config = stack.config("shim-crashing");
    const child = spawn(process.execPath, [join(shimDir, "dist/shim.mjs")], {
      env: {
        PATH: process.env["PATH"] ?? "",
        EDGECA_SIGNER_URL: config.signerUrl,
        EDGECA_SIGNER_NAMES: SIGNER_NAME,
        EDGECA_CLIENT_CERT_FILE: config.clientCertFile,
        EDGECA_CLIENT_KEY_FILE: config.clientKeyFile,
        EDGECA_SIGNER_CA_FILE: config.signerCaFile ?? "",
        EDGECA_TOKEN_FILE: config.tokenFile ?? "",
        EDGECA_HTTP_HOST: "127.0.0.1",
        EDGECA_HTTP_PORT: "0",
        EDGECA_LEASE_DURATION_SECONDS: "3",
        EDGECA_RENEW_DEADLINE_SECONDS: "2",
        EDGECA_RETRY_PERIOD_SECONDS: "1",
        POD_NAME: "shim-crashing",
        POD_NAMESPACE: SHIM_NAMESPACE,
        KUBECONFIG: stack.shimKubeconfigPath,
      },
      stdio: ["ignore", "pipe", "ignore"],
    });
    let output = "";
    child.stdout.setEncoding("utf8").on("data", (c: string) => (output += c));
    let standby: RunningShim | undefined;
    try {
      expect(await until(() => output.includes('"msg":"became leader"'), Boolean, 20_000), output).toBe(true);
      const survivor = await stack.startShim("shim-survivor");
      standby = survivor;
      await until(() => survivor.shim.notReadyReason(), (r) => r === undefined);
      expect(survivor.shim.isLeader()).toBe(false);
      child.kill("SIGKILL");
      expect(await until(() => survivor.shim.isLeader(), Boolean, 15_000)).toBe(true);
      const { name } = await requestAsIstiod("e2e-after-crash");
      expect(issued(await waitForCsr(stack.istiod, name, issued))).toBe(true);
      expect(survivor.signer.calls(name)).toBe(1);
    } finally {
      if (child.exitCode === null) child.kill("SIGKILL");
      await standby?.shim.stop();
    }
  });
});
