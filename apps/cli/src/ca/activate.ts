/** Step 2 of a rotation A → A+B → B: issuer B signs from the next deploy on. */
import { caPaths, readCaDir, writeCaDir } from "./ca-dir.ts";
import { checkConfig } from "./check-config.ts";
import { RotationError } from "./rotation-error.ts";

/** What `activateIssuer` did. */
export interface ActivateResult {
  readonly id: string;
  /** The issuer that was active before. */
  readonly previous: string;
  /** False when `id` was already active (nothing written). */
  readonly changed: boolean;
  /** True when the key of `id` is not in secrets.json (uploaded already), so only its chain was checked. */
  readonly keyNotChecked: boolean;
}

/** Sets `activeIssuer` to `id` in DIR; refuses an unknown id or an issuer outside its validity. */
export async function activateIssuer(options: { readonly dir: string; readonly id: string }): Promise<ActivateResult> {
  const { dir, id } = options;
  const paths = caPaths(dir);
  const ca = await readCaDir(dir);
  const previous = ca.config.activeIssuer;
  if (!ca.config.issuers.some((i) => i.id === id)) {
    throw new RotationError(`--id ${id}: no issuer "${id}" in ${paths.config} (issuers: ${ca.config.issuers.map((i) => i.id).join(", ")}); add it with edgeca ca add-issuer`);
  }
  if (previous === id) return { id, previous, changed: false, keyNotChecked: false };
  const raw = { ...ca.raw, activeIssuer: id };
  const check = await checkConfig(paths.config, raw, ca.secrets);
  // The signer answers 503 while its active issuing CA is outside its validity; do not deploy that.
  const unready = check.core?.unreadiness();
  if (unready !== undefined) {
    throw new RotationError(`--id ${id}: the signer could not sign with it: ${unready}`);
  }
  await writeCaDir(ca, { raw, roots: ca.config.roots, secrets: ca.secrets });
  return { id, previous, changed: true, keyNotChecked: check.keysNotChecked.includes(id) };
}
