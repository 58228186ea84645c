/**
 * An operator's own overlay of infra/k8s, as the README describes one: the base with the istio and
 * signer-settings components, and the settings ConfigMap merged with the operator's values. Written to a
 * temporary directory for one test and removed after it.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";

export const K8S_DIR = fileURLToPath(new URL("../../../../infra/k8s/", import.meta.url));

/** Runs `use` with the directory of an overlay whose ConfigMap takes `literals` (`KEY=value` lines). */
export async function withOverlay<T>(literals: readonly string[], use: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), "edgeca-overlay-"));
  try {
    const lines = [
      "apiVersion: kustomize.config.k8s.io/v1beta1",
      "kind: Kustomization",
      "resources:",
      `  - ${relative(dir, join(K8S_DIR, "base"))}`,
      "components:",
      `  - ${relative(dir, join(K8S_DIR, "components/istio"))}`,
      `  - ${relative(dir, join(K8S_DIR, "components/signer-settings"))}`,
      "configMapGenerator:",
      "  - name: edgeca-shim-config",
      "    namespace: edgeca-system",
      "    behavior: merge",
      "    literals:",
      ...literals.map((l) => `      - ${l}`),
      "",
    ];
    await writeFile(join(dir, "kustomization.yaml"), lines.join("\n"));
    return await use(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
