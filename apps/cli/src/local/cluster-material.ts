/**
 * The signer's material for a multi-cluster local stack: `edgeca init` material for the first cluster,
 * then `edgeca ca add-cluster` for each other one (its own client certificate, its own issuing CA under
 * the shared root, its own token verification and trust domain). Once the signer runs, each cluster's
 * directory gets what its shim reads: `signer-url`, `root-cert.pem` and `signer/` (its client certificate
 * and key, and the edge's CA).
 */
import { copyFile, mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { ControlPlane } from "@edgeca/testenv";
import { addCluster, clusterDir } from "../ca/index.ts";
import { createMaterial, writeMaterial } from "../init/index.ts";
import type { LocalCluster, StackContext } from "./local-stack.ts";
import { LOCAL_TOKEN_AUDIENCE } from "./shim-part.ts";

/** The token check for a cluster's shim: this control plane's JWKS and issuer, the local audience. */
function tokenOf(controlPlane: ControlPlane): { jwks: { keys: { kty: string }[] }; audience: string; issuer: string } {
  return { jwks: { keys: controlPlane.jwks.keys.map((key) => ({ ...key })) }, audience: LOCAL_TOKEN_AUDIENCE, issuer: controlPlane.serviceAccountIssuer };
}

/** Writes fresh material to `dir` for the context's cluster(s). */
export async function writeSignerMaterial(context: StackContext, dir: string): Promise<void> {
  const [first, ...more] = context.clusters ?? [];
  const material = await createMaterial({
    signerName: context.signerName,
    trustDomain: first?.trustDomain ?? context.trustDomain,
    allowedRequestors: context.allowedRequestors,
    ...(first === undefined ? {} : { clusterName: first.name }),
    token: tokenOf(first?.controlPlane ?? context.controlPlane),
  });
  // Fresh material on every start: the control planes (and so their token keys) are new each time too.
  await writeMaterial(dir, material, { force: true });
  for (const cluster of more) {
    await addCluster({
      dir,
      name: cluster.name,
      signerNames: [context.signerName],
      trustDomain: cluster.trustDomain,
      allowedRequestors: context.allowedRequestors,
      token: tokenOf(cluster.controlPlane),
    });
  }
}

/** Gives each cluster's directory its shim's signer files (after the signer started: the edge CA exists then). */
export async function writeClusterFiles(clusters: readonly LocalCluster[], dir: string, signerUrl: string): Promise<void> {
  for (const [i, cluster] of clusters.entries()) {
    const own = join(cluster.stateDir, "signer");
    await mkdir(own, { recursive: true, mode: 0o700 });
    // The first cluster is init's; the others' client certificates are under DIR/clusters/NAME.
    const from = i === 0 ? dir : clusterDir(dir, cluster.name);
    await copyFile(join(from, "client-cert.pem"), join(own, "client-cert.pem"));
    await copyFile(join(from, "client-key.pem"), join(own, "client-key.pem"));
    await copyFile(join(dir, "edge-ca-cert.pem"), join(own, "edge-ca-cert.pem"));
    await copyFile(join(dir, "root-cert.pem"), join(cluster.stateDir, "root-cert.pem"));
    await writeFile(join(cluster.stateDir, "signer-url"), `${signerUrl}\n`);
  }
}
