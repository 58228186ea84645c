export { startLocalStack } from "./local-stack.ts";
export type { LocalCluster, LocalClusterSpec, LocalStack, LocalStackOptions, PartStarter, StackContext, StackPart } from "./local-stack.ts";
export { inEachCluster } from "./per-cluster.ts";
export { localParts } from "./parts.ts";
export type { LocalParts } from "./parts.ts";
export { LOCAL_UP_EXIT, runLocalUp } from "./run-local-up.ts";
export { describePartExit, howItEnded } from "./part-exit.ts";
export type { PartExit } from "./part-exit.ts";
