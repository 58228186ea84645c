/**
 * The one-file bundle (dist/shim.mjs, `pnpm run bundle`) as its own process, configured only by the
 * environment, as the image runs it: what a signal does to a shim can only be seen on a real process.
 */
import { execFile, spawn, type ChildProcessByStdio } from "node:child_process";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { collectOutput, type ChildOutput } from "../support/child-output.ts";
import { until } from "../support/until.ts";
import { SHIM_NAMESPACE, SIGNER_NAME, type E2EStack } from "./harness.ts";

const shimDir = fileURLToPath(new URL("../../", import.meta.url));

/** Builds dist/shim.mjs from src/main.ts, as the Dockerfile's build stage does. */
export async function buildBundle(): Promise<void> {
  await promisify(execFile)("pnpm", ["run", "--silent", "bundle"], { cwd: shimDir, timeout: 120_000 });
}

export interface ShimProcess extends ChildOutput {
  readonly child: ChildProcessByStdio<null, Readable, Readable>;
  /** Resolves true once it logged that it became the leader (false after `timeoutMs`). */
  leads(timeoutMs?: number): Promise<boolean>;
  /** SIGKILL if it still runs (for `finally`). */
  kill(): void;
}

/** Starts the bundle with the Deployment's variables for `identity` and second-sized Lease timings. */
export function startShimProcess(stack: E2EStack, identity: string): ShimProcess {
  const config = stack.config(identity);
  const env: Record<string, string> = {
    PATH: process.env["PATH"] ?? "",
    EDGECA_SIGNER_URL: config.signerUrl,
    EDGECA_SIGNER_NAMES: SIGNER_NAME,
    EDGECA_CLIENT_CERT_FILE: config.clientCertFile,
    EDGECA_CLIENT_KEY_FILE: config.clientKeyFile,
    EDGECA_SIGNER_CA_FILE: config.signerCaFile ?? "",
    EDGECA_TOKEN_FILE: config.tokenFile ?? "",
    EDGECA_TOKEN_AUDIENCE: config.tokenAudience ?? "",
    EDGECA_HTTP_HOST: "127.0.0.1",
    EDGECA_HTTP_PORT: "0",
    EDGECA_LEASE_DURATION_SECONDS: "3",
    EDGECA_RENEW_DEADLINE_SECONDS: "2",
    EDGECA_RETRY_PERIOD_SECONDS: "1",
    POD_NAME: identity,
    POD_NAMESPACE: SHIM_NAMESPACE,
    KUBECONFIG: stack.shimKubeconfigPath,
  };
  const child = spawn(process.execPath, [join(shimDir, "dist/shim.mjs")], { env, stdio: ["ignore", "pipe", "pipe"] });
  const { output, exited } = collectOutput(child);
  return {
    child,
    output,
    exited,
    leads: (timeoutMs = 20_000) => until(() => output().includes('"msg":"became leader"'), Boolean, timeoutMs),
    kill: () => { if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL"); },
  };
}
