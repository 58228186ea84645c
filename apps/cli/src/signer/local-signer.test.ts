/**
 * `edgeca init` + the local signer, checked from outside as an operator or the shim sees it: a plain Node
 * HTTPS client with and without the client certificate (and with one from another CA), openssl for the
 * chain and the certificate profile. The Worker is the real bundle in workerd; nothing is mocked.
 */
import { execFileSync } from "node:child_process";
import { X509Certificate } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { createTestCa, issueClientCertificate, type TestCertificate } from "@edgeca/testenv";
import { Problem, SignResponse } from "@edgeca/shared";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createIstioCsr, type IstioCsrOptions } from "@edgeca/testenv";
import { parseCertificates, verifyChain } from "../verify/index.ts";
import { initMaterial } from "./init-material.ts";
import { startLocalSigner, type LocalSigner } from "@edgeca/edge";
import { postJson, signerRequest, type SignerAnswer } from "./signer-request.ts";

const SIGNER_NAME = "example.com/foo";
const USAGES = ["digital signature", "key encipherment", "server auth", "client auth"];
const ISTIOD = "system:serviceaccount:istio-system:istiod";
const ID = "spiffe://cluster.local/ns/default/sa/bookinfo-productpage";

describe("edgeca init + local signer, from outside", () => {
  let dir: string;
  let signer: LocalSigner;
  let client: TestCertificate;
  let stranger: TestCertificate;
  let scratch: string;

  beforeAll(async () => {
    dir = await initMaterial();
    signer = await startLocalSigner({ dir });
    client = { certPem: readFileSync(join(dir, "client-cert.pem"), "utf8"), keyPem: readFileSync(join(dir, "client-key.pem"), "utf8") };
    stranger = await (await createTestCa("CN=not the client CA")).issueClient("CN=shim");
    scratch = mkdtempSync(join(tmpdir(), "edgeca-e2e-"));
  });

  afterAll(async () => {
    await signer.stop();
    rmSync(dirname(dir), { recursive: true, force: true });
    rmSync(scratch, { recursive: true, force: true });
  });

  /** POST /v1/sign presenting `as` (default: init's client certificate; "none": no certificate). */
  const request = (json: unknown, as: TestCertificate | "none" = client) =>
    postJson({ url: signer.url, path: "/v1/sign", caPem: signer.serverCaPem, json, ...(as === "none" ? {} : { client: as }) });

  const signBody = (csr: string, overrides: Record<string, unknown> = {}) => ({
    signerName: SIGNER_NAME,
    csr,
    usages: USAGES,
    expirationSeconds: 86_400,
    requestor: { username: ISTIOD },
    ...overrides,
  });

  const csrFor = async (options: Partial<IstioCsrOptions> = {}) => (await createIstioCsr({ keyType: "P-256", uris: [ID], ...options })).csrPem;

  /** Asserts an RFC 9457 problem answer with the status and code docs/signer-api.md "Problems" gives. */
  function expectProblem(answer: SignerAnswer, status: number, code: string): void {
    expect(answer.status, answer.body).toBe(status);
    expect(answer.contentType).toContain("application/problem+json");
    const problem = Problem.parse(JSON.parse(answer.body));
    expect(problem.code).toBe(code);
    expect(problem.status).toBe(status);
  }

  const openssl = (...args: string[]): string => execFileSync("openssl", args, { encoding: "utf8" });

  it("answers /healthz without a client certificate", async () => {
    const answer = await signerRequest({ url: signer.url, path: "/healthz", caPem: signer.serverCaPem });
    expect(answer.status).toBe(200);
  });

  it("answers /readyz 200: configuration and keys from init load", async () => {
    const answer = await signerRequest({ url: signer.url, path: "/readyz", caPem: signer.serverCaPem });
    expect(answer.status, answer.body).toBe(200);
  });

  it("refuses /v1/bundle and /v1/sign without a client certificate (401)", async () => {
    expectProblem(await signerRequest({ url: signer.url, path: "/v1/bundle", caPem: signer.serverCaPem }), 401, "unauthenticated");
    expectProblem(await request(signBody(await csrFor()), "none"), 401, "unauthenticated");
  });

  it("refuses a client certificate from another CA (401)", async () => {
    expectProblem(await request(signBody(await csrFor()), stranger), 401, "unauthenticated");
  });

  it("accepts another certificate from the client CA (the issuer SKI init pinned), but not once it has expired", async () => {
    const fromClientCa = (window?: { notBefore: Date; notAfter: Date }) =>
      issueClientCertificate({
        caCertPem: readFileSync(join(dir, "client-ca-cert.pem"), "utf8"),
        caKey: readFileSync(join(dir, "offline", "client-ca-key.pem"), "utf8"),
        subject: "CN=second shim replica",
        ...(window === undefined ? {} : { window }),
      });
    const bundle = (as: TestCertificate) => signerRequest({ url: signer.url, path: "/v1/bundle", caPem: signer.serverCaPem, client: as });
    expect((await bundle(await fromClientCa())).status).toBe(200);
    const day = 86_400_000;
    // Same CA, same pinned SKI: only the edge's verdict (certVerified "FAILED:certificate has expired") refuses it.
    const expired = await fromClientCa({ notBefore: new Date(Date.now() - 3 * day), notAfter: new Date(Date.now() - day) });
    expectProblem(await bundle(expired), 401, "unauthenticated");
  });

  it("serves the trust bundle: the root init wrote", async () => {
    const answer = await signerRequest({ url: signer.url, path: "/v1/bundle", caPem: signer.serverCaPem, client });
    expect(answer.status).toBe(200);
    const bundle = JSON.parse(answer.body) as { roots: string[] };
    const root = new X509Certificate(readFileSync(join(dir, "root-cert.pem")));
    expect(bundle.roots.map((r) => new X509Certificate(r).fingerprint256)).toContain(root.fingerprint256);
  });

  for (const keyType of ["RSA-2048", "P-256", "P-384"] as const) {
    it(`issues a workload certificate for a ${keyType} CSR that openssl verifies with the workload profile`, async () => {
      const answer = await request(signBody(await csrFor({ keyType })));
      expect(answer.status, answer.body).toBe(200);
      const issued = SignResponse.parse(JSON.parse(answer.body));
      // Leaf then intermediates, only CERTIFICATE blocks, nothing after the last one, never the root.
      expect(issued.certificateChain.trimEnd().endsWith("-----END CERTIFICATE-----")).toBe(true);
      expect(issued.certificateChain.match(/-----BEGIN ([A-Z ]+)-----/g)?.every((l) => l === "-----BEGIN CERTIFICATE-----")).toBe(true);
      const blocks = issued.certificateChain.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
      const root = new X509Certificate(readFileSync(join(dir, "root-cert.pem")));
      expect(blocks.map((b) => new X509Certificate(b).fingerprint256)).not.toContain(root.fingerprint256);
      const [leafPem = "", issuerPem = ""] = blocks;
      const leafPath = join(scratch, `leaf-${keyType}.pem`);
      const chainPath = join(scratch, `chain-${keyType}.pem`);
      writeFileSync(leafPath, leafPem);
      writeFileSync(chainPath, issued.certificateChain);
      expect(openssl("verify", "-CAfile", join(dir, "root-cert.pem"), "-untrusted", chainPath, leafPath)).toContain(": OK");
      // edgeca verify's checks agree with openssl on what the real signer returns.
      const verification = verifyChain({
        chain: parseCertificates(issued.certificateChain, "certificateChain"),
        roots: parseCertificates(readFileSync(join(dir, "root-cert.pem"), "utf8"), "root-cert.pem"),
        spiffeId: ID,
      });
      expect(verification.checks.filter((c) => c.result !== "pass")).toEqual([]);

      const text = openssl("x509", "-in", leafPath, "-noout", "-text");
      expect(text).toMatch(/Subject: *\n/);
      expect(text).toMatch(/X509v3 Subject Alternative Name: critical\n\s+URI:spiffe:\/\/cluster\.local\/ns\/default\/sa\/bookinfo-productpage\n/);
      expect(text).toMatch(/X509v3 Key Usage: critical\n\s+Digital Signature, Key Encipherment\n/);
      expect(text).toMatch(/X509v3 Extended Key Usage: *\n\s+TLS Web Server Authentication, TLS Web Client Authentication\n/);
      expect(text).toMatch(/X509v3 Basic Constraints: critical\n\s+CA:FALSE\n/);
      expect(text).toContain("X509v3 Subject Key Identifier");
      const aki = /X509v3 Authority Key Identifier: *\n\s+(?:keyid:)?([0-9A-F:]+)/.exec(text)?.[1];
      const issuerSki = /\n\s+([0-9A-F:]+)/.exec(execFileSync("openssl", ["x509", "-noout", "-ext", "subjectKeyIdentifier"], { input: issuerPem, encoding: "utf8" }))?.[1];
      expect(aki).toBeDefined();
      expect(aki).toBe(issuerSki);

      const leaf = new X509Certificate(leafPem);
      const lifetime = leaf.validToDate.getTime() - leaf.validFromDate.getTime();
      // 24 h asked for, NotBefore backdated by 5 min (docs/certificate-profile.md "Lifetime").
      expect(lifetime).toBe(86_400_000 + 300_000);
      expect(Math.abs(leaf.validFromDate.getTime() - (Date.now() - 300_000))).toBeLessThan(120_000);
      expect(new Date(issued.notAfter).getTime()).toBe(leaf.validToDate.getTime());
      expect(new Date(issued.notBefore).getTime()).toBe(leaf.validFromDate.getTime());
    });
  }

  it("refuses bad JSON (400 invalid_request)", async () => {
    const answer = await signerRequest({
      url: signer.url,
      path: "/v1/sign",
      method: "POST",
      caPem: signer.serverCaPem,
      client,
      headers: { "content-type": "application/json" },
      body: "{\"signerName\": ",
    });
    expectProblem(answer, 400, "invalid_request");
  });

  it("refuses two PEM blocks and trailing bytes (400 invalid_request)", async () => {
    const csr = await csrFor();
    expectProblem(await request(signBody(csr + (await csrFor()))), 400, "invalid_request");
    expectProblem(await request(signBody(`${csr}trailing text\n`)), 400, "invalid_request");
    const b64 = /-----BEGIN CERTIFICATE REQUEST-----([\s\S]+)-----END CERTIFICATE REQUEST-----/.exec(csr)?.[1]?.replace(/\s+/g, "") ?? "";
    const der = Buffer.concat([Buffer.from(b64, "base64"), Buffer.from([0x00, 0x00])]);
    const padded = `-----BEGIN CERTIFICATE REQUEST-----\n${der.toString("base64").replace(/.{64}/g, "$&\n")}\n-----END CERTIFICATE REQUEST-----\n`;
    expectProblem(await request(signBody(padded)), 400, "invalid_request");
  });

  it("refuses a SPIFFE ID of another trust domain (422 policy_denied)", async () => {
    expectProblem(await request(signBody(await csrFor({ uris: ["spiffe://evil.example/ns/default/sa/x"] }))), 422, "policy_denied");
  });

  it("refuses a DNS SAN on a workload certificate (422 policy_denied)", async () => {
    expectProblem(await request(signBody(await csrFor({ dnsNames: ["productpage.default.svc"] }))), 422, "policy_denied");
  });

  it("refuses a CA request and CA usages (422 policy_denied)", async () => {
    expectProblem(await request(signBody(await csrFor({ requestCa: true }))), 422, "policy_denied");
    expectProblem(await request(signBody(await csrFor(), { usages: [...USAGES, "cert sign"] })), 422, "policy_denied");
  });

  it("refuses a signer name this cluster may not use (403 forbidden)", async () => {
    expectProblem(await request(signBody(await csrFor(), { signerName: "example.com/unknown" })), 403, "forbidden");
  });

  it("refuses a requestor that is not allowed (422 policy_denied)", async () => {
    expectProblem(await request(signBody(await csrFor(), { requestor: { username: "system:serviceaccount:default:mallory" } })), 422, "policy_denied");
  });

  it("refuses a 65 KiB body (413 payload_too_large)", async () => {
    const answer = await signerRequest({
      url: signer.url,
      path: "/v1/sign",
      method: "POST",
      caPem: signer.serverCaPem,
      client,
      headers: { "content-type": "application/json" },
      body: JSON.stringify(signBody("x".repeat(65 * 1024))),
    });
    expectProblem(answer, 413, "payload_too_large");
  });

  it("refuses text/plain (415 unsupported_media_type)", async () => {
    const answer = await signerRequest({
      url: signer.url,
      path: "/v1/sign",
      method: "POST",
      caPem: signer.serverCaPem,
      client,
      headers: { "content-type": "text/plain" },
      body: JSON.stringify(signBody(await csrFor())),
    });
    expectProblem(answer, 415, "unsupported_media_type");
  });
});
