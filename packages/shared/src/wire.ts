/**
 * The signer's HTTP API, v1 (docs/signer-api.md). Each zod schema and its type share one name.
 * Both sides parse with these: the Worker its request bodies, the shim the Worker's answers.
 */
import * as z from "zod";

/** Upper bound of a request body the signer reads (docs/signer-api.md "Limits": 64 KiB). */
export const MAX_BODY_BYTES = 64 * 1024;

/** The stable `code` of every problem+json answer (RFC 9457), with the HTTP status it travels with. */
export const PROBLEM_STATUS = {
  invalid_request: 400,
  unauthenticated: 401,
  forbidden: 403,
  not_found: 404,
  method_not_allowed: 405,
  payload_too_large: 413,
  unsupported_media_type: 415,
  policy_denied: 422,
  rate_limited: 429,
  internal: 500,
  unavailable: 503,
} as const;

export type ProblemCode = keyof typeof PROBLEM_STATUS;
export const ProblemCode = z.enum(Object.keys(PROBLEM_STATUS) as [ProblemCode, ...ProblemCode[]]);

/** Codes after which the shim marks the CSR Failed: the request itself is wrong and retrying cannot help. */
export const TERMINAL_PROBLEM_CODES: ReadonlySet<ProblemCode> = new Set<ProblemCode>([
  "invalid_request",
  "payload_too_large",
  "unsupported_media_type",
  "policy_denied",
]);

/** The `title` of each problem code: one wording wherever a problem is written (signer, edge, shim). */
export const PROBLEM_TITLES: Readonly<Record<ProblemCode, string>> = {
  invalid_request: "Invalid request",
  unauthenticated: "Unauthenticated",
  forbidden: "Forbidden",
  not_found: "Not found",
  method_not_allowed: "Method not allowed",
  payload_too_large: "Payload too large",
  unsupported_media_type: "Unsupported media type",
  policy_denied: "Denied by policy",
  rate_limited: "Rate limited",
  internal: "Internal error",
  unavailable: "Unavailable",
};

/** The problem document for `code` with `detail` (RFC 9457: `type` a URN per code, the code's title and status). */
export function problemOf(code: ProblemCode, detail: string): Problem {
  return { type: `urn:edgeca:problem:${code}`, title: PROBLEM_TITLES[code], status: PROBLEM_STATUS[code], code, detail };
}

/** An RFC 9457 problem document as the signer writes it. */
export const Problem = z.object({
  type: z.string(),
  title: z.string(),
  status: z.number().int(),
  code: ProblemCode,
  detail: z.string(),
  /** `POST /v1/sign-pod` refusals only, when the API names one: the PodCertificateRequest's Denied reason. */
  reason: z.string().regex(/^[A-Z][A-Za-z0-9]{0,127}$/).optional(),
});
export type Problem = z.infer<typeof Problem>;

/** Kubernetes user info of the identity that created the CSR (`spec.username`, `spec.uid`, …). */
export const Requestor = z.object({
  username: z.string().min(1).max(1024),
  uid: z.string().max(1024).optional(),
  groups: z.array(z.string().max(1024)).max(256).optional(),
  extra: z.record(z.string(), z.array(z.string().max(4096)).max(64)).optional(),
});
export type Requestor = z.infer<typeof Requestor>;

/** `POST /v1/sign` body. */
export const SignRequest = z.object({
  signerName: z.string().min(1).max(571),
  csr: z.string().min(1),
  usages: z.array(z.string().max(64)).min(1).max(16),
  expirationSeconds: z.number().int().positive().optional(),
  requestor: Requestor,
  object: z.object({ name: z.string().min(1).max(253), uid: z.string().max(128).optional() }).optional(),
});
export type SignRequest = z.infer<typeof SignRequest>;

/** `POST /v1/sign` 200 answer. */
export const SignResponse = z.object({
  /** Leaf PEM then intermediates, never the root, nothing after the last block. */
  certificateChain: z.string().min(1),
  serialNumber: z.string().regex(/^[0-9a-f]+$/),
  notBefore: z.iso.datetime({ offset: true }),
  notAfter: z.iso.datetime({ offset: true }),
});
export type SignResponse = z.infer<typeof SignResponse>;

/** `GET /v1/bundle` 200 answer: every root a relying party should trust now. */
export const Bundle = z.object({
  roots: z.array(z.string().min(1)).min(1),
  pem: z.string().min(1),
});
export type Bundle = z.infer<typeof Bundle>;
