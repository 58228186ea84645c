/**
 * The edge in front of the real Worker in workerd, probed as issue "Hardening: the edge" did: large
 * chunked bodies, methods and targets the edge answers itself, headers that would steer Miniflare or
 * workerd, and the answer delay. Every answer is checked from outside with a plain HTTPS client.
 */
import { X509Certificate } from "node:crypto";
import { readFileSync, rmSync } from "node:fs";
import { request } from "node:https";
import { dirname, join } from "node:path";
import { Problem } from "@edgeca/shared";
import type { TestCertificate } from "@edgeca/testenv";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { initMaterial } from "./init-material.ts";
import { startLocalSigner, type LocalSigner } from "@edgeca/edge";
import { signerRequest, type SignerAnswer } from "./signer-request.ts";

interface Answer extends SignerAnswer {
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
}

/** One request on a fresh connection; `chunks` are written without a Content-Length (chunked). */
function send(signer: LocalSigner, path: string, options: { method?: string; headers?: Record<string, string>; chunks?: readonly Buffer[]; client?: TestCertificate } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${signer.url}${path}`,
      {
        method: options.method ?? "GET",
        ca: signer.serverCaPem,
        agent: false,
        ...(options.headers === undefined ? {} : { headers: options.headers }),
        ...(options.client === undefined ? {} : { cert: options.client.certPem, key: options.client.keyPem }),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          resolve({ status: res.statusCode ?? 0, contentType: res.headers["content-type"] ?? "", headers: res.headers, body: Buffer.concat(chunks).toString() });
        });
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    for (const chunk of options.chunks ?? []) req.write(chunk);
    req.end();
  });
}

function expectProblem(answer: SignerAnswer, status: number, code: string): void {
  expect(answer.status, answer.body).toBe(status);
  expect(answer.contentType).toContain("application/problem+json");
  expect(Problem.parse(JSON.parse(answer.body))).toMatchObject({ status, code });
}

describe("the edge in front of the real Worker", () => {
  let dir: string;
  let signer: LocalSigner;
  let client: TestCertificate;

  beforeAll(async () => {
    dir = await initMaterial();
    signer = await startLocalSigner({ dir });
    client = { certPem: readFileSync(join(dir, "client-cert.pem"), "utf8"), keyPem: readFileSync(join(dir, "client-key.pem"), "utf8") };
  });

  afterAll(async () => {
    await signer.stop();
    rmSync(dirname(dir), { recursive: true, force: true });
  });

  it("answers 413 problem+json to every chunked body from 128 KiB to 1 MiB, never 502", async () => {
    const statuses: string[] = [];
    for (let i = 0; i < 16; i += 1) {
      const size = 128 * 1024 + Math.floor((i / 15) * (896 * 1024 - 1));
      const chunks = Array.from({ length: Math.ceil(size / 16_384) }, () => Buffer.alloc(16_384, 0x61));
      const answer = await send(signer, "/v1/sign", { method: "POST", headers: { "content-type": "application/json" }, chunks, client });
      expectProblem(answer, 413, "payload_too_large");
      statuses.push(`${size}:${answer.status}`);
    }
    expect(statuses).toHaveLength(16);
  });

  it("answers TRACE with 405 problem+json from the edge", async () => {
    expectProblem(await send(signer, "/healthz", { method: "TRACE" }), 405, "method_not_allowed");
  });

  it("lets no MF-* header steer the runtime: MF-Route-Override still reaches the Worker", async () => {
    const answer = await send(signer, "/healthz", { headers: { "MF-Route-Override": "nothing-here", "MF-Original-URL": "http://elsewhere.example/v1/bundle" } });
    expect(answer.status, answer.body).toBe(200);
  });

  it("ignores a client's own cf-blob header: a forged SUCCESS verdict with the pinned fingerprint is still 401", async () => {
    const fingerprint = new X509Certificate(client.certPem).fingerprint256.replaceAll(":", "").toLowerCase();
    const forged = JSON.stringify({ tlsClientAuth: { certPresented: "1", certVerified: "SUCCESS", certRevoked: "0", certFingerprintSHA256: fingerprint } });
    expectProblem(await send(signer, "/v1/bundle", { headers: { "MF-CF-Blob": forged, "cf-tls-client-auth": forged } }), 401, "unauthenticated");
    // The same request with the certificate itself is accepted: the refusal above is the forgery's.
    expect((await send(signer, "/v1/bundle", { client })).status).toBe(200);
  });

  it("returns no mf-* header in any answer", async () => {
    for (const answer of [await send(signer, "/healthz"), await send(signer, "/v1/bundle"), await send(signer, "/v1/bundle", { client })]) {
      expect(Object.keys(answer.headers).filter((name) => name.startsWith("mf-")), answer.body).toEqual([]);
    }
  });

  it("with answerDelayMs and two workerd instances behind it, every answer comes and none sooner than the delay", async () => {
    const slow = await startLocalSigner({ dir, answerDelayMs: 120, workerdInstances: 2 });
    try {
      await signerRequest({ url: slow.url, path: "/healthz", caPem: slow.serverCaPem });
      const start = performance.now();
      const answers = await Promise.all(Array.from({ length: 6 }, () => signerRequest({ url: slow.url, path: "/readyz", caPem: slow.serverCaPem })));
      expect(performance.now() - start).toBeGreaterThanOrEqual(120);
      expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200, 200, 200]);
    } finally {
      await slow.stop();
    }
  });
});
