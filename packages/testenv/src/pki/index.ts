export { createTestCa, issueClientCertificate } from "./test-pki.ts";
export type { ClientCertificateRequest, TestCa, TestCertificate } from "./test-pki.ts";
