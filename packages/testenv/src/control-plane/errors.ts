/** The etcd or kube-apiserver binary could not be built or found; `step` names what failed. */
export class BinaryBuildError extends Error {
  override readonly name = "BinaryBuildError";
  constructor(
    message: string,
    /** download, compile, link, verify, toolchain, or unknown. */
    readonly step: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** The control plane did not start or stopped working; the message carries the tail of the log. */
export class ControlPlaneError extends Error {
  override readonly name = "ControlPlaneError";
}

/** A kube-apiserver request answered with a non-2xx status; `reason` is the Status reason if any. */
export class KubeApiError extends Error {
  override readonly name = "KubeApiError";
  constructor(
    readonly method: string,
    readonly path: string,
    readonly status: number,
    readonly reason: string,
    readonly body: string,
  ) {
    super(`${method} ${path}: HTTP ${status} ${reason}: ${statusMessage(body)}`);
  }
}

function statusMessage(body: string): string {
  try {
    const parsed: unknown = JSON.parse(body);
    if (typeof parsed === "object" && parsed !== null && "message" in parsed && typeof parsed.message === "string") {
      return parsed.message;
    }
  } catch {
    // Not a Status object: fall through to the raw text.
  }
  return body.slice(0, 500);
}
