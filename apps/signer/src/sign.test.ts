import { describe, expect, it } from "vitest";
import { decodePemBlocks, parseCertificateDer, SignResponse, MAX_BODY_BYTES } from "@edgeca/shared";
import worker from "./index.ts";
import { call, envFor, fx, problemCode, signAsPlain, signRequest, verdict } from "../test/support/client.ts";

async function issued(res: Response): Promise<SignResponse> {
  expect(res.status).toBe(200);
  return SignResponse.parse(await res.json());
}

describe("POST /v1/sign: issuance", () => {
  it.each(["workloadP256", "workloadP384", "workloadRsa2048"] as const)("issues for an Istio-shaped %s CSR", async (name) => {
    const answer = await issued(await signAsPlain(signRequest(fx.csrs[name])));
    const [leaf, issuer, ...rest] = decodePemBlocks(answer.certificateChain);
    expect(rest).toEqual([]);
    expect(leaf).toBeDefined();
    expect(issuer).toBeDefined();
    if (leaf === undefined || issuer === undefined) return;
    const cert = parseCertificateDer(leaf);
    expect(cert.serialNumber).toBe(answer.serialNumber);
    expect(cert.isCa).toBe(false);
    expect(cert.issuer).toEqual(parseCertificateDer(issuer).subject);
  });

  it("returns the chain without the root and nothing after the last block", async () => {
    const answer = await issued(await signAsPlain(signRequest(fx.csrs.workloadP256)));
    expect(answer.certificateChain).not.toContain(fx.roots.a.trim());
    expect(answer.certificateChain.endsWith("-----END CERTIFICATE-----\n")).toBe(true);
  });

  it("issues a control-plane certificate for a configured DNS name", async () => {
    const answer = await issued(await signAsPlain(signRequest(fx.csrs.controlPlane, { usages: ["digital signature", "key encipherment", "server auth"] })));
    expect(answer.certificateChain).toContain("BEGIN CERTIFICATE");
  });
});

describe("POST /v1/sign: lifetime", () => {
  const lifetime = (a: SignResponse) => (Date.parse(a.notAfter) - Date.parse(a.notBefore)) / 1000 - 300;

  it("backdates NotBefore by five minutes and honours the requested lifetime", async () => {
    const before = Date.now();
    const a = await issued(await signAsPlain(signRequest(fx.csrs.workloadP256, { expirationSeconds: 3600 })));
    const after = Date.now();
    expect(Date.parse(a.notBefore)).toBeGreaterThanOrEqual(before - 301_000);
    expect(Date.parse(a.notBefore)).toBeLessThanOrEqual(after - 300_000);
    expect(lifetime(a)).toBe(3600);
  });

  it("uses 24 h when no lifetime is requested", async () => {
    const request: Partial<ReturnType<typeof signRequest>> = signRequest(fx.csrs.workloadP256);
    delete request.expirationSeconds;
    expect(lifetime(await issued(await signAsPlain(request)))).toBe(86_400);
  });

  it("clamps istiod's 10-year request to the 7-day maximum", async () => {
    expect(lifetime(await issued(await signAsPlain(signRequest(fx.csrs.controlPlane, { expirationSeconds: 315_360_000 }))))).toBe(604_800);
  });

  it("raises a lifetime under 600 s to 600 s", async () => {
    expect(lifetime(await issued(await signAsPlain(signRequest(fx.csrs.workloadP256, { expirationSeconds: 60 }))))).toBe(600);
  });
});

