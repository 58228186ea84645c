import type { ControlPlaneInfo } from "../control-plane/index.ts";

/** The key under which the global setup provides the shared control plane. */
export const CONTROL_PLANE_KEY = "edgecaControlPlane";

declare module "vitest" {
  export interface ProvidedContext {
    /** The run's shared control plane (see packages/testenv/src/vitest/global-setup.ts). */
    edgecaControlPlane: ControlPlaneInfo;
  }
}
