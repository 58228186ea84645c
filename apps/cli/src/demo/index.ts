export { runMeshDemo } from "./mesh-demo.ts";
export type { MeshDemoOptions, MeshDemoResult } from "./mesh-demo.ts";
