export { CONTROL_PLANE_KEY } from "./provided-context.ts";
export { useControlPlane } from "./use-control-plane.ts";
