/**
 * The shim's half of `POST /v1/sign-batch` (packages/shared/src/sign-batch.ts): which bodies to send for a
 * list of sign requests, and what each item of an answer means. Every item ends as what `POST /v1/sign`
 * would have given for that request alone: its SignResponse, or the SignerCallError its refusal would have
 * been (status, problem, retryAfterMs), so the reconcilers handle a batch's items unchanged.
 */
import { MAX_BATCH_BODY_BYTES, MAX_BATCH_ITEMS, MAX_BODY_BYTES, problemOf, SignBatchResponse, type Problem, type SignRequest, type SignResponse } from "@edgeca/shared";
import { SignerCallError } from "./signer-call-error.ts";

/** One request's outcome: the certificate, or why there is none. */
export type SignOutcome = SignResponse | SignerCallError;

/**
 * A failure of a whole `/v1/sign-batch` request (no answer, a non-200, an invalid answer), one object given
 * to every request it carried. Classified as the same failure of `/v1/sign` would be; the class says only
 * that the verdict was on the batch, not on the request (a 400, 413 or 415 here is not the CSR's fault).
 */
export class BatchRequestError extends SignerCallError {
  static of(error: SignerCallError): BatchRequestError {
    return new BatchRequestError(error.message, {
      ...(error.status === undefined ? {} : { status: error.status }),
      ...(error.problem === undefined ? {} : { problem: error.problem }),
      ...(error.retryAfterMs === undefined ? {} : { retryAfterMs: error.retryAfterMs }),
      invalidAnswer: error.invalidAnswer,
      cause: error.cause,
    });
  }
}

/** One `/v1/sign-batch` body and the indices (into the caller's list) of the requests it carries, in order. */
export interface BatchBody {
  readonly indices: readonly number[];
  readonly body: string;
}

/** What to send for `requests`: the bodies, and the outcome of each request that cannot be sent at all. */
export interface BatchPlan {
  readonly bodies: readonly BatchBody[];
  /** Requests refused here (a body over MAX_BODY_BYTES), by index. */
  readonly refused: ReadonlyMap<number, SignerCallError>;
}

const OPEN = '{"requests":[';
const CLOSE = "]}";

/** The 413 the signer would answer for a request whose body is over MAX_BODY_BYTES (said here, nothing sent). */
export function tooLargeError(): SignerCallError {
  const problem = problemOf("payload_too_large", `the CSR makes a request body over ${MAX_BODY_BYTES} bytes, the signer's limit`);
  return new SignerCallError("request body over the signer's limit", { status: problem.status, problem });
}

/** The error a refusal `problem` with HTTP `status` is, as /v1/sign's answer would have been read. */
export function refusalError(status: number, problem: Problem | undefined, retryAfterMs: number | undefined): SignerCallError {
  const detail = problem === undefined ? `HTTP ${status} without a problem document` : `${problem.code}: ${problem.detail}`;
  return new SignerCallError(`the signer refused: ${detail}`, {
    status,
    ...(problem === undefined ? {} : { problem }),
    ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
  });
}

/**
 * Splits `requests` into bodies of at most MAX_BATCH_ITEMS requests and MAX_BATCH_BODY_BYTES bytes, in
 * order; a request whose own body is over MAX_BODY_BYTES gets the signer's 413 here and is not sent.
 */
export function planBatches(requests: readonly SignRequest[]): BatchPlan {
  const bodies: BatchBody[] = [];
  const refused = new Map<number, SignerCallError>();
  let indices: number[] = [];
  let items: string[] = [];
  let bytes = OPEN.length + CLOSE.length;
  const flush = (): void => {
    if (items.length > 0) bodies.push({ indices, body: `${OPEN}${items.join(",")}${CLOSE}` });
    indices = [];
    items = [];
    bytes = OPEN.length + CLOSE.length;
  };
  requests.forEach((request, index) => {
    const item = JSON.stringify(request);
    const size = Buffer.byteLength(item);
    if (size > MAX_BODY_BYTES) {
      refused.set(index, tooLargeError());
      return;
    }
    if (items.length === MAX_BATCH_ITEMS || bytes + (items.length > 0 ? 1 : 0) + size > MAX_BATCH_BODY_BYTES) flush();
    bytes += (items.length > 0 ? 1 : 0) + size;
    indices.push(index);
    items.push(item);
  });
  flush();
  return { bodies, refused };
}

/**
 * The outcomes of a 200 answer `json` to a body of `count` requests. An answer that is not the schema, or
 * that has not exactly one answer per request, is one invalid-answer error for every item (the same object).
 */
export function outcomesOf(json: unknown, count: number): SignOutcome[] {
  const parsed = SignBatchResponse.safeParse(json);
  if (!parsed.success) return Array<SignOutcome>(count).fill(invalid(`the signer's /v1/sign-batch answer does not match the schema: ${parsed.error.message}`));
  const { answers } = parsed.data;
  if (answers.length !== count) return Array<SignOutcome>(count).fill(invalid(`the signer's /v1/sign-batch answer has ${answers.length} answers for ${count} requests`));
  return answers.map((answer) => {
    if ("issued" in answer) return answer.issued;
    const retryAfterMs = answer.retryAfterSeconds === undefined ? undefined : answer.retryAfterSeconds * 1000;
    return refusalError(answer.refused.status, answer.refused, retryAfterMs);
  });
}

function invalid(message: string): SignerCallError {
  return new BatchRequestError(message, { status: 200, invalidAnswer: true });
}
