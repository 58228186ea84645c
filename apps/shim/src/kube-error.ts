/** The HTTP status of a failed Kubernetes API call, from the shapes @kubernetes/client-node 2.x throws. */
import { ApiException } from "@kubernetes/client-node";

/** The HTTP status carried by `error` (ApiException `code`, Watch `statusCode`), or undefined. */
export function kubeStatus(error: unknown): number | undefined {
  if (error instanceof ApiException) return error.code;
  if (typeof error === "object" && error !== null) {
    if ("statusCode" in error && typeof error.statusCode === "number") return error.statusCode;
    if ("code" in error && typeof error.code === "number") return error.code;
  }
  return undefined;
}

/** A short description of `error` for logs: the status and the apiserver's message when there is one. */
export function kubeMessage(error: unknown): string {
  if (error instanceof ApiException) {
    const body: unknown = error.body;
    let message = "";
    if (typeof body === "string") {
      try {
        const parsed: unknown = JSON.parse(body);
        if (typeof parsed === "object" && parsed !== null && "message" in parsed && typeof parsed.message === "string") message = parsed.message;
      } catch {
        message = body.slice(0, 300);
      }
    } else if (typeof body === "object" && body !== null && "message" in body && typeof body.message === "string") {
      message = body.message;
    }
    return `HTTP ${error.code}${message === "" ? "" : `: ${message}`}`;
  }
  return withCauses(error);
}

/**
 * A TitleCase reason for a failed call to kube-apiserver, for logs and the retries metric: the side is in
 * the name, so "fetch failed" is never mistaken for the signer's fault.
 */
export function apiserverReason(error: unknown): string {
  const status = kubeStatus(error);
  return status === undefined ? "ApiserverUnreachable" : `ApiserverHttp${status}`;
}

/**
 * `error`'s message followed by its causes' (undici says only "fetch failed"; the cause says
 * "connect ECONNREFUSED 127.0.0.1:6443"), at most three deep.
 */
function withCauses(error: unknown): string {
  const parts: string[] = [];
  let current: unknown = error;
  for (let depth = 0; depth < 3 && current !== undefined && current !== null; depth++) {
    if (!(current instanceof Error)) {
      parts.push(typeof current === "string" ? current : JSON.stringify(current));
      break;
    }
    const code = "code" in current && typeof current.code === "string" && !current.message.includes(current.code) ? ` (${current.code})` : "";
    parts.push(`${current.message}${code}`);
    current = current.cause;
  }
  return parts.join(": ");
}
