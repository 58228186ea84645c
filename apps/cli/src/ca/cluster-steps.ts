/** What `edgeca ca add-cluster` prints: the files it made and the next steps for that cluster's shim. */
import { caPaths } from "./ca-dir.ts";
import type { AddClusterResult } from "./add-cluster.ts";

/** The report and next steps, with DIR's paths; `deployStep` is the deploy step's text. */
export function addClusterSteps(dir: string, result: AddClusterResult, signerNames: readonly string[], tokenAudience: string | undefined, deployStep: string): string {
  const paths = caPaths(dir);
  return [
    `edgeca ca add-cluster: ${result.replaced ? "replaced" : "added"} cluster "${result.name}" in ${paths.config}`,
    `  issuing CA        "${result.issuerId}" (${result.issuerSubject}) under the shared root, active for "${result.name}" only`,
    `  issuer key        ${paths.secrets} → ${result.keySecret}`,
    `  shim client cert  ${result.clientCertPath}, ${result.clientKeyPath}   (SHA-256 ${result.clientFingerprint}, pinned)`,
    ...(result.unpinnedSki.length > 0
      ? [
          `  note: ${result.unpinnedSki.length === 1 ? "cluster" : "clusters"} ${result.unpinnedSki.map((n) => `"${n}"`).join(", ")} no longer ${result.unpinnedSki.length === 1 ? "pins" : "pin"} the client CA's SKI`,
          "        (one client CA for several clusters cannot tell them apart); client certificates stay pinned by fingerprint",
        ]
      : []),
    ...(result.keysNotChecked.length > 0 ? [`  note: ${result.keysNotChecked.join(", ")} have no key in ${paths.secrets} (uploaded already?): only their chains were checked`] : []),
    "",
    "Next steps:",
    `  1. upload the key (from the repository root):  npm run wrangler -- secret bulk ${paths.secrets}`,
    `  2. ${deployStep}`,
    `  3. in cluster "${result.name}" (kubectl --context ${result.name}):`,
    `       kubectl -n edgeca-system create secret tls edgeca-shim-client --cert=${result.clientCertPath} --key=${result.clientKeyPath}`,
    `       kubectl -n istio-system create secret generic external-ca-cert --from-file=root-cert.pem=${paths.rootBundle}`,
    "     (the shim publishes the same shared root(s) there itself once it runs)",
    `  4. the shim of "${result.name}": the same signer URL as every other cluster, and`,
    `       helm:      --set signer.name=${signerNames[0] ?? ""}${tokenAudience === undefined ? "" : ` --set signer.tokenAudience=${tokenAudience}`} --set clientCertSecretName=edgeca-shim-client`,
    `       kustomize: EDGECA_SIGNER_NAMES=${signerNames.join(",")}${tokenAudience === undefined ? "" : ` EDGECA_TOKEN_AUDIENCE=${tokenAudience}`} in the overlay's shim environment`,
    `  5. istiod in "${result.name}": the workloads' trust domain must be the cluster's policy trustDomain.`,
  ].join("\n");
}
