// @edgeca/edge: the self-hosted signer's runtime (README.md). The TLS edge in front of workerd, and the
// runner that starts the Worker bundle in workerd behind it (`edgeca signer serve`).
export * from "./edge/index.ts";
export * from "./local-signer/index.ts";
