export { createIstioCsr } from "./istio-csr.ts";
export type { CsrKeyType, IstioCsr, IstioCsrOptions } from "./istio-csr.ts";
export { runFirstDemo } from "./first-demo.ts";
