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
  return error instanceof Error ? error.message : String(error);
}
