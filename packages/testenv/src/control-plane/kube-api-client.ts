import { request as httpsRequest } from "node:https";
import { KubeApiError } from "./errors.ts";
import type { KubeconfigCredentials } from "./kubeconfig.ts";

/** One answer from the apiserver, whatever its status. */
export interface KubeResponse {
  readonly status: number;
  readonly text: string;
  /** The JSON body, or undefined when the body is empty or not JSON. */
  readonly json: unknown;
}

/** Where and as whom to talk to the apiserver. */
export interface KubeApiClientOptions {
  readonly server: string;
  readonly caPem: string;
  readonly credentials: KubeconfigCredentials;
  /** Per-request timeout; default 30 s. */
  readonly timeoutMs?: number;
}

/**
 * A deliberately small JSON client for the kube-apiserver (node:https, the cluster CA pinned, a client
 * certificate or a bearer token). Tests use it to act as a given identity without extra machinery.
 */
export class KubeApiClient {
  constructor(private readonly options: KubeApiClientOptions) {}

  /** Sends a request and returns the answer without judging its status. */
  async send(method: string, path: string, body?: unknown, contentType = "application/json"): Promise<KubeResponse> {
    const url = new URL(path, this.options.server);
    const payload = body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body);
    const creds = this.options.credentials;
    // JSON for the API; */* lets endpoints with their own type answer (/openid/v1/jwks is application/jwk-set+json).
    const headers: Record<string, string> = { accept: "application/json, */*;q=0.5" };
    if (payload !== undefined) {
      headers["content-type"] = contentType;
      headers["content-length"] = String(Buffer.byteLength(payload));
    }
    if ("token" in creds) headers.authorization = `Bearer ${creds.token}`;
    return await new Promise<KubeResponse>((resolve, reject) => {
      const req = httpsRequest(
        url,
        {
          method,
          headers,
          ca: this.options.caPem,
          ...("token" in creds ? {} : { cert: creds.clientCertPem, key: creds.clientKeyPem }),
          timeout: this.options.timeoutMs ?? 30_000,
          agent: false,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (chunk: Buffer) => chunks.push(chunk));
          res.on("error", reject);
          res.on("end", () => {
            const text = Buffer.concat(chunks).toString("utf8");
            resolve({ status: res.statusCode ?? 0, text, json: parseJson(text) });
          });
        },
      );
      req.on("timeout", () => req.destroy(new Error(`${method} ${url.href} timed out`)));
      req.on("error", reject);
      req.end(payload);
    });
  }

  /** Sends a request and returns its JSON body; any non-2xx status throws a KubeApiError. */
  async request(method: string, path: string, body?: unknown, contentType?: string): Promise<unknown> {
    const res = await this.send(method, path, body, contentType);
    if (res.status < 200 || res.status > 299) {
      throw new KubeApiError(method, path, res.status, reasonOf(res.json), res.text);
    }
    return res.json;
  }
}

function parseJson(text: string): unknown {
  if (text === "") return undefined;
  try {
    return JSON.parse(text);
  } catch {
    // Not JSON (e.g. the plain "ok" of /readyz): callers read `text`.
    return undefined;
  }
}

function reasonOf(json: unknown): string {
  if (typeof json === "object" && json !== null && "reason" in json && typeof json.reason === "string") return json.reason;
  return "";
}
