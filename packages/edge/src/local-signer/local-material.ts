/**
 * What `edgeca init --out DIR` wrote and the local signer needs: the Worker's configuration var and
 * secrets, and the client CA the edge checks client certificates against. Each file is checked here so
 * a wrong directory fails at start with the file's name, not on the first request.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";

/** A missing or malformed file in the material directory; the message names it. */
export class LocalMaterialError extends Error {
  override readonly name = "LocalMaterialError";
}

/** `DIR/worker/secrets.json`: secret name → PKCS#8 PEM. */
export const WorkerSecrets = z.record(z.string().regex(/^[A-Z][A-Z0-9_]*$/), z.string().min(1));
export type WorkerSecrets = z.infer<typeof WorkerSecrets>;

export interface LocalMaterial {
  /** The text of `DIR/worker/config.json`, bound as `EDGECA_CONFIG` (the Worker parses and validates it). */
  readonly configText: string;
  readonly secrets: WorkerSecrets;
  /** `DIR/client-ca-cert.pem`. */
  readonly clientCaPem: string;
}

async function readText(path: string): Promise<string> {
  try {
    return await readFile(path, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? String(error);
    throw new LocalMaterialError(`${path}: cannot read (${code}); run \`edgeca init --out DIR\` first`, { cause: error });
  }
}

function parseJsonFile(path: string, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new LocalMaterialError(`${path}: not valid JSON (${(error as Error).message})`, { cause: error });
  }
}

/** Reads the material `edgeca init --out dir` wrote. */
export async function readLocalMaterial(dir: string): Promise<LocalMaterial> {
  const configPath = join(dir, "worker", "config.json");
  const secretsPath = join(dir, "worker", "secrets.json");
  const clientCaPath = join(dir, "client-ca-cert.pem");
  // One after the other, so a directory missing everything names the same file every time (config first).
  const configText = await readText(configPath);
  const secretsText = await readText(secretsPath);
  const clientCaPem = await readText(clientCaPath);
  parseJsonFile(configPath, configText);
  const secrets = WorkerSecrets.safeParse(parseJsonFile(secretsPath, secretsText));
  if (!secrets.success) {
    throw new LocalMaterialError(`${secretsPath}: expected {"SECRET_NAME": "<PKCS#8 PEM>", …}: ${secrets.error.issues.map((i) => i.message).join("; ")}`);
  }
  if (!clientCaPem.includes("-----BEGIN CERTIFICATE-----")) throw new LocalMaterialError(`${clientCaPath}: no PEM CERTIFICATE block`);
  return { configText, secrets: secrets.data, clientCaPem };
}
