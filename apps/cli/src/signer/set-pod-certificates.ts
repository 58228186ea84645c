/**
 * Switches pod certificates (PodCertificateRequests, docs/certificate-profile.md "Pod certificates") on
 * for `signerNames` in every cluster of an `edgeca init` directory's Worker configuration, checked by the
 * signer's own schema before the file is replaced. The local stack does, so `local up` and the demo serve
 * `podCertificate` volumes; a production configuration stays as `edgeca init` wrote it (off).
 */
import { editWorkerClusters } from "./worker-config-edit.ts";

export async function setPodCertificates(dir: string, signerNames: readonly string[]): Promise<void> {
  await editWorkerClusters(dir, `pod certificates for ${signerNames.join(", ")}`, (cluster) => {
    cluster["podCertificates"] = { signerNames: [...signerNames] };
  });
}
