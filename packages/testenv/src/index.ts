export * from "./edge/index.ts";
