/**
 * The optional parts of `edgeca local up`, started in this order after the control plane.
 *
 * - signer (signer-part.ts): fresh `edgeca init` material in `<stateDir>/signer`, then the local signer
 *   (the Worker in workerd behind the mTLS edge emulator); writes `<stateDir>/root-cert.pem` and
 *   `<stateDir>/signer-url`.
 * - shim (shim-part.ts): applies infra/k8s/overlays/local, then runs apps/shim as a child process with a
 *   kubeconfig for its own ServiceAccount and a signer-audience token, pointed at `<stateDir>/signer-url`;
 *   logs in `<stateDir>/shim.log`.
 */
import type { PartStarter } from "./local-stack.ts";
import { startShimPart } from "./shim-part.ts";
import { startSignerPart } from "./signer-part.ts";

export interface LocalParts {
  readonly signer: PartStarter | undefined;
  readonly shim: PartStarter | undefined;
}

export const localParts: LocalParts = {
  signer: startSignerPart,
  shim: startShimPart,
};
