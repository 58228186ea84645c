/**
 * Answers the edge gives itself (never the Worker's): RFC 9457 problem+json in the signer's own shape
 * (`Problem` in @edgeca/shared), so a client parses every refusal the same way, whoever made it.
 */
import { problemOf, type Problem, type ProblemCode } from "@edgeca/shared";

/** An answer made by the edge: status, headers and a body ready to send. */
export interface EdgeAnswer {
  readonly status: number;
  /** Flat `[name, value, name, value, …]`, as Node's `rawHeaders`. */
  readonly headers: readonly string[];
  readonly body: Buffer;
}

/**
 * A problem answer. `status` is separate from `code` because the edge's 502 (the upstream failed) has no
 * code of its own in the signer's API: it travels as `unavailable`, which clients already retry.
 */
export function edgeProblem(status: number, code: ProblemCode, detail: string, extraHeaders: readonly string[] = []): EdgeAnswer {
  const problem: Problem = { ...problemOf(code, `edge: ${detail}`), status };
  const body = Buffer.from(JSON.stringify(problem));
  return {
    status,
    headers: ["content-type", "application/problem+json", "cache-control", "no-store", "content-length", String(body.length), ...extraHeaders],
    body,
  };
}
