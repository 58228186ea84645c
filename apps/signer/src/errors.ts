/**
 * Named errors that know their problem code and render themselves as RFC 9457 problem+json
 * (docs/signer-api.md "Problems"). The public `detail` is written for the shim's operator; `cause` keeps the
 * internal reason for logs only.
 */
import { PROBLEM_STATUS, problemOf, type BudgetScope, type ProblemCode } from "@edgeca/shared";

/** Renders a problem document with its status. */
export function problemResponse(code: ProblemCode, detail: string, headers?: Record<string, string>): Response {
  const body = problemOf(code, detail);
  return new Response(JSON.stringify(body), {
    status: body.status,
    headers: { "content-type": "application/problem+json", "cache-control": "no-store", ...headers },
  });
}

/** Base of every error the signer answers with on purpose. */
export abstract class SignerError extends Error {
  abstract readonly code: ProblemCode;
  /** Headers to add to the answer (e.g. `WWW-Authenticate`). */
  readonly headers: Record<string, string> = {};

  get status(): number {
    return PROBLEM_STATUS[this.code];
  }

  toResponse(): Response {
    return problemResponse(this.code, this.message, this.headers);
  }
}

/** 400: body or CSR malformed, proof of possession failed, ASN.1 limits. */
export class InvalidRequestError extends SignerError {
  override readonly name = "InvalidRequestError";
  readonly code = "invalid_request";
}

/** 401: no verified client certificate, or a missing/invalid token. */
export class UnauthenticatedError extends SignerError {
  override readonly name = "UnauthenticatedError";
  readonly code = "unauthenticated";
  override readonly headers = { "www-authenticate": 'Bearer realm="edgeca"' };
}

/** 403: authenticated, but this cluster may not use this signer name. */
export class ForbiddenError extends SignerError {
  override readonly name = "ForbiddenError";
  readonly code = "forbidden";
}

/** 413: body over the limit. */
export class PayloadTooLargeError extends SignerError {
  override readonly name = "PayloadTooLargeError";
  readonly code = "payload_too_large";
}

/** 415: not JSON. */
export class UnsupportedMediaTypeError extends SignerError {
  override readonly name = "UnsupportedMediaTypeError";
  readonly code = "unsupported_media_type";
}

/** 422: well-formed but refused by policy. */
export class PolicyDeniedError extends SignerError {
  override readonly name = "PolicyDeniedError";
  readonly code = "policy_denied";
}

/** 503: configuration invalid or keys not loaded; the issuing CA unusable. */
export class UnavailableError extends SignerError {
  override readonly name = "UnavailableError";
  readonly code = "unavailable";
}

/** What a throttled request met: the budget and when it has room again. */
export interface SpentBudget {
  readonly scope: BudgetScope;
  /** The SPIFFE ID, the DNS names joined by ",", or the cluster's name. */
  readonly subject: string;
  readonly limit: number;
  readonly windowSeconds: number;
  readonly retryAfterSeconds: number;
}

/** 429: an issuance budget is spent (docs/configuration.md "Budgets"); `Retry-After` says when it has room. */
export class RateLimitedError extends SignerError {
  override readonly name = "RateLimitedError";
  readonly code = "rate_limited";
  override readonly headers: Record<string, string>;

  constructor(
    readonly budget: SpentBudget,
    cluster: string,
  ) {
    const what = budget.scope === "cluster" ? `cluster "${cluster}"` : `${budget.scope === "identity" ? "identity" : "DNS names"} "${budget.subject}" of cluster "${cluster}"`;
    super(`issuance budget spent: ${what} may have ${budget.limit} certificates per ${budget.windowSeconds} s (${budget.scope} budget); retry after ${budget.retryAfterSeconds} s`);
    this.headers = { "retry-after": String(budget.retryAfterSeconds) };
  }
}
