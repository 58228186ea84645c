export { createClientCertificate, createIssuingCa, createMaterial, createRootCa, INIT_DEFAULTS, keySecretName, pem as certificatePem, pkcs8Pem } from "./material.ts";
export type { CaKeyPair, InitMaterial, InitOptions, PemPair } from "./material.ts";
export { materialFiles, MaterialExistsError, writeMaterial } from "./write-material.ts";
export { nextSteps } from "./next-steps.ts";
