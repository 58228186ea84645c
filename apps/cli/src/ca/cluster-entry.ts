/** The `clusters` of an init directory's configuration as the `edgeca ca` commands read and edit them. */
import * as z from "zod";
import { activeIssuerOf, type SignerConfig } from "@edgeca/shared";
import type { CaDir } from "./ca-dir.ts";
import { caPaths } from "./ca-dir.ts";
import { RotationError } from "./rotation-error.ts";

const RawClusters = z.array(z.record(z.string(), z.unknown()));

/** `raw.clusters` as written (objects; fields the commands do not touch keep their form). */
export function rawClusters(raw: Readonly<Record<string, unknown>>): Record<string, unknown>[] {
  const parsed = RawClusters.safeParse(raw.clusters);
  // readCaDir parsed the same value with the signer's schema, so this holds unless the caller built `raw` wrongly.
  if (!parsed.success) throw new Error("clusters is not an array of objects");
  return parsed.data;
}

/** The index of cluster `name` in DIR's configuration; throws `RotationError` naming `flag` and the clusters there are. */
export function clusterIndex(ca: CaDir, name: string, flag: string): number {
  const index = ca.config.clusters.findIndex((c) => c.name === name);
  if (index < 0) {
    throw new RotationError(`${flag} ${name}: no cluster "${name}" in ${caPaths(ca.dir).config} (clusters: ${ca.config.clusters.map((c) => c.name).join(", ")})`);
  }
  return index;
}

/** The names of the clusters issuer `id` signs for. */
export function clustersUsing(config: SignerConfig, id: string): string[] {
  return config.clusters.filter((c) => activeIssuerOf(config, c) === id).map((c) => c.name);
}
