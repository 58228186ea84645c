/**
 * The offline root key an issuer is signed with. `edgeca init` leaves it at `offline/root-key.pem`,
 * `ca add-issuer --new-root --id ID` at `offline/root-<ID>-key.pem`; the one whose public key is the
 * root certificate's is used, so the file names need not be remembered.
 */
import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import { webcrypto } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import type { CaKeyPair } from "../init/index.ts";
import { caPaths } from "./ca-dir.ts";
import { RotationError } from "./rotation-error.ts";

const ROOT_KEY_FILE = /^root(-[A-Za-z0-9_-]+)?-key\.pem$/;

async function publicJwk(key: webcrypto.CryptoKey): Promise<string> {
  const jwk = await webcrypto.subtle.exportKey("jwk", key);
  return `${jwk.crv ?? ""}:${jwk.x ?? ""}:${jwk.y ?? ""}`;
}

/** Imports a PKCS#8 PEM as a key of `algorithm`, or undefined when it is not one. */
async function importPrivate(pem: string, algorithm: webcrypto.EcKeyImportParams): Promise<webcrypto.CryptoKey | undefined> {
  try {
    return await webcrypto.subtle.importKey("pkcs8", x509.PemConverter.decodeFirst(pem), algorithm, true, ["sign"]);
  } catch {
    return undefined;
  }
}

/** Loads `rootPem` with its private key from DIR/offline; throws `RotationError` saying which file is missing. */
export async function loadRootCa(dir: string, rootPem: string): Promise<CaKeyPair> {
  const paths = caPaths(dir);
  const cert = new x509.X509Certificate(rootPem);
  const algorithm = cert.publicKey.algorithm as Partial<webcrypto.EcKeyImportParams>;
  if (algorithm.name !== "ECDSA" || (algorithm.namedCurve !== "P-256" && algorithm.namedCurve !== "P-384")) {
    throw new RotationError(`root "${cert.subject}" is not an ECDSA P-256/P-384 root as edgeca makes; use --new-root`);
  }
  const params = { name: "ECDSA", namedCurve: algorithm.namedCurve };
  const publicKey = await webcrypto.subtle.importKey("spki", cert.publicKey.rawData, params, true, ["verify"]);
  const want = await publicJwk(publicKey);
  let files: string[];
  try {
    files = (await readdir(paths.offline)).filter((f) => ROOT_KEY_FILE.test(f)).sort();
  } catch {
    files = [];
  }
  for (const file of files) {
    const privateKey = await importPrivate(await readFile(join(paths.offline, file), "utf8"), params);
    if (privateKey !== undefined && (await publicJwk(privateKey)) === want) return { cert, keys: { privateKey, publicKey } };
  }
  throw new RotationError(
    `the key of the current root "${cert.subject}" is not in ${paths.offline} (looked for ${paths.initRootKey} and root-<ID>-key.pem${files.length > 0 ? `; found only ${files.join(", ")}, other keys` : ""}): ` +
      "bring the offline directory back to sign a new issuer under this root, or use --new-root",
  );
}
