/**
 * Step 2 of a rotation A → A+B → B: issuer B signs from the next deploy on, for every cluster without
 * an issuer of its own (the top-level `activeIssuer`) or, with a cluster name, for that cluster alone.
 */
import { activeIssuerOf } from "@edgeca/shared";
import { caPaths, readCaDir, writeCaDir } from "./ca-dir.ts";
import { checkConfig } from "./check-config.ts";
import { clusterIndex, rawClusters } from "./cluster-entry.ts";
import { RotationError } from "./rotation-error.ts";

/** What `activateIssuer` did. */
export interface ActivateResult {
  readonly id: string;
  /** The issuer that was active before (for the cluster, with `cluster`). */
  readonly previous: string;
  /** False when `id` was already active (nothing written). */
  readonly changed: boolean;
  /** True when the key of `id` is not in secrets.json (uploaded already), so only its chain was checked. */
  readonly keyNotChecked: boolean;
  /** The clusters `id` now signs for. */
  readonly clusters: readonly string[];
}

/** What to activate, and where. */
export interface ActivateOptions {
  readonly dir: string;
  readonly id: string;
  /** Only this cluster's issuer changes (`clusters[].activeIssuer`); absent: the top-level `activeIssuer`. */
  readonly cluster?: string;
  /** The clock (tests). */
  readonly now?: Date;
}

/** Sets the active issuer to `id` in DIR; refuses an unknown id or cluster, or an issuer outside its validity. */
export async function activateIssuer(options: ActivateOptions): Promise<ActivateResult> {
  const { dir, id } = options;
  const paths = caPaths(dir);
  const ca = await readCaDir(dir);
  const { config } = ca;
  if (!config.issuers.some((i) => i.id === id)) {
    throw new RotationError(`--id ${id}: no issuer "${id}" in ${paths.config} (issuers: ${config.issuers.map((i) => i.id).join(", ")}); add it with edgeca ca add-issuer`);
  }
  let raw: Record<string, unknown>;
  let previous: string;
  if (options.cluster === undefined) {
    previous = config.activeIssuer;
    raw = { ...ca.raw, activeIssuer: id };
  } else {
    const index = clusterIndex(ca, options.cluster, "--cluster");
    const cluster = config.clusters[index];
    if (cluster === undefined) throw new RotationError(`--cluster ${options.cluster}: not found`);
    previous = activeIssuerOf(config, cluster);
    const clusters = rawClusters(ca.raw).map((c, i) => (i === index ? { ...c, activeIssuer: id } : c));
    raw = { ...ca.raw, clusters };
  }
  const clustersOf = (r: Readonly<Record<string, unknown>>): string[] => {
    const top = typeof r.activeIssuer === "string" ? r.activeIssuer : "";
    return rawClusters(r)
      .filter((c) => (typeof c.activeIssuer === "string" ? c.activeIssuer : top) === id)
      .map((c) => String(c.name));
  };
  if (previous === id) return { id, previous, changed: false, keyNotChecked: false, clusters: clustersOf(ca.raw) };
  const check = await checkConfig(paths.config, raw, ca.secrets);
  // The signer answers 503 while an issuing CA in use is outside its validity; do not deploy that.
  const issuer = check.core?.issuers.get(id);
  const now = (options.now ?? new Date()).getTime();
  if (issuer !== undefined && now < issuer.notBefore.getTime()) {
    throw new RotationError(`--id ${id}: the signer could not sign with it: issuing CA "${id}" is not valid before ${issuer.notBefore.toISOString()}`);
  }
  if (issuer !== undefined && now >= issuer.notAfter.getTime()) {
    throw new RotationError(`--id ${id}: the signer could not sign with it: issuing CA "${id}" expired at ${issuer.notAfter.toISOString()}`);
  }
  await writeCaDir(ca, { raw, roots: config.roots, secrets: ca.secrets });
  return { id, previous, changed: true, keyNotChecked: check.keysNotChecked.includes(id), clusters: clustersOf(raw) };
}
