/**
 * The signer part of `edgeca local up`: fresh `edgeca init` material in `<stateDir>/signer` (made to require
 * the shim's ServiceAccount token, verified against this control plane's JWKS and issuer), then the local
 * signer — the real Worker in workerd behind the mTLS edge emulator. Writes `<stateDir>/root-cert.pem` (the
 * trust anchor) and `<stateDir>/signer-url` (read by the shim part).
 */
import { copyFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { createMaterial, writeMaterial } from "../init/index.ts";
import { startLocalSigner } from "../signer/index.ts";
import type { StackContext, StackPart } from "./local-stack.ts";
import { NEVER_DIES } from "./part-exit.ts";
import { LOCAL_TOKEN_AUDIENCE } from "./shim-part.ts";

/** Creates fresh material and starts the local signer; resolves once it serves. */
export async function startSignerPart(context: StackContext): Promise<StackPart> {
  const { controlPlane, stateDir, log } = context;
  const dir = join(stateDir, "signer");
  const material = await createMaterial({
    signerName: context.signerName,
    trustDomain: context.trustDomain,
    allowedRequestors: context.allowedRequestors,
    token: {
      jwks: { keys: controlPlane.jwks.keys.map((key) => ({ ...key })) },
      audience: LOCAL_TOKEN_AUDIENCE,
      issuer: controlPlane.serviceAccountIssuer,
    },
  });
  // Fresh material on every start: the control plane (and so its token key) is new each time too.
  await writeMaterial(dir, material, { force: true });
  log(`starting the signer (workerd behind the edge emulator; material in ${dir})`);
  const signer = await startLocalSigner({ dir });
  try {
    await copyFile(join(dir, "root-cert.pem"), join(stateDir, "root-cert.pem"));
    await writeFile(join(stateDir, "signer-url"), `${signer.url}\n`);
  } catch (error) {
    await signer.stop();
    throw error;
  }
  log(`signer ready at ${signer.url} (root: ${join(stateDir, "root-cert.pem")})`);
  return {
    name: "signer",
    // Miniflare restarts a workerd that crashes (its onWorkerdCrashRestart): not a death of the part.
    died: NEVER_DIES,
    stop: () => signer.stop(),
  };
}
