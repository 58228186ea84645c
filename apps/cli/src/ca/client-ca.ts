/**
 * The client CA `edgeca init` made (DIR/client-ca-cert.pem, its key DIR/offline/client-ca-key.pem), loaded
 * to issue another cluster's shim client certificate; the key must be the certificate's.
 */
import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import { webcrypto } from "node:crypto";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { CaKeyPair } from "../init/index.ts";
import { caPaths } from "./ca-dir.ts";
import { RotationError } from "./rotation-error.ts";

/** Where the client CA lives in DIR. */
export function clientCaPaths(dir: string): { readonly cert: string; readonly key: string } {
  return { cert: join(dir, "client-ca-cert.pem"), key: join(caPaths(dir).offline, "client-ca-key.pem") };
}

async function readOrRefuse(path: string, what: string): Promise<string> {
  try {
    return await readFile(path, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? "error";
    throw new RotationError(`${path}: cannot read ${what} (${code}); bring the offline directory back (edgeca init wrote it)`, { cause: error });
  }
}

/** Loads the client CA with its private key; throws `RotationError` naming the missing or mismatched file. */
export async function loadClientCa(dir: string): Promise<CaKeyPair> {
  const paths = clientCaPaths(dir);
  const certPem = await readOrRefuse(paths.cert, "the client CA certificate");
  const keyPem = await readOrRefuse(paths.key, "the client CA's key");
  let cert: x509.X509Certificate;
  try {
    cert = new x509.X509Certificate(certPem);
  } catch (error) {
    throw new RotationError(`${paths.cert}: not a CERTIFICATE PEM`, { cause: error });
  }
  const algorithm = cert.publicKey.algorithm as Partial<webcrypto.EcKeyImportParams>;
  if (algorithm.name !== "ECDSA" || (algorithm.namedCurve !== "P-256" && algorithm.namedCurve !== "P-384")) {
    throw new RotationError(`${paths.cert}: not an ECDSA P-256/P-384 client CA as edgeca init makes`);
  }
  const params = { name: "ECDSA", namedCurve: algorithm.namedCurve };
  let privateKey: webcrypto.CryptoKey;
  try {
    privateKey = await webcrypto.subtle.importKey("pkcs8", x509.PemConverter.decodeFirst(keyPem), params, true, ["sign"]);
  } catch (error) {
    throw new RotationError(`${paths.key}: not a PKCS#8 ${params.namedCurve} key`, { cause: error });
  }
  const publicKey = await webcrypto.subtle.importKey("spki", cert.publicKey.rawData, params, true, ["verify"]);
  const point = async (k: webcrypto.CryptoKey): Promise<string> => {
    const jwk = await webcrypto.subtle.exportKey("jwk", k);
    return `${jwk.x ?? ""}:${jwk.y ?? ""}`;
  };
  if ((await point(privateKey)) !== (await point(publicKey))) throw new RotationError(`${paths.key} is not the key of ${paths.cert}`);
  return { cert, keys: { privateKey, publicKey } };
}
