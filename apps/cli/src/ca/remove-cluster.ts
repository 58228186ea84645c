/**
 * `edgeca ca remove-cluster`: the cluster's entry leaves the configuration, so its client certificate and
 * token are refused from the next deploy on. Its issuer stays listed (its certificates are still valid
 * and the bundle unchanged) until `edgeca ca remove` once they have expired.
 */
import { activeIssuerOf } from "@edgeca/shared";
import { caPaths, readCaDir, writeCaDir } from "./ca-dir.ts";
import { checkConfig } from "./check-config.ts";
import { clusterIndex, clustersUsing, rawClusters } from "./cluster-entry.ts";
import { RotationError } from "./rotation-error.ts";

/** What `removeCluster` did. */
export interface RemoveClusterResult {
  readonly name: string;
  /** The issuer that signed for it. */
  readonly issuer: string;
  /** True when no cluster uses that issuer any more (and it is not the top-level default). */
  readonly issuerUnused: boolean;
}

/** Removes cluster `name` from DIR; refuses an unknown name and the last cluster. */
export async function removeCluster(options: { readonly dir: string; readonly name: string }): Promise<RemoveClusterResult> {
  const { dir, name } = options;
  const paths = caPaths(dir);
  const ca = await readCaDir(dir);
  const { config } = ca;
  const index = clusterIndex(ca, name, "--name");
  if (config.clusters.length === 1) throw new RotationError(`--name ${name}: cluster "${name}" is the only cluster in ${paths.config}; a signer needs at least one`);
  const cluster = config.clusters[index];
  if (cluster === undefined) throw new RotationError(`--name ${name}: not found`);
  const issuer = activeIssuerOf(config, cluster);
  const raw = { ...ca.raw, clusters: rawClusters(ca.raw).filter((_, i) => i !== index) };
  await checkConfig(paths.config, raw, ca.secrets);
  await writeCaDir(ca, { raw, roots: config.roots, secrets: ca.secrets });
  const after = (await readCaDir(dir)).config;
  return { name, issuer, issuerUnused: after.activeIssuer !== issuer && clustersUsing(after, issuer).length === 0 };
}
