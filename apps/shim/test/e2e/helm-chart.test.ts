/**
 * infra/helm/edgeca-shim with the real helm (built from helm.sh/helm/v4): `helm lint`, `helm template` for
 * the default and the production values, and values.schema.json refusing wrong values with its message.
 * (Installing it into the real apiserver is helm-install.e2e.test.ts; equality with kustomize is
 * helm-kustomize.test.ts.)
 */
import { fileURLToPath } from "node:url";
import { loadAllYaml } from "@kubernetes/client-node";
import { beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { helmRunner, type ToolResult } from "./go-tools.ts";

const chart = fileURLToPath(new URL("../../../../infra/helm/edgeca-shim", import.meta.url));
const production = `${chart}/values-production.yaml`;
let helm: (args: readonly string[]) => Promise<ToolResult>;

const Obj = z.object({ kind: z.string(), metadata: z.object({ name: z.string(), namespace: z.string().optional() }).loose() }).loose();
const Rules = z.object({ rules: z.array(z.object({ resourceNames: z.array(z.string()).optional() }).loose()) }).loose();
const Deployment = z.object({
  spec: z.object({
    replicas: z.number(),
    template: z.object({
      spec: z.object({
        containers: z.array(z.object({ image: z.string(), resources: z.unknown() }).loose()),
        volumes: z.array(z.object({ name: z.string(), projected: z.object({ sources: z.array(z.object({ serviceAccountToken: z.object({ audience: z.string().optional() }).loose().optional() }).loose()) }).loose().optional() }).loose()),
      }).loose(),
    }).loose(),
  }).loose(),
}).loose();

async function template(args: readonly string[], release = "edgeca-shim"): Promise<z.infer<typeof Obj>[]> {
  const out = await helm(["template", release, chart, "--namespace", "edgeca-system", ...args]);
  expect(out.stderr).toBe("");
  expect(out.code).toBe(0);
  return loadAllYaml(out.stdout).map((d) => Obj.parse(d));
}

const find = (objects: z.infer<typeof Obj>[], kind: string, name: string): z.infer<typeof Obj> => {
  const found = objects.find((o) => o.kind === kind && o.metadata.name === name);
  if (found === undefined) throw new Error(`${kind}/${name} not rendered; rendered: ${objects.map((o) => `${o.kind}/${o.metadata.name}`).join(", ")}`);
  return found;
};

beforeAll(async () => {
  helm = await helmRunner();
}, 3_600_000);

describe("helm chart infra/helm/edgeca-shim", () => {
  it("passes helm lint --strict with the default and the production values", async () => {
    for (const values of [[], ["--values", production]]) {
      const lint = await helm(["lint", "--strict", chart, ...values]);
      expect(lint.stdout + lint.stderr, values.join(" ")).toContain("1 chart(s) linted, 0 chart(s) failed");
      expect(lint.code).toBe(0);
    }
  });

  it("renders the production values into the objects they name", async () => {
    const objects = await template(["--values", production]);
    const deployment = Deployment.parse(find(objects, "Deployment", "edgeca-shim"));
    expect(deployment.spec.replicas).toBe(3);
    const pod = deployment.spec.template.spec;
    expect(pod.containers[0]?.image).toBe("ghcr.io/edgeca/shim:0.1.0");
    expect(pod.containers[0]?.resources).toEqual({ requests: { cpu: "100m", memory: "128Mi" }, limits: { memory: "384Mi" } });
    expect(pod.volumes.find((v) => v.name === "signer-token")?.projected?.sources[0]?.serviceAccountToken?.audience).toBe("acme-mesh-signer");
    expect(Rules.parse(find(objects, "ClusterRole", "edgeca-shim-signer")).rules[0]?.resourceNames).toEqual(["acme.example/mesh"]);
    expect(Rules.parse(find(objects, "ClusterRole", "edgeca-shim-trust-bundle")).rules[1]?.resourceNames).toEqual(["acme.example:mesh:edgeca"]);
    const config = z.object({ data: z.record(z.string(), z.string()) }).loose().parse(objects.find((o) => o.kind === "ConfigMap"));
    expect(config.data).toMatchObject({ EDGECA_SIGNER_URL: "https://signer.mesh.acme.example", EDGECA_SIGNER_NAMES: "acme.example/mesh", EDGECA_CONCURRENCY: "64", EDGECA_SIGNER_BATCH_MAX: "16", EDGECA_SIGNER_BATCH_WAIT_MS: "60" });
    expect(z.object({ spec: z.object({ minAvailable: z.number() }).loose() }).loose().parse(find(objects, "PodDisruptionBudget", "edgeca-shim")).spec.minAvailable).toBe(2);
  });

  it("names every object after the release, so two releases do not collide", async () => {
    const objects = await template(["--set", "istio.enabled=false"], "mesh-b");
    const names = objects.map((o) => o.metadata.name);
    for (const name of names) expect(name, name).toMatch(/^mesh-b-edgeca-shim/);
    const config = z.object({ data: z.record(z.string(), z.string()) }).loose().parse(objects.find((o) => o.kind === "ConfigMap"));
    // The Lease the RBAC allows is the one the shim is told to use.
    expect(config.data["EDGECA_LEASE"]).toBe("edgeca-system/mesh-b-edgeca-shim");
    expect(Rules.parse(find(objects, "Role", "mesh-b-edgeca-shim-leader-election")).rules[1]?.resourceNames).toEqual(["mesh-b-edgeca-shim"]);
    expect(config.data["EDGECA_PUBLISH_SECRET"]).toBe("false");
    expect(objects.some((o) => o.kind === "Secret")).toBe(false);
  });

  const refusals: { what: string; set: string[]; message: RegExp }[] = [
    { what: 'replicas: "two"', set: ["--set-string", "replicas=two"], message: /at '\/replicas': got string, want integer/ },
    { what: "a signer URL with http://", set: ["--set", "signer.url=http://signer.example.com"], message: /at '\/signer\/url': 'http:\/\/signer\.example\.com' does not match pattern/ },
    { what: "a signer name without a path", set: ["--set", "signer.name=example.com"], message: /at '\/signer\/name': 'example\.com' does not match pattern/ },
    { what: "a batch over the signer's 32 items", set: ["--set", "signerBatchMax=33"], message: /at '\/signerBatchMax': .*32/ },
    { what: "a batch wait over a second", set: ["--set", "signerBatchWaitMs=1001"], message: /at '\/signerBatchWaitMs': maximum: got 1,001, want 1,000/ },
    { what: "a misspelt key", set: ["--set", "replica=3"], message: /additional properties 'replica' not allowed/ },
  ];
  for (const { what, set, message } of refusals) {
    it(`refuses ${what} with the schema's message`, async () => {
      const out = await helm(["template", "edgeca-shim", chart, ...set]);
      expect(out.code).not.toBe(0);
      expect(out.stdout).toBe("");
      expect(out.stderr).toContain("values don't meet the specifications of the schema(s)");
      expect(out.stderr).toMatch(message);
    });
  }
});
