/**
 * An `edgeca init --out DIR` directory as the rotation commands read and rewrite it: `worker/config.json`
 * (EDGECA_CONFIG), `worker/secrets.json` (the issuing CAs' keys, for `wrangler secret bulk`) and
 * `root-cert.pem` (every current root, concatenated). Layout: `init/write-material.ts`.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import * as z from "zod";
import { SignerConfig, describeConfigError } from "@edgeca/shared";
import { writeFileAtomic } from "./atomic-write.ts";
import { RotationError } from "./rotation-error.ts";

/** The files of DIR the rotation commands use. */
export function caPaths(dir: string) {
  return {
    config: join(dir, "worker", "config.json"),
    secrets: join(dir, "worker", "secrets.json"),
    rootBundle: join(dir, "root-cert.pem"),
    offline: join(dir, "offline"),
    /** `edgeca init`'s root key. */
    initRootKey: join(dir, "offline", "root-key.pem"),
    /** The key of a root made by `ca add-issuer --new-root --id ID`. */
    rootKey: (id: string) => join(dir, "offline", `root-${id}-key.pem`),
    rootCert: (id: string) => join(dir, `root-${id}-cert.pem`),
  } as const;
}

/** The secrets file: secret name → PKCS#8 PEM. */
const Secrets = z.record(z.string(), z.string());
/** Any JSON object: the configuration is edited as written, so fields the commands do not touch keep their form. */
const JsonObject = z.record(z.string(), z.unknown());

/** What the commands read from DIR. */
export interface CaDir {
  readonly dir: string;
  /** `worker/config.json` as written (only `issuers`, `activeIssuer` and `roots` are ever changed). */
  readonly raw: Readonly<Record<string, unknown>>;
  /** The same, parsed by the signer's schema. */
  readonly config: SignerConfig;
  /** `worker/secrets.json`; empty when the file is gone (deleted after `wrangler secret bulk`, as init advises). */
  readonly secrets: Readonly<Record<string, string>>;
}

async function readText(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new RotationError(`${path}: cannot read (${(error as NodeJS.ErrnoException).code ?? "error"})`, { cause: error });
  }
}

function parseJson(path: string, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new RotationError(`${path}: not valid JSON`);
  }
}

/** Reads and validates DIR; throws `RotationError` naming the file that is missing or wrong. */
export async function readCaDir(dir: string): Promise<CaDir> {
  const paths = caPaths(dir);
  const configText = await readText(paths.config);
  if (configText === undefined) throw new RotationError(`${paths.config} not found: --dir must be a directory made by edgeca init --out DIR`);
  const json = parseJson(paths.config, configText);
  const raw = JsonObject.safeParse(json);
  if (!raw.success) throw new RotationError(`${paths.config}: not a JSON object`);
  const config = SignerConfig.safeParse(json);
  if (!config.success) throw new RotationError(`${paths.config} is not a valid signer configuration: ${describeConfigError(config.error)}`);
  const secretsText = await readText(paths.secrets);
  let secrets: Record<string, string> = {};
  if (secretsText !== undefined) {
    const parsed = Secrets.safeParse(parseJson(paths.secrets, secretsText));
    if (!parsed.success) throw new RotationError(`${paths.secrets}: expected {"SECRET_NAME": "<PKCS#8 PEM>", …}`);
    secrets = parsed.data;
  }
  return { dir, raw: raw.data, config: config.data, secrets };
}

/** The next state of DIR's configuration and secrets. */
export interface CaDirUpdate {
  readonly raw: Readonly<Record<string, unknown>>;
  readonly roots: readonly string[];
  readonly secrets: Readonly<Record<string, string>>;
}

const json = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`;

/**
 * Writes the next state, each file atomically, ordered so no step loses a key: the secrets first as the
 * union of old and new (a new key exists before the configuration names it), then the configuration and
 * the root bundle, then the secrets without the removed keys (a key goes only once nothing names it).
 */
export async function writeCaDir(ca: CaDir, next: CaDirUpdate): Promise<void> {
  const paths = caPaths(ca.dir);
  const union = { ...ca.secrets, ...next.secrets };
  const unchanged = (a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>) => json(a) === json(b);
  if (!unchanged(union, ca.secrets)) await writeFileAtomic(paths.secrets, json(union), 0o600);
  await writeFileAtomic(paths.config, json(next.raw), 0o644);
  await writeFileAtomic(paths.rootBundle, next.roots.map((r) => (r.endsWith("\n") ? r : `${r}\n`)).join(""), 0o644);
  if (!unchanged(union, next.secrets)) await writeFileAtomic(paths.secrets, json(next.secrets), 0o600);
}
