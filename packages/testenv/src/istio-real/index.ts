export { CsrWatch } from "./csr-watch.ts";
export type { CsrCondition, CsrRecord } from "./csr-watch.ts";
export { ensureIstioBinaries } from "./istio-binaries.ts";
export type { IstioBinaries } from "./istio-binaries.ts";
export { applyIstiodRbac, istiodRbacManifest, ISTIOD_RBAC_FILE } from "./istiod-rbac.ts";
export { EXTERNAL_CA_SECRET, ISTIO_ROOT_CONFIGMAP, ISTIOD_SAN, istiodVersion, startIstiod } from "./istiod-process.ts";
export type { Istiod, StartIstiodOptions } from "./istiod-process.ts";
export { MIN_SECRET_TTL_SECONDS, startPilotAgent } from "./pilot-agent-process.ts";
export type { AgentCertificates, AgentKey, PilotAgent, StartPilotAgentOptions } from "./pilot-agent-process.ts";
