/**
 * The demo's greedy identity (issue 13): acting as a runaway or compromised istiod, it asks for more
 * certificates for one SPIFFE ID than the identity's issuance budget allows in a window. The signer
 * answers the surplus 429 with Retry-After; the shim retries those CSRs, never marks them Failed, and
 * they are issued once the window has closed. Each CSR goes through istiod's own RA exchange (the test
 * bed's IstiodRa: created, approved, watched, deleted), named `csr-greedy-…` so the audit tells them apart.
 */
import { createIstioCsr, IstiodRa } from "@edgeca/testenv";

export interface GreedyOptions {
  /** A kubeconfig (YAML) authenticating as istiod's ServiceAccount (CSR create, approve, get, delete). */
  readonly istiodKubeconfig: string;
  readonly signerName: string;
  readonly spiffeId: string;
  /** CSRs created at once (more than the identity's budget). */
  readonly count: number;
  /** How long every CSR may take to get its certificate (past the budget's window). */
  readonly timeoutMs: number;
}

export interface GreedyResult {
  readonly spiffeId: string;
  readonly requested: number;
  readonly issued: number;
  /** CSRs that ended Failed: 0 when throttling works as it should. */
  readonly failed: number;
  /** From the first create to the last CSR's end (certificate taken, CSR deleted). */
  readonly elapsedMs: number;
}

export async function runGreedyIdentity(o: GreedyOptions): Promise<GreedyResult> {
  const istiod = new IstiodRa({ kubeconfig: o.istiodKubeconfig, signerName: o.signerName, waitMs: o.timeoutMs, csrNamePrefix: "csr-greedy-" });
  const started = Date.now();
  const outcomes = await Promise.all(
    Array.from({ length: o.count }, async () => {
      const { csrPem } = await createIstioCsr({ keyType: "P-256", uris: [o.spiffeId] });
      return await istiod.sign({ csrPem, expirationSeconds: 3600 });
    }),
  );
  const elapsedMs = Date.now() - started;
  const count = (what: "issued" | "failed") => outcomes.filter((r) => r.status === what).length;
  return { spiffeId: o.spiffeId, requested: outcomes.length, issued: count("issued"), failed: count("failed"), elapsedMs };
}
