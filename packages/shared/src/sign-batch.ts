/**
 * `POST /v1/sign-batch` (docs/signer-api.md "Batches"): several sign requests in one HTTP request, each
 * decided on its own exactly as `POST /v1/sign` would decide it, one answer per request in the same order.
 * A burst of CSRs then pays the transport, the authentication and the budget counter's round trip once per
 * batch instead of once per certificate. The HTTP status is 200 whenever the batch itself was accepted,
 * even when every item was refused; only what concerns the whole request (configuration, authentication,
 * media type, body size, the envelope's JSON and schema) is refused as a whole, as on `/v1/sign`.
 */
import * as z from "zod";
import { Problem, SignResponse } from "./wire.ts";

/** The most sign requests one batch carries (the Worker's CPU time per invocation stays bounded). */
export const MAX_BATCH_ITEMS = 32;

/** Upper bound of a batch body; each item, written alone, must also fit in MAX_BODY_BYTES. */
export const MAX_BATCH_BODY_BYTES = 512 * 1024;

/**
 * The envelope. Items are parsed one by one with `SignRequest`, so one malformed item is that item's
 * `invalid_request`, not the batch's.
 */
export const SignBatchRequest = z.object({
  requests: z.array(z.unknown()).min(1).max(MAX_BATCH_ITEMS),
});
export type SignBatchRequest = z.infer<typeof SignBatchRequest>;

/** One item's answer: the certificate, or the problem `/v1/sign` would have answered with. */
export const SignBatchItem = z.union([
  z.object({ issued: SignResponse }).strict(),
  z
    .object({
      refused: Problem,
      /** With `rate_limited`: what `/v1/sign` sends as `Retry-After`, in whole seconds. */
      retryAfterSeconds: z.number().int().nonnegative().optional(),
    })
    .strict(),
]);
export type SignBatchItem = z.infer<typeof SignBatchItem>;

/** The 200 answer: `answers[i]` answers `requests[i]`; there are exactly as many answers as requests. */
export const SignBatchResponse = z.object({
  answers: z.array(SignBatchItem).min(1).max(MAX_BATCH_ITEMS),
});
export type SignBatchResponse = z.infer<typeof SignBatchResponse>;
