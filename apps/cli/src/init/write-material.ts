/**
 * Writes `edgeca init`'s material in the layout others rely on (keep these names):
 *
 *   DIR/root-cert.pem             the trust anchor (what the bundle publishes)
 *   DIR/client-cert.pem           the shim's client certificate
 *   DIR/client-key.pem            its key                                   (0600)
 *   DIR/client-ca-cert.pem        the CA that verifies client certificates (uploaded to Cloudflare)
 *   DIR/worker/config.json        the value of the EDGECA_CONFIG var
 *   DIR/worker/secrets.json       {"EDGECA_CA_KEY_…": "<PKCS#8 PEM>"}       (0600, for `wrangler secret bulk`)
 *   DIR/offline/root-key.pem      never uploaded                            (0700 dir, 0600)
 *   DIR/offline/client-ca-key.pem never uploaded                            (0600)
 *
 * `edgeca ca` (apps/cli/src/ca) rewrites worker/config.json and worker/secrets.json in place, keeps
 * root-cert.pem the concatenation of every listed root, and with --new-root adds DIR/root-<ID>-cert.pem
 * and DIR/offline/root-<ID>-key.pem.
 */
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { InitMaterial } from "./material.ts";
import { exists } from "../file-exists.ts";

/** Refused because material exists already; the message names the file. */
export class MaterialExistsError extends Error {
  override readonly name = "MaterialExistsError";
}

/** The files `writeMaterial` writes, relative to DIR, with their contents and modes. */
export function materialFiles(material: InitMaterial): { readonly path: string; readonly text: string; readonly mode: number }[] {
  return [
    { path: "root-cert.pem", text: material.root.certPem, mode: 0o644 },
    { path: "client-cert.pem", text: material.client.certPem, mode: 0o644 },
    { path: "client-key.pem", text: material.client.keyPem, mode: 0o600 },
    { path: "client-ca-cert.pem", text: material.clientCa.certPem, mode: 0o644 },
    { path: "worker/config.json", text: `${JSON.stringify(material.config, null, 2)}\n`, mode: 0o644 },
    { path: "worker/secrets.json", text: `${JSON.stringify(material.secrets, null, 2)}\n`, mode: 0o600 },
    { path: "offline/root-key.pem", text: material.root.keyPem, mode: 0o600 },
    { path: "offline/client-ca-key.pem", text: material.clientCa.keyPem, mode: 0o600 },
  ];
}

/** Writes the material under `dir`. Without `force`, refuses (before writing anything) if any file exists. */
export async function writeMaterial(dir: string, material: InitMaterial, options: { readonly force?: boolean } = {}): Promise<string[]> {
  const files = materialFiles(material);
  if (options.force !== true) {
    for (const f of files) {
      const path = join(dir, f.path);
      if (await exists(path)) throw new MaterialExistsError(`${path} exists; refusing to overwrite CA material (use --force to replace it)`);
    }
  }
  await mkdir(join(dir, "worker"), { recursive: true });
  await mkdir(join(dir, "offline"), { recursive: true, mode: 0o700 });
  const written: string[] = [];
  for (const f of files) {
    const path = join(dir, f.path);
    // "wx" also guards against a file appearing between the check and the write.
    await writeFile(path, f.text, { mode: f.mode, flag: options.force === true ? "w" : "wx" });
    written.push(path);
  }
  return written;
}
