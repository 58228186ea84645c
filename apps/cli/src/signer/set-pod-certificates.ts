/**
 * Switches pod certificates (PodCertificateRequests, docs/certificate-profile.md "Pod certificates") on
 * for `signerNames` in every cluster of an `edgeca init` directory's Worker configuration, checked by the
 * signer's own schema before the file is replaced. The local stack does, so `local up` and the demo serve
 * `podCertificate` volumes; a production configuration stays as `edgeca init` wrote it (off).
 */
import { readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describeConfigError, SignerConfig } from "@edgeca/shared";

export async function setPodCertificates(dir: string, signerNames: readonly string[]): Promise<void> {
  const path = join(dir, "worker", "config.json");
  const config = JSON.parse(await readFile(path, "utf8")) as { clusters?: Record<string, unknown>[] };
  for (const cluster of config.clusters ?? []) cluster["podCertificates"] = { signerNames: [...signerNames] };
  const parsed = SignerConfig.safeParse(config);
  if (!parsed.success) throw new Error(`${path} with pod certificates for ${signerNames.join(", ")} is invalid: ${describeConfigError(parsed.error)}`);
  await writeFile(`${path}.tmp`, `${JSON.stringify(config, null, 2)}\n`);
  await rename(`${path}.tmp`, path);
}
