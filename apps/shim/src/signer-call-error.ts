/**
 * Every way a call to the signer can fail, classified once (docs/signer-api.md "Problems", the table's last column):
 * `terminal` failures mark the CSR Failed; everything else is retried with backoff. A 200 whose body is not a
 * valid answer (not JSON, not the schema, over the size limit) is an `invalidAnswer`: the signer's fault, retried
 * and counted with the answers that fail verification (docs/shim.md "Outcomes").
 */
import { TERMINAL_PROBLEM_CODES, type Problem } from "@edgeca/shared";

export class SignerCallError extends Error {
  override readonly name = "SignerCallError";
  /** HTTP status, when the signer answered at all. */
  readonly status: number | undefined;
  /** The parsed problem+json body, when there was one. */
  readonly problem: Problem | undefined;
  /** How long the signer asked us to wait (429 Retry-After), in ms. */
  readonly retryAfterMs: number | undefined;
  /** The signer answered 200, but not with a valid answer. */
  readonly invalidAnswer: boolean;

  constructor(message: string, options: { status?: number; problem?: Problem; retryAfterMs?: number; invalidAnswer?: boolean; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.status = options.status;
    this.problem = options.problem;
    this.retryAfterMs = options.retryAfterMs;
    this.invalidAnswer = options.invalidAnswer ?? false;
  }

  /**
   * True when the request itself is wrong and retrying cannot help. Only a parsed problem with a terminal
   * code counts: a bare 400 from a proxy in front of the signer is not the signer's verdict.
   */
  get terminal(): boolean {
    return this.problem !== undefined && TERMINAL_PROBLEM_CODES.has(this.problem.code);
  }

  /** A TitleCase reason for conditions, Events and metric labels (e.g. `PolicyDenied`, `SignerUnreachable`). */
  get reason(): string {
    if (this.problem !== undefined) return titleCase(this.problem.code);
    if (this.invalidAnswer) return "InvalidSignerAnswer";
    if (this.status === undefined) return "SignerUnreachable";
    return `SignerHttp${this.status}`;
  }

  /** True for 401/403: the shim's credentials or the signer's configuration are wrong, not the CSR. */
  get misconfiguration(): boolean {
    return this.status === 401 || this.status === 403;
  }
}

/** `policy_denied` → `PolicyDenied`. */
export function titleCase(code: string): string {
  return code
    .split(/[_\s-]+/)
    .filter((w) => w !== "")
    .map((w) => w.charAt(0).toUpperCase() + w.slice(1))
    .join("");
}
