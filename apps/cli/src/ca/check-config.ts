/**
 * The gate every rotation command passes before writing: the next configuration must parse with the
 * signer's schema and load in the signer's own core (`SigningCore.load`: every chain leads to a listed
 * root, every key imports and matches its certificate), so no command can write what the signer refuses.
 */
import { SignerConfig, describeConfigError } from "@edgeca/shared";
import { ConfigurationError, SigningCore } from "@edgeca/signer/core";
import { certificatesOf, rootIndexOf } from "./certificates.ts";
import { RotationError } from "./rotation-error.ts";

/** What the check found. */
export interface ConfigCheck {
  /** The core, loaded with every issuer whose key is at hand; undefined when no key is. */
  readonly core: SigningCore | undefined;
  /** Issuers whose key is not in secrets.json (already uploaded and deleted): only their chain was checked. */
  readonly keysNotChecked: readonly string[];
}

/** `raw.clusters` with every `activeIssuer` outside `loaded` replaced by `fallback`, for a load without those keys. */
function clustersFor(raw: Readonly<Record<string, unknown>>, loaded: ReadonlySet<string>, fallback: string): unknown {
  const clusters = raw.clusters;
  if (!Array.isArray(clusters)) return clusters;
  return clusters.map((c: unknown) => {
    if (typeof c !== "object" || c === null || !("activeIssuer" in c) || typeof c.activeIssuer !== "string" || loaded.has(c.activeIssuer)) return c;
    return { ...c, activeIssuer: fallback };
  });
}

/** Checks `raw` with `secrets`; throws `RotationError` naming `configPath` and the fault. */
export async function checkConfig(configPath: string, raw: Readonly<Record<string, unknown>>, secrets: Readonly<Record<string, string>>): Promise<ConfigCheck> {
  const parsed = SignerConfig.safeParse(raw);
  if (!parsed.success) throw new RotationError(`refusing to write ${configPath}: the signer would reject it: ${describeConfigError(parsed.error)}`);
  const config = parsed.data;
  const withKey = config.issuers.filter((i) => secrets[i.keySecret] !== undefined);
  const withoutKey = config.issuers.filter((i) => secrets[i.keySecret] === undefined);
  // An issuer whose key was uploaded and deleted locally can still have its chain checked against the roots.
  for (const issuer of withoutKey) {
    if (certificatesOf(issuer.chain).length === 0 || rootIndexOf(issuer.chain, config.roots) < 0) {
      throw new RotationError(`refusing to write ${configPath}: issuer "${issuer.id}": the chain does not lead to any configured root`);
    }
  }
  const [first] = withKey;
  if (first === undefined) return { core: undefined, keysNotChecked: withoutKey.map((i) => i.id) };
  const loaded = new Set(withKey.map((i) => i.id));
  const active = loaded.has(config.activeIssuer) ? config.activeIssuer : first.id;
  const partial = { ...raw, issuers: withKey, activeIssuer: active, clusters: clustersFor(raw, loaded, active) };
  const env: Record<string, unknown> = { ...secrets, EDGECA_CONFIG: JSON.stringify(partial) };
  try {
    return { core: await SigningCore.load(env), keysNotChecked: withoutKey.map((i) => i.id) };
  } catch (error) {
    if (error instanceof ConfigurationError) throw new RotationError(`refusing to write ${configPath}: the signer would not load it: ${error.message}`, { cause: error });
    throw error;
  }
}
