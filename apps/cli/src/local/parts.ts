/**
 * The optional parts of `edgeca local up`, started in this order after the control plane.
 *
 * - signer: fresh `edgeca init` material in `<stateDir>/signer`, then the local signer (the Worker in
 *   workerd behind the mTLS edge emulator); writes `<stateDir>/root-cert.pem`.
 * - shim: THE PLACE WHERE THE SHIM STARTS. Apply infra/k8s with
 *   `context.controlPlane.kubectl(["apply", "-k", ...])`, get a kubeconfig for the shim's own
 *   ServiceAccount with `context.controlPlane.kubeconfigForServiceAccount(ns, sa)`, then start apps/shim
 *   pointed at the signer. Until it is wired, `local up` requires --no-shim.
 */
import type { PartStarter } from "./local-stack.ts";

export interface LocalParts {
  readonly signer: PartStarter | undefined;
  readonly shim: PartStarter | undefined;
}

export const localParts: LocalParts = {
  signer: undefined,
  shim: undefined,
};
