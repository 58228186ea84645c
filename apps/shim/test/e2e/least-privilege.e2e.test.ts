/**
 * What the installation may touch and what the cluster holds, end to end: the shim's ServiceAccount has
 * exactly the RBAC of infra/k8s needs (its signer name only, the one Secret it publishes), and after a
 * certificate was issued and the roots published, no CA private key is anywhere in the cluster: not in
 * any object, not in etcd's files. A control plane of this file's own with one shim; each test stands alone.
 */
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { expect, it } from "vitest";
import { z } from "zod";
import { createCsr, decide, deleteCsr, getCsr, issued, putStatus, waitForCsr } from "../support/csr-api.ts";
import { until } from "../support/until.ts";
import { workloadCsr } from "../support/workload-csr.ts";
import { OTHER_SIGNER_NAME, spiffe, unique } from "./harness.ts";
import { useOwnStack } from "./own-stack.ts";
import { publishedSecret } from "./published-roots.ts";

const own = useOwnStack({ shim: "shim-a" });

it("has exactly the RBAC it needs: no other signer, no other Secret", async () => {
  const { cp, stack } = own;
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

it("stores no CA private key anywhere in the cluster once it has issued and published", async () => {
  const { cp, stack } = own;
  // The whole flow first: a certificate issued and the roots published, so the cluster holds what it would.
  const { name } = await stack.requestAsIstiod("e2e-no-key");
  expect(issued(await waitForCsr(stack.istiod, name, issued))).toBe(true);
  expect((await until(() => publishedSecret(cp.admin), (p) => p.pem !== "")).pem).toContain("BEGIN CERTIFICATE");

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
