/** Step 3 of a rotation A → A+B → B: issuer A (and with --with-root its root) leaves the configuration. */
import { caPaths, readCaDir, writeCaDir } from "./ca-dir.ts";
import { checkConfig } from "./check-config.ts";
import { certificatesOf, rootIndexOf } from "./certificates.ts";
import { RotationError } from "./rotation-error.ts";

/** What `removeIssuer` did. */
export interface RemoveResult {
  readonly id: string;
  /** The Workers secret that held its key (delete it with wrangler). */
  readonly keySecret: string;
  /** True when another issuer names the same secret, so it stays. */
  readonly secretShared: boolean;
  /** Whether secrets.json held that key (it is removed from there). */
  readonly secretRemoved: boolean;
  /** With --with-root: the subject of the root removed from `roots` and root-cert.pem. */
  readonly rootRemoved?: string;
}

/** Removes the inactive issuer `id` from DIR; refuses one active for any cluster and an unknown id. */
export async function removeIssuer(options: { readonly dir: string; readonly id: string; readonly withRoot?: boolean }): Promise<RemoveResult> {
  const { dir, id } = options;
  const paths = caPaths(dir);
  const ca = await readCaDir(dir);
  const { config } = ca;
  const issuer = config.issuers.find((i) => i.id === id);
  if (issuer === undefined) throw new RotationError(`--id ${id}: no issuer "${id}" in ${paths.config} (issuers: ${config.issuers.map((i) => i.id).join(", ")})`);
  if (config.activeIssuer === id) throw new RotationError(`--id ${id}: issuer "${id}" is active; activate another issuer first (edgeca ca activate)`);
  const users = config.clusters.filter((c) => c.activeIssuer === id).map((c) => c.name);
  if (users.length > 0) {
    const list = users.map((u) => `"${u}"`).join(", ");
    throw new RotationError(`--id ${id}: issuer "${id}" is active for cluster ${list}; activate another issuer for it first (edgeca ca activate --cluster ${users[0] ?? ""} --id …)`);
  }
  const issuers = config.issuers.filter((i) => i.id !== id);
  let roots = config.roots;
  let rootRemoved: string | undefined;
  if (options.withRoot === true) {
    const index = rootIndexOf(issuer.chain, config.roots);
    const rootPem = config.roots[index];
    if (rootPem === undefined) throw new RotationError(`--with-root: issuer "${id}" does not lead to a listed root`);
    const others = issuers.filter((i) => rootIndexOf(i.chain, config.roots) === index).map((i) => i.id);
    if (others.length > 0) throw new RotationError(`--with-root: the root of "${id}" also issued ${others.map((o) => `"${o}"`).join(", ")}; remove those first, or drop --with-root`);
    roots = config.roots.filter((_, i) => i !== index);
    rootRemoved = certificatesOf(rootPem)[0]?.subject ?? "";
  }
  const raw = { ...ca.raw, issuers, roots };
  // The key goes unless a hand-edited configuration lets another issuer name the same secret.
  const shared = issuers.some((i) => i.keySecret === issuer.keySecret);
  const secrets = shared ? ca.secrets : Object.fromEntries(Object.entries(ca.secrets).filter(([name]) => name !== issuer.keySecret));
  await checkConfig(paths.config, raw, secrets);
  await writeCaDir(ca, { raw, roots, secrets });
  return {
    id,
    keySecret: issuer.keySecret,
    secretShared: shared,
    secretRemoved: !shared && ca.secrets[issuer.keySecret] !== undefined,
    ...(rootRemoved === undefined ? {} : { rootRemoved }),
  };
}
