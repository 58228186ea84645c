export { CertificateFileError, parseCertificates, readCertificates } from "./certificate-file.ts";
export { summarize } from "./certificate-summary.ts";
export type { CertificateSummary } from "./certificate-summary.ts";
export { verifyChain } from "./chain-verification.ts";
export type { ChainVerification, ChainVerificationInput, Check } from "./chain-verification.ts";
export { formatVerification } from "./verification-report.ts";
