export { startLocalStack } from "./local-stack.ts";
export type { LocalStack, LocalStackOptions, PartStarter, StackContext, StackPart } from "./local-stack.ts";
export { localParts } from "./parts.ts";
export type { LocalParts } from "./parts.ts";
