/** The errors @kubernetes/client-node 2.x throws, for fakes of its API classes. */
import { ApiException } from "@kubernetes/client-node";

/** An HTTP error answer from kube-apiserver (a Status body, as the generated clients throw it). */
export function apiError(code: number, message = `HTTP ${code} from the fake apiserver`): ApiException<string> {
  return new ApiException(code, message, JSON.stringify({ kind: "Status", apiVersion: "v1", status: "Failure", message, code }), {});
}

/** What undici throws when kube-apiserver is not reachable at all. */
export function unreachable(): Error {
  return new TypeError("fetch failed", { cause: Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:6443"), { code: "ECONNREFUSED" }) });
}
