/**
 * Every certificate a burst produced, checked the way `edgeca verify` checks one (chain to the signer's
 * root with node:crypto, valid now, leaf not a CA, exactly the requested SPIFFE ID) and carrying the
 * workload's own key.
 */
import { parseCertificates, verifyChain } from "../verify/index.ts";
import type { PreparedCsr } from "./csr-burst.ts";
import type { Observation } from "./csr-watch.ts";

export interface IssuedVerification {
  readonly verified: number;
  /** The first few problems, each naming the CSR. */
  readonly problems: readonly string[];
}

/** Checks each observation against the request it answers (`<prefix><index>` → csrs[index]). */
export function verifyIssued(
  issued: ReadonlyMap<string, Observation>,
  csrs: readonly PreparedCsr[],
  namePrefix: string,
  rootPem: string,
): IssuedVerification {
  const roots = parseCertificates(rootPem, "the signer's root");
  let verified = 0;
  const problems: string[] = [];
  for (const [name, observation] of issued) {
    const csr = csrs[Number(name.slice(namePrefix.length))];
    if (csr === undefined) {
      problems.push(`${name}: no such request in this burst`);
      continue;
    }
    const failed: string[] = [];
    try {
      const chain = parseCertificates(observation.certificatePem, `certificate of ${name}`);
      const result = verifyChain({ chain, roots, spiffeId: csr.spiffeId });
      for (const check of result.checks) if (check.result === "fail") failed.push(`${check.name}: ${check.detail}`);
      const key = chain[0]?.publicKey.export({ type: "spki", format: "der" });
      if (key?.equals(csr.spki) !== true) failed.push("the leaf's public key is not the workload's");
    } catch (error) {
      failed.push(String(error));
    }
    if (failed.length === 0) verified++;
    else if (problems.length < 10) problems.push(`${name}: ${failed.join("; ")}`);
  }
  return { verified, problems };
}
