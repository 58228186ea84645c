import { inject } from "vitest";
import { ControlPlaneClient } from "../control-plane/index.ts";
import { CONTROL_PLANE_KEY } from "./provided-context.ts";

/**
 * The run's shared control plane, inside a test file of a project whose `test.globalSetup` lists
 * packages/testenv/src/vitest/global-setup.ts. It is shared: create your own namespaces and names.
 */
export function useControlPlane(): ControlPlaneClient {
  return new ControlPlaneClient(inject(CONTROL_PLANE_KEY));
}
