// The CLI's library surface. Production code only: the development stack (local/, demo/, bench/) needs
// @edgeca/testenv, a devDependency, and is not exported. Each line re-exports one area; add yours on its own line.
export {};
export { signerRequest, postJson, initMaterial } from "./signer/index.ts";
export type { SignerAnswer, SignerRequest } from "./signer/index.ts";
export { verifyChain, parseCertificates, readCertificates, formatVerification } from "./verify/index.ts";
export type { ChainVerification, Check } from "./verify/index.ts";
export * from "./init/index.ts";
export * from "./ca/index.ts";
