/** The operator's commands after a rotation step, with DIR's paths (README "Rotating the issuing CA and the root"). */
import { readFile } from "node:fs/promises";
import { caPaths } from "./ca-dir.ts";

/** Cloudflare's per-variable size limit (developers.cloudflare.com/workers/platform/limits). */
const VAR_LIMIT_BYTES = 5 * 1024;

/** "Deploy the configuration" with the size of EDGECA_CONFIG against Cloudflare's variable limit. */
export async function deployConfigStep(dir: string): Promise<string> {
  const path = caPaths(dir).config;
  const bytes = new TextEncoder().encode(JSON.stringify(JSON.parse(await readFile(path, "utf8")))).length;
  const size =
    bytes > VAR_LIMIT_BYTES
      ? `WARNING: EDGECA_CONFIG is ${bytes} bytes as compact JSON, over Cloudflare's ${VAR_LIMIT_BYTES}-byte variable limit`
      : `EDGECA_CONFIG is ${bytes} bytes as compact JSON; Cloudflare variables hold up to ${VAR_LIMIT_BYTES}`;
  return `deploy the configuration (from the repository root):\n       npm run wrangler -- deploy --var "EDGECA_CONFIG:$(cat ${path})"\n     (${size})`;
}

/** How to see that the shim published the bundle, then make istiod read it. */
export function restartIstiodStep(rootCount: number): string {
  return [
    `once the shim has published the ${rootCount === 1 ? "new bundle (1 root)" : `bundle with all ${rootCount} roots`}:`,
    "       kubectl -n istio-system get secret external-ca-cert -o jsonpath='{.data.root-cert\\.pem}' | base64 -d | grep -c 'BEGIN CERTIFICATE'",
    "     restart istiod so it reads it, and let workloads pick it up:",
    "       kubectl -n istio-system rollout restart deploy/istiod",
  ].join("\n");
}
