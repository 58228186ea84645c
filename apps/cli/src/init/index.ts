export { createMaterial, INIT_DEFAULTS, keySecretName } from "./material.ts";
export type { InitMaterial, InitOptions, PemPair } from "./material.ts";
export { materialFiles, MaterialExistsError, writeMaterial } from "./write-material.ts";
export { nextSteps } from "./next-steps.ts";
