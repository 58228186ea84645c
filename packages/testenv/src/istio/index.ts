export { createIstioCsr } from "./istio-csr.ts";
export type { CsrKeyType, IstioCsr, IstioCsrOptions } from "./istio-csr.ts";
export { createWorkloadCsr, spiffeIdOf, WORKLOAD_KINDS } from "./workload-csr.ts";
export type { WorkloadCsr, WorkloadIdentity, WorkloadKind } from "./workload-csr.ts";
export { istiodRbac, ISTIOD_NAMESPACE, ISTIOD_SERVICE_ACCOUNT } from "./istiod-rbac.ts";
export { IstiodRa, ISTIOD_USAGES, ISTIOD_WAIT_MS } from "./istiod-ra.ts";
export type { IstiodRaOptions, RaOutcome, RaRequest } from "./istiod-ra.ts";
