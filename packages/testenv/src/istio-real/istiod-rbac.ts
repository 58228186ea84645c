/**
 * istiod's RBAC from infra/istio/local/istiod-rbac.yaml (the chart's rules plus `approve` on the signer),
 * applied with kubectl so that the file itself is what the real-Istio tests and the demo check.
 */
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import type { ControlPlaneClient } from "../control-plane/index.ts";

export const ISTIOD_RBAC_FILE = fileURLToPath(new URL("../../../../infra/istio/local/istiod-rbac.yaml", import.meta.url));
/** The signer name the file is written for (the one infra/istio uses). */
const FILE_SIGNER = "example.com/foo";

/** The manifest with the signer rule naming `signerName`. */
export async function istiodRbacManifest(signerName: string): Promise<string> {
  if (!/^[a-z0-9.-]+\/[A-Za-z0-9._-]+$/.test(signerName)) throw new Error(`signer name ${JSON.stringify(signerName)} is not <domain>/<name>`);
  const text = await readFile(ISTIOD_RBAC_FILE, "utf8");
  if (!text.includes(`"${FILE_SIGNER}"`)) throw new Error(`${ISTIOD_RBAC_FILE} no longer names "${FILE_SIGNER}" in its approve rule`);
  return text.replaceAll(`"${FILE_SIGNER}"`, JSON.stringify(signerName));
}

/** Creates istio-system/istiod and applies its RBAC for `signerName`. */
export async function applyIstiodRbac(cp: ControlPlaneClient, signerName: string): Promise<void> {
  await cp.ensureServiceAccount("istio-system", "istiod");
  const applied = await cp.kubectl(["apply", "-f", "-"], { input: await istiodRbacManifest(signerName) });
  if (applied.code !== 0) throw new Error(`kubectl apply -f ${ISTIOD_RBAC_FILE} failed: ${applied.stderr}`);
}
