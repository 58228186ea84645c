/**
 * The edge emulator's serving identity, kept in the material directory so a restarted local signer
 * presents a certificate clients already trust (`DIR/edge-ca-cert.pem` stays valid across restarts).
 * It is the local emulator's own TLS key, not CA material of edgeca.
 */
import { X509Certificate } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { createServerCertificate, type ServerCertificate } from "../edge/server-certificate.ts";

/** Paths of the kept identity under `dir`. */
export function edgeIdentityPaths(dir: string): { caPath: string; certPath: string; keyPath: string } {
  return { caPath: join(dir, "edge-ca-cert.pem"), certPath: join(dir, "edge", "server-cert.pem"), keyPath: join(dir, "edge", "server-key.pem") };
}

const MIN_REMAINING_MS = 60 * 60 * 1000;

async function readKept(dir: string): Promise<ServerCertificate | undefined> {
  const { caPath, certPath, keyPath } = edgeIdentityPaths(dir);
  try {
    const [caPem, certPem, keyPem] = await Promise.all([readFile(caPath, "utf8"), readFile(certPath, "utf8"), readFile(keyPath, "utf8")]);
    const cert = new X509Certificate(certPem);
    const fresh = cert.validToDate.getTime() - Date.now() > MIN_REMAINING_MS && cert.checkIssued(new X509Certificate(caPem));
    return fresh ? { caPem, certPem, keyPem } : undefined;
  } catch {
    // Missing or unreadable: make a new one.
    return undefined;
  }
}

/** Reuses the identity kept in `dir` while it is valid for at least another hour; otherwise makes and keeps a new one. */
export async function loadOrCreateEdgeIdentity(dir: string): Promise<ServerCertificate> {
  const kept = await readKept(dir);
  if (kept !== undefined) return kept;
  const identity = await createServerCertificate();
  const { caPath, certPath, keyPath } = edgeIdentityPaths(dir);
  await mkdir(join(dir, "edge"), { recursive: true });
  await writeFile(keyPath, identity.keyPem, { mode: 0o600 });
  await writeFile(certPath, identity.certPem);
  await writeFile(caPath, identity.caPem);
  return identity;
}