describe("POST /v1/sign: refusals", () => {
  it.each([
    ["RSA-1024 key", "workloadRsa1024", /RSA-1024/],
    ["P-521 key", "workloadP521", /P-521/],
    ["SHA-1 signature", "workloadSha1", /SHA-256/],
    ["RSA exponent 3", "workloadRsaExponent3", /exponent 3/],
    ["foreign trust domain", "workloadWrongTrustDomain", /trust domain "evil.example"/],
    ["malformed workload ID", "workloadBadSpiffe", /workload SPIFFE ID/],
    ["two URI SANs", "twoUris", /exactly one URI SAN/],
    ["an email SAN", "email", /allowed; found 1 email$/],
    ["no SAN", "noSan", /no subject alternative name/],
    ["a CA request", "caRequest", /CA certificate/],
    ["a DNS name outside the control-plane patterns", "controlPlaneOther", /evil.example.com/],
    ["an upper-case namespace", "namespaceUpperCase", /^csr: namespace "Default" is not a DNS label \(RFC 1123: lowercase alphanumerics and '-', starting and ending alphanumeric, at most 63 characters\)$/],
    ["a dotted namespace", "namespaceDotted", /namespace "kube-system.evil" is not a DNS label/],
    ["a 2,000-character namespace", "namespaceLong", /namespace "a{80}…" is not a DNS label/],
    ["an upper-case service account", "serviceAccountUpperCase", /service account "Web" is not a DNS subdomain \(RFC 1123: .*at most 253 characters\)/],
  ] as const)("refuses %s with 422 policy_denied", async (_, csr, detail) => {
    const res = await signAsPlain(signRequest(fx.csrs[csr]));
    expect(res.status).toBe(422);
    const problem = await res.json<{ code: string; detail: string }>();
    expect(problem.code).toBe("policy_denied");
    expect(problem.detail).toMatch(detail);
  });

  it("refuses a requestor that is not allowed with 422", async () => {
    const res = await signAsPlain(signRequest(fx.csrs.workloadP256, { requestor: { username: "system:serviceaccount:default:attacker" } }));
    expect(res.status).toBe(422);
    expect(await res.text()).toContain("attacker");
  });

  it.each([["cert sign"], ["crl sign"], ["code signing"], ["any"], ["bogus"]])("refuses usage %s with 422", async (usage) => {
    const res = await signAsPlain(signRequest(fx.csrs.workloadP256, { usages: ["digital signature", usage] }));
    expect(res.status).toBe(422);
  });

  it("refuses a CSR whose proof of possession fails with 400", async () => {
    const res = await signAsPlain(signRequest(fx.csrs.badSignature));
    expect(res.status).toBe(400);
    expect(await res.text()).toContain("proof-of-possession");
  });

  it.each([
    ["two CSR blocks", () => fx.csrs.workloadP256 + fx.csrs.workloadP256],
    ["text before the block", () => `hello\n${fx.csrs.workloadP256}`],
    ["a certificate instead of a CSR", () => fx.roots.a],
    ["garbage", () => "not a csr"],
  ])("refuses %s with 400", async (_, csr) => {
    const res = await signAsPlain(signRequest(csr()));
    expect(res.status).toBe(400);
    expect(await problemCode(res)).toBe("invalid_request");
  });

  it("refuses invalid JSON with 400 saying where parsing stopped", async () => {
    const res = await call("/v1/sign", { body: "{", headers: { "content-type": "application/json" }, cf: verdict(fx.fingerprints.plain) });
    expect(res.status).toBe(400);
    expect((await res.json<{ detail: string }>()).detail).toMatch(/^body is not valid JSON: .*JSON/);
  });

  it("refuses a body that misses fields with 400 naming them", async () => {
    const res = await signAsPlain({ signerName: fx.signerName });
    expect(res.status).toBe(400);
    expect(await res.text()).toContain("csr");
  });

  it("refuses a non-JSON media type with 415", async () => {
    const res = await call("/v1/sign", { body: "csr=1", headers: { "content-type": "application/x-www-form-urlencoded" }, cf: verdict(fx.fingerprints.plain) });
    expect(res.status).toBe(415);
    expect(await problemCode(res)).toBe("unsupported_media_type");
  });

  it("refuses a body over 64 KiB with 413, whatever Content-Length says", async () => {
    const big = JSON.stringify({ pad: "x".repeat(MAX_BODY_BYTES) });
    const res = await call("/v1/sign", { body: big, headers: { "content-type": "application/json" }, cf: verdict(fx.fingerprints.plain) });
    expect(res.status).toBe(413);
    expect(await problemCode(res)).toBe("payload_too_large");
    // A streamed body has no Content-Length; the limit is counted while reading.
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < 20; i++) controller.enqueue(new TextEncoder().encode("x".repeat(4096)));
        controller.close();
      },
    });
    const streamed = await worker.fetch(
      new Request("https://signer.example.com/v1/sign", {
        method: "POST",
        body: stream,
        headers: { "content-type": "application/json" },
        cf: { tlsClientAuth: verdict(fx.fingerprints.plain) },
      }),
      envFor("a"),
    );
    expect(streamed.status).toBe(413);
  });

  it("never answers 500 to a corpus of malformed bodies", async () => {
    const bodies: unknown[] = [null, [], 42, "x", { csr: 1 }, { ...signRequest("x"), usages: "all" }, { ...signRequest(fx.csrs.workloadP256), expirationSeconds: -1 }, { ...signRequest(fx.csrs.workloadP256), requestor: {} }];
    for (const b of bodies) {
      const res = await signAsPlain(b);
      expect(res.status, JSON.stringify(b)).toBeLessThan(500);
    }
  });
});
