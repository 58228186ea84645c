/**
 * What the signer learned about one sign request on the way to its decision, for the audit record
 * (audit.ts): filled by the core as each step passes, so a refusal still says what was asked for.
 */
import { csrKey, parseCsrPem, type BudgetScope, type CsrKey } from "@edgeca/shared";

export interface SignFacts {
  profile?: "workload" | "control-plane" | "pod";
  spiffeId?: string;
  dnsNames?: readonly string[];
  keyType?: string;
  issuer?: string;
  /** Throttled: the budget met. */
  budget?: { scope: BudgetScope; limit: number; windowSeconds: number; retryAfterSeconds: number };
  /** Issued without asking the budget backend (fail-open): why it could not be asked. */
  budgetUnchecked?: string;
}

/** `ECDSA P-256`, `RSA-2048`, … */
export function keyTypeOf(key: CsrKey): string {
  if (key.kind === "ec") return `ECDSA ${key.curve}`;
  if (key.kind === "rsa") return `RSA-${key.bits}`;
  return "unknown";
}

/**
 * Names and key type of a CSR policy refused before it got that far (a foreign trust domain, two URIs):
 * best effort, since the CSR may be malformed; never throws.
 */
export function describeRefusedCsr(pem: string, facts: SignFacts): void {
  if (facts.spiffeId !== undefined || facts.dnsNames !== undefined) return;
  try {
    const csr = parseCsrPem(pem);
    const uri = csr.names.uri[0];
    if (uri !== undefined) facts.spiffeId = uri.slice(0, 2048);
    if (csr.names.dns.length > 0) facts.dnsNames = csr.names.dns.slice(0, 64).map((d) => d.slice(0, 253));
    try {
      facts.keyType ??= keyTypeOf(csrKey(csr));
    } catch {
      // A malformed key: the refusal's reason says so.
    }
  } catch {
    // Not a CSR at all: the refusal's reason says why.
  }
}
