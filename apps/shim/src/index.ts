// The shim's library surface, for tests, `edgeca local up` and the demo.
export { loadConfig, ShimEnv, type ShimConfig } from "./config.ts";
export { startShim, type Shim, type ShimDeps } from "./shim.ts";
export { createHttpSignerClient, type SignerClient, type HttpSignerClientOptions } from "./signer-client.ts";
export { SignerCallError } from "./signer-call-error.ts";
export { createLogger, type Logger, type LogRecord, type LogSink } from "./logger.ts";
export { systemClock, type Clock } from "./clock.ts";
export { clusterTrustBundleName } from "./bundle-publisher.ts";
