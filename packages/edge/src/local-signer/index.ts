export { LocalMaterialError, readLocalMaterial, WorkerSecrets } from "./local-material.ts";
export type { LocalMaterial } from "./local-material.ts";
export { startLocalSigner } from "./local-signer.ts";
export type { LocalSigner, LocalSignerOptions, WorkerOutput } from "./local-signer.ts";
export { bundleWorker, readWranglerConfig, sharedWorkerBundle, SIGNER_APP_DIR, WorkerBundleError, WranglerConfig } from "./worker-bundle.ts";
export type { WorkerBundle } from "./worker-bundle.ts";
