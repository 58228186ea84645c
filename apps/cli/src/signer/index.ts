// The CLI's side of the signer: material, budgets and requests. The runner itself (startLocalSigner,
// the Worker bundle) is @edgeca/edge.
export { postJson, signerRequest } from "./signer-request.ts";
export type { SignerAnswer, SignerRequest } from "./signer-request.ts";
export { initMaterial } from "./init-material.ts";
export { setBudgets } from "./set-budgets.ts";
export type { BudgetsInput } from "./set-budgets.ts";
export { setPodCertificates } from "./set-pod-certificates.ts";
