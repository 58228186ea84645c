export { startEdgeEmulator } from "./edge-emulator.ts";
export type { EdgeEmulator, EdgeEmulatorOptions, EdgeRequestCf, EdgeUpstream } from "./edge-emulator.ts";
export { NO_CLIENT_CERTIFICATE } from "./tls-client-auth.ts";
export type { TlsClientAuth } from "./tls-client-auth.ts";
export { createTestCa } from "./test-pki.ts";
export type { TestCa, TestCertificate } from "./test-pki.ts";
