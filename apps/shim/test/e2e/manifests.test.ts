/**
 * infra/k8s renders, and renders what the shim needs: the signer name and audience set in one place reach
 * the RBAC rules and the projected token, the Deployment is hardened, and no rule reads Secrets broadly.
 * (The RBAC's effect against a real apiserver is in least-privilege.e2e.test.ts.)
 */
import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { loadAllYaml } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { K8S_DIR as k8s, withOverlay } from "../support/kustomize-overlay.ts";

const run = promisify(execFile);

const Rule = z.object({ apiGroups: z.array(z.string()), resources: z.array(z.string()), verbs: z.array(z.string()), resourceNames: z.array(z.string()).optional() });
const Obj = z.object({ kind: z.string(), metadata: z.object({ name: z.string(), namespace: z.string().optional() }).loose(), rules: z.array(Rule).optional() }).loose();
type Obj = z.infer<typeof Obj>;

async function render(dir: string): Promise<{ text: string; objects: Obj[] }> {
  const { stdout } = await run("kubectl", ["kustomize", dir], { timeout: 60_000 });
  const docs: unknown[] = loadAllYaml(stdout);
  return { text: stdout, objects: docs.map((d) => Obj.parse(d)) };
}

const find = (objects: Obj[], kind: string, name: string): Obj => {
  const found = objects.find((o) => o.kind === kind && o.metadata.name === name);
  if (found === undefined) throw new Error(`${kind}/${name} not rendered`);
  return found;
};

const Deployment = z.object({
  spec: z.object({
    replicas: z.number(),
    template: z.object({
      spec: z.object({
        automountServiceAccountToken: z.boolean(),
        securityContext: z.object({ runAsNonRoot: z.boolean() }).loose(),
        containers: z.array(z.object({ securityContext: z.object({ readOnlyRootFilesystem: z.boolean(), allowPrivilegeEscalation: z.boolean() }).loose() }).loose()),
        volumes: z.array(z.object({ name: z.string(), projected: z.object({ sources: z.array(z.object({ serviceAccountToken: z.object({ audience: z.string().optional() }).loose().optional() }).loose()) }).loose().optional() }).loose()),
      }).loose(),
    }).loose(),
  }).loose(),
}).loose();

describe("infra/k8s", () => {
  for (const overlay of ["production", "local"]) {
    it(`overlays/${overlay} renders a hardened two-replica shim with the signer name in its RBAC`, async () => {
      const { text, objects } = await render(join(k8s, "overlays", overlay));
      expect(text).not.toMatch(/- SIGNER_NAME$|DOMAIN:PATH|audience: AUDIENCE$/m);
      expect(find(objects, "ClusterRole", "edgeca-shim-signer").rules).toEqual([
        { apiGroups: ["certificates.k8s.io"], resources: ["signers"], resourceNames: ["example.com/foo"], verbs: ["sign", "attest"] },
      ]);
      expect(find(objects, "ClusterRole", "edgeca-shim-trust-bundle").rules?.[1]?.resourceNames).toEqual(["example.com:foo:edgeca"]);
      const deployment = Deployment.parse(find(objects, "Deployment", "edgeca-shim"));
      expect(deployment.spec.replicas).toBe(2);
      const pod = deployment.spec.template.spec;
      expect(pod.automountServiceAccountToken).toBe(false);
      expect(pod.securityContext.runAsNonRoot).toBe(true);
      expect(pod.containers[0]?.securityContext).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false });
      expect(pod.volumes.find((v) => v.name === "signer-token")?.projected?.sources[0]?.serviceAccountToken?.audience).toBe("edgeca-signer");
      find(objects, "PodDisruptionBudget", "edgeca-shim");
      find(objects, "Service", "edgeca-shim-metrics");
      // Secrets only by name: no rule grants Secrets without resourceNames.
      for (const o of objects) {
        for (const rule of o.rules ?? []) {
          if (rule.resources.includes("secrets")) expect(rule.resourceNames ?? [], `${o.kind}/${o.metadata.name}`).toEqual(["external-ca-cert"]);
        }
      }
    });
  }

  it("takes the signer name and audience from the overlay alone (one place)", async () => {
    const { objects } = await withOverlay(["EDGECA_SIGNER_NAMES=acme.io/mesh", "EDGECA_TOKEN_AUDIENCE=acme-signer"], render);
    expect(find(objects, "ClusterRole", "edgeca-shim-signer").rules?.[0]?.resourceNames).toEqual(["acme.io/mesh"]);
    expect(find(objects, "ClusterRole", "edgeca-shim-trust-bundle").rules?.[1]?.resourceNames).toEqual(["acme.io:mesh:edgeca"]);
    const pod = Deployment.parse(find(objects, "Deployment", "edgeca-shim")).spec.template.spec;
    expect(pod.volumes.find((v) => v.name === "signer-token")?.projected?.sources[0]?.serviceAccountToken?.audience).toBe("acme-signer");
  });
});
