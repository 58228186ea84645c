export * from "./pki/index.ts";
export * from "./control-plane/index.ts";
export * from "./istio/index.ts";
export * from "./istio-real/index.ts";
