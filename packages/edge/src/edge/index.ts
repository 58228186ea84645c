export { startEdgeEmulator } from "./edge-emulator.ts";
export { EDGE_THREAD_NAME, startEdgeThreads } from "./edge-threads.ts";
export type { EdgeEmulator, EdgeEmulatorOptions, EdgeUpstream } from "./edge-emulator.ts";
export type { EdgeRequestCf } from "./cf-blob.ts";
export type { EdgeOrigin } from "./upstream-pool.ts";
export { NO_CLIENT_CERTIFICATE, tlsClientAuthFor } from "./tls-client-auth.ts";
export type { PresentedCertificate, TlsClientAuth } from "./tls-client-auth.ts";
export { createServerCertificate } from "./server-certificate.ts";
export type { ServerCertificate } from "./server-certificate.ts";
