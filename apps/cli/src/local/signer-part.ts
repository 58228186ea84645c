/**
 * The signer part of `edgeca local up`: fresh `edgeca init` material in `<stateDir>/signer` (made to require
 * the shim's ServiceAccount token, verified against this control plane's JWKS and issuer), then the local
 * signer — the real Worker in workerd behind the mTLS edge emulator. Writes `<stateDir>/root-cert.pem` (the
 * trust anchor) and `<stateDir>/signer-url` (read by the shim part). Miniflare restarts a workerd that
 * crashes; the part says so on stderr each time, and counts as dead only when none comes back (workerd-watch.ts).
 * In a multi-cluster stack one signer serves every cluster, each with its own client certificate, token
 * check, trust domain and issuing CA under the shared root (cluster-material.ts).
 */
import { copyFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { writeClusterFiles, writeSignerMaterial } from "./cluster-material.ts";
import { startLocalSigner } from "@edgeca/edge";
import { setBudgets, setPodCertificates } from "../signer/index.ts";
import type { StackContext, StackPart } from "./local-stack.ts";
import type { PartExit } from "./part-exit.ts";
import { RESTART_GRACE_MS, watchWorkerd, workerdChildren } from "./workerd-watch.ts";

/** Creates fresh material and starts the local signer; resolves once it serves. */
export async function startSignerPart(context: StackContext): Promise<StackPart> {
  const { stateDir, log } = context;
  const dir = join(stateDir, "signer");
  await writeSignerMaterial(context, dir);
  if (context.budgets !== undefined) await setBudgets(dir, context.budgets);
  // A local stack serves podCertificate volumes for its signer name (the shim watches PCRs where served).
  await setPodCertificates(dir, [context.signerName]);
  log(`starting the signer (workerd behind the edge emulator; material in ${dir})`);
  const before = workerdChildren();
  const signer = await startLocalSigner({ dir });
  const runtimes = new Set([...workerdChildren()].filter((pid) => !before.has(pid)));
  const watch = watchWorkerd(runtimes, log);
  try {
    await copyFile(join(dir, "root-cert.pem"), join(stateDir, "root-cert.pem"));
    await writeFile(join(stateDir, "signer-url"), `${signer.url}\n`);
    await writeClusterFiles(context.clusters ?? [], dir, signer.url);
  } catch (error) {
    watch.stop();
    await signer.stop();
    throw error;
  }
  const died = watch.gone.then(
    (gone): PartExit => ({
      name: "workerd",
      code: null,
      signal: null,
      logFile: undefined,
      detail: `pid ${gone.pid}, the signer's runtime; Miniflare did not bring it back within ${RESTART_GRACE_MS / 1000} s and keeps its exit status; its output is above on stderr`,
    }),
  );
  log(`signer ready at ${signer.url} (workerd pid ${[...runtimes].join(", ") || "unknown"}; root: ${join(stateDir, "root-cert.pem")})`);
  return {
    name: "signer",
    died,
    stop: async () => {
      watch.stop();
      await signer.stop();
    },
  };
}
