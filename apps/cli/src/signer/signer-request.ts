/**
 * A plain Node HTTPS client for the local signer, with or without a client certificate: what the demo,
 * the tests and operators' scripts use to talk to `edgeca signer serve` from outside.
 */
import { request } from "node:https";

export interface SignerRequest {
  /** e.g. `https://127.0.0.1:8443` */
  readonly url: string;
  readonly path: string;
  readonly method?: string;
  /** CA PEM the serving certificate must chain to (the edge's, `DIR/edge-ca-cert.pem`). */
  readonly caPem: string;
  /** Client certificate and PKCS#8 key PEM; absent: none is presented. */
  readonly client?: { readonly certPem: string; readonly keyPem: string };
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string | Buffer;
  /** Default 30 s. */
  readonly timeoutMs?: number;
}

export interface SignerAnswer {
  readonly status: number;
  readonly contentType: string;
  readonly body: string;
}

/** Sends one request on a fresh connection (no TLS session reuse between different client identities). */
export function signerRequest(options: SignerRequest): Promise<SignerAnswer> {
  return new Promise((resolve, reject) => {
    const req = request(
      new URL(options.path, options.url),
      {
        method: options.method ?? "GET",
        ca: options.caPem,
        agent: false,
        timeout: options.timeoutMs ?? 30_000,
        ...(options.headers === undefined ? {} : { headers: options.headers }),
        ...(options.client === undefined ? {} : { cert: options.client.certPem, key: options.client.keyPem }),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("error", reject);
        res.on("end", () => {
          resolve({ status: res.statusCode ?? 0, contentType: res.headers["content-type"] ?? "", body: Buffer.concat(chunks).toString("utf8") });
        });
      },
    );
    req.on("timeout", () => req.destroy(new Error(`${options.method ?? "GET"} ${options.path}: no answer within ${options.timeoutMs ?? 30_000} ms`)));
    req.on("error", reject);
    req.end(options.body);
  });
}

/** POSTs a JSON body (`content-type: application/json`). */
export function postJson(options: Omit<SignerRequest, "method" | "body" | "headers"> & { readonly json: unknown }): Promise<SignerAnswer> {
  return signerRequest({ ...options, method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(options.json) });
}
