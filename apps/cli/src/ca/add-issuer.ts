/** Step 1 of a rotation A → A+B → B: issuing CA B, under the current root or a new one, listed but not active. */
import { X509Certificate } from "node:crypto";
import { mkdir, writeFile } from "node:fs/promises";
import { activeIssuerOf, IssuerConfig } from "@edgeca/shared";
import { certificatePem, createIssuingCa, createRootCa, keySecretName, pkcs8Pem, type CaKeyPair } from "../init/index.ts";
import { caPaths, readCaDir, writeCaDir } from "./ca-dir.ts";
import { checkConfig } from "./check-config.ts";
import { clusterIndex, clustersUsing } from "./cluster-entry.ts";
import { fingerprintOf, rootIndexOf } from "./certificates.ts";
import { loadRootCa } from "./root-key.ts";
import { RotationError } from "./rotation-error.ts";
import { exists } from "../file-exists.ts";

/** What `addIssuer` does. */
export interface AddIssuerOptions {
  readonly dir: string;
  readonly id: string;
  /** Make a fresh root for the issuer (a root rotation) instead of signing it with the current root. */
  readonly newRoot?: boolean;
  /** The cluster it is meant for: signed by the root of that cluster's active issuer (activate it with the same cluster). */
  readonly cluster?: string;
  /** Replace an inactive issuer of the same id. */
  readonly force?: boolean;
  /** The clock (tests). */
  readonly now?: Date;
}

/** What `addIssuer` did. */
export interface AddIssuerResult {
  readonly id: string;
  readonly keySecret: string;
  readonly subject: string;
  readonly notAfter: Date;
  /** True when an issuer of this id was replaced (--force). */
  readonly replaced: boolean;
  /** With --new-root: where the root went. */
  readonly newRoot?: { readonly certPath: string; readonly keyPath: string; readonly fingerprint: string };
  /** Issuers whose key is not in secrets.json, so only their chain was checked. */
  readonly keysNotChecked: readonly string[];
}

/** Creates issuing CA `id` in DIR (config, secrets, and with --new-root the root's files). Throws `RotationError`. */
export async function addIssuer(options: AddIssuerOptions): Promise<AddIssuerResult> {
  const { dir, id } = options;
  if (!IssuerConfig.shape.id.safeParse(id).success) throw new RotationError(`--id "${id}": an issuer id is 1–32 of A–Z a–z 0–9 _ -`);
  const now = options.now ?? new Date();
  const paths = caPaths(dir);
  const ca = await readCaDir(dir);
  const { config } = ca;
  const existing = config.issuers.find((i) => i.id === id);
  if (existing !== undefined && options.force !== true) {
    throw new RotationError(`--id ${id}: issuer "${id}" already exists in ${paths.config} (pick another id, or --force to replace it)`);
  }
  const cluster = options.cluster === undefined ? undefined : config.clusters[clusterIndex(ca, options.cluster, "--cluster")];
  if (existing !== undefined && (config.activeIssuer === id || clustersUsing(config, id).length > 0)) {
    throw new RotationError(`--id ${id}: issuer "${id}" is the active issuer; even with --force it is not replaced in place (add a new id, then activate it)`);
  }
  const keySecret = keySecretName(id);
  const clash = config.issuers.find((i) => i.id !== id && i.keySecret === keySecret);
  if (clash !== undefined) throw new RotationError(`--id ${id}: its secret name ${keySecret} is already used by issuer "${clash.id}"`);

  let root: CaKeyPair;
  let newRoot: AddIssuerResult["newRoot"];
  if (options.newRoot === true) {
    const keyPath = paths.rootKey(id);
    // A root key is never overwritten, not even with --force: the root may still be trusted somewhere.
    if (await exists(keyPath)) throw new RotationError(`${keyPath} exists; refusing to overwrite a root key (pick another --id, or move the file away)`);
    root = await createRootCa(now, `CN=edgeca root CA ${id}`);
    newRoot = { certPath: paths.rootCert(id), keyPath, fingerprint: fingerprintOf(new X509Certificate(certificatePem(root.cert))) };
  } else {
    const activeId = cluster === undefined ? config.activeIssuer : activeIssuerOf(config, cluster);
    const active = config.issuers.find((i) => i.id === activeId);
    const rootPem = active === undefined ? undefined : config.roots[rootIndexOf(active.chain, config.roots)];
    if (rootPem === undefined) throw new RotationError(`${paths.config}: the active issuer "${activeId}" does not lead to a listed root`);
    root = await loadRootCa(dir, rootPem);
    if (root.cert.notAfter.getTime() <= now.getTime()) {
      throw new RotationError(`the current root "${root.cert.subject}" expired at ${root.cert.notAfter.toISOString()}; use --new-root`);
    }
  }

  const issuing = await createIssuingCa(root, id, now);
  const entry = { id, chain: certificatePem(issuing.cert), keySecret };
  const issuers = existing === undefined ? [...config.issuers, entry] : config.issuers.map((i) => (i.id === id ? entry : i));
  const rootPem = certificatePem(root.cert);
  const roots = options.newRoot === true ? [...config.roots, rootPem] : config.roots;
  const raw = { ...ca.raw, issuers, roots };
  const secrets = { ...ca.secrets, [keySecret]: await pkcs8Pem(issuing.keys.privateKey) };
  const check = await checkConfig(paths.config, raw, secrets);

  if (newRoot !== undefined) {
    // The root's key first (offline, never uploaded), then its certificate, then what names them.
    await mkdir(paths.offline, { recursive: true, mode: 0o700 });
    await writeFile(newRoot.keyPath, await pkcs8Pem(root.keys.privateKey), { mode: 0o600, flag: "wx" });
    await writeFile(newRoot.certPath, rootPem, { mode: 0o644 });
  }
  await writeCaDir(ca, { raw, roots, secrets });
  return {
    id,
    keySecret,
    subject: issuing.cert.subject,
    notAfter: issuing.cert.notAfter,
    replaced: existing !== undefined,
    ...(newRoot === undefined ? {} : { newRoot }),
    keysNotChecked: check.keysNotChecked,
  };
}
