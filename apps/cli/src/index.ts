// The CLI's library surface, used by the demo, benchmarks and other packages' tests.
// Each line re-exports one area; add yours on its own line.
export {};
export { signerRequest, postJson, initMaterial } from "./signer/index.ts";
export type { SignerAnswer, SignerRequest } from "./signer/index.ts";
export * from "./local/index.ts";
export { runMeshDemo } from "./demo/index.ts";
export type { MeshDemoOptions, MeshDemoResult } from "./demo/index.ts";
export { verifyChain, parseCertificates, readCertificates, formatVerification } from "./verify/index.ts";
export type { ChainVerification, Check } from "./verify/index.ts";
export * from "./init/index.ts";
export * from "./ca/index.ts";
