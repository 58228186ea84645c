import { X509Certificate } from "node:crypto";
import { connect } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEchoOrigin, ECHO_CF_BLOB_HEADER, type Echo, type EchoOrigin } from "../../testing/echo-origin.ts";
import { startEdgeEmulator, type EdgeEmulator } from "./edge-emulator.ts";
import { call } from "../../testing/edge-test-client.ts";
import { createTestCa, type TestCa } from "@edgeca/testenv";

const echo = async (edge: EdgeEmulator, path: string, options: Parameters<typeof call>[2] = {}): Promise<Echo> => {
  const answer = await call(edge, path, options);
  expect(answer.status, answer.body).toBe(200);
  return JSON.parse(answer.body) as Echo;
};

describe("edge emulator", () => {
  let clientCa: TestCa;
  let otherCa: TestCa;
  let edge: EdgeEmulator;
  let origin: EchoOrigin;

  beforeAll(async () => {
    clientCa = await createTestCa("C=US,O=edgeca tests,CN=client CA");
    otherCa = await createTestCa("CN=someone else's CA");
    origin = await startEchoOrigin();
    edge = await startEdgeEmulator({
      clientCaPem: clientCa.certPem,
      maxBodyBytes: 70 * 1024,
      upstream: { origins: [origin], cfBlobHeader: ECHO_CF_BLOB_HEADER },
    });
  });

  afterAll(async () => {
    await edge.close();
    await origin.close();
  });

  it("listens on 127.0.0.1 with a serving certificate that chains to the exposed CA", async () => {
    expect(edge.url).toBe(`https://127.0.0.1:${edge.port}`);
    // The request in `call` fails unless the serving certificate verifies against serverCaPem for 127.0.0.1.
    const answer = await call(edge, "/healthz");
    expect(answer.status).toBe(200);
    expect(new X509Certificate(edge.serverCaPem).ca).toBe(true);
  });

  it("reports no certificate exactly as Cloudflare's placeholder when none is presented", async () => {
    const { cf } = await echo(edge, "/v1/bundle");
    expect(cf.tlsClientAuth).toMatchObject({
      certPresented: "0",
      certVerified: "NONE",
      certRevoked: "0",
      certFingerprintSHA256: "",
      certSubjectDN: "",
      certIssuerSKI: "",
      certNotAfter: "",
    });
  });

  it("reports a certificate from the client CA as SUCCESS with its fingerprints, names, SKIs and dates", async () => {
    const client = await clientCa.issueClient("C=US,O=edgeca tests,OU=shim,CN=cluster-a");
    const { cf } = await echo(edge, "/v1/sign", { client });
    const cert = new X509Certificate(client.certPem);
    const ca = new X509Certificate(clientCa.certPem);
    const auth = cf.tlsClientAuth;
    expect(auth.certPresented).toBe("1");
    expect(auth.certVerified).toBe("SUCCESS");
    expect(auth.certRevoked).toBe("0");
    expect(auth.certFingerprintSHA256).toBe(cert.fingerprint256.replaceAll(":", "").toLowerCase());
    expect(auth.certFingerprintSHA1).toBe(cert.fingerprint.replaceAll(":", "").toLowerCase());
    expect(auth.certSerial).toBe(cert.serialNumber.toUpperCase());
    expect(auth.certIssuerSerial).toBe(ca.serialNumber.toUpperCase());
    expect(auth.certSubjectDNRFC2253).toBe("CN=cluster-a,OU=shim,O=edgeca tests,C=US");
    expect(auth.certSubjectDN).toBe(auth.certSubjectDNRFC2253);
    expect(auth.certIssuerDNRFC2253).toBe("CN=client CA,O=edgeca tests,C=US");
    expect(auth.certSubjectDNLegacy).toBe("/C=US/O=edgeca tests/OU=shim/CN=cluster-a");
    expect(auth.certIssuerDNLegacy).toBe("/C=US/O=edgeca tests/CN=client CA");
    expect(auth.certSKI).toMatch(/^[0-9A-F]{40}$/);
    expect(auth.certIssuerSKI).toMatch(/^[0-9A-F]{40}$/);
    expect(auth.certIssuerSKI).not.toBe(auth.certSKI);
    expect(auth.certNotBefore).toBe(cert.validFrom);
    expect(auth.certNotAfter).toMatch(/^[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d \d{4} GMT$/);
    expect(auth.certRFC9440).toBe(`:${cert.raw.toString("base64")}:`);
  });

  it("gives the client CA's SKI as the issuer SKI, the value a configuration pins", async () => {
    const a = await clientCa.issueClient("CN=a");
    const b = await clientCa.issueClient("CN=b");
    const [first, second] = await Promise.all([echo(edge, "/", { client: a }), echo(edge, "/", { client: b })]);
    expect(first.cf.tlsClientAuth.certIssuerSKI).toBe(second.cf.tlsClientAuth.certIssuerSKI);
    expect(first.cf.tlsClientAuth.certFingerprintSHA256).not.toBe(second.cf.tlsClientAuth.certFingerprintSHA256);
  });

  it("reports a certificate from another CA as presented but FAILED, and still forwards the request", async () => {
    const stranger = await otherCa.issueClient("CN=cluster-a");
    const { cf } = await echo(edge, "/v1/sign", { client: stranger });
    expect(cf.tlsClientAuth.certPresented).toBe("1");
    // OpenSSL's UNABLE_TO_VERIFY_LEAF_SIGNATURE, one of the values workers-types lists.
    expect(cf.tlsClientAuth.certVerified).toBe("FAILED:unable to verify the first certificate");
    expect(cf.tlsClientAuth.certFingerprintSHA256).toMatch(/^[0-9a-f]{64}$/);
  });

  it("reports an expired certificate from the client CA as FAILED:certificate has expired", async () => {
    const day = 24 * 60 * 60 * 1000;
    const expired = await clientCa.issueClient("CN=old", {
      notBefore: new Date(Date.now() - 3 * day),
      notAfter: new Date(Date.now() - day),
    });
    const { cf } = await echo(edge, "/", { client: expired });
    expect(cf.tlsClientAuth.certVerified).toBe("FAILED:certificate has expired");
  });

  it("reports a self-signed certificate that is not the client CA as FAILED with OpenSSL's reason", async () => {
    const { cf } = await echo(edge, "/", { client: otherCa });
    expect(cf.tlsClientAuth.certPresented).toBe("1");
    expect(cf.tlsClientAuth.certVerified).toMatch(/^FAILED:[a-z ]+$/);
  });

  it("forwards method, path with query, headers and body, and adds what Cloudflare adds", async () => {
    const body = JSON.stringify({ hello: "world" });
    const forwarded = await echo(edge, "/v1/sign?x=1", {
      method: "POST",
      body,
      headers: { "content-type": "application/json", "x-custom": "kept", connection: "keep-alive, x-hop", "x-hop": "1", te: "trailers" },
    });
    expect(forwarded.method).toBe("POST");
    expect(forwarded.path).toBe("/v1/sign?x=1");
    expect(forwarded.bodyBytes).toBe(body.length);
    expect(forwarded.headers["content-type"]).toBe("application/json");
    expect(forwarded.headers["x-custom"]).toBe("kept");
    expect(forwarded.headers["x-forwarded-proto"]).toBe("https");
    expect(forwarded.headers["cf-connecting-ip"]).toBe("127.0.0.1");
    // Hop-by-hop, and what the client's Connection header names as such, end at the edge (RFC 9110 §7.6.1).
    expect(forwarded.headers["x-hop"]).toBeUndefined();
    expect(forwarded.headers.te).toBeUndefined();
    expect(forwarded.headers["content-length"]).toBe(String(body.length));
  });

  it("passes bodies up to its cap, so the Worker's own 64 KiB limit is what a client meets", async () => {
    const forwarded = await echo(edge, "/", { method: "POST", body: Buffer.alloc(65 * 1024, 0x61) });
    expect(forwarded.bodyBytes).toBe(65 * 1024);
  });

  it("returns the upstream's status, headers and body unchanged", async () => {
    const answer = await call(edge, "/teapot");
    expect(answer.status).toBe(418);
    expect(answer.headers["x-kettle"]).toBe("on");
    expect(answer.body).toBe("short and stout");
  });

  it("returns a chunked answer of the upstream whole, with its length", async () => {
    const answer = await call(edge, "/chunked");
    expect(answer.status).toBe(200);
    expect(answer.body).toBe("first,second,third");
    expect(answer.headers["content-length"]).toBe("18");
    expect(answer.headers["transfer-encoding"]).toBeUndefined();
  });

  it("answers 502 problem+json naming the cause when the upstream is down", async () => {
    const gone = await startEchoOrigin();
    await gone.close();
    const broken = await startEdgeEmulator({ clientCaPem: clientCa.certPem, upstream: { origins: [gone], cfBlobHeader: ECHO_CF_BLOB_HEADER } });
    try {
      const answer = await call(broken, "/");
      expect(answer.status).toBe(502);
      expect(answer.headers["content-type"]).toBe("application/problem+json");
      expect(JSON.parse(answer.body)).toMatchObject({ status: 502, code: "unavailable", detail: expect.stringContaining("ECONNREFUSED") as unknown });
    } finally {
      await broken.close();
    }
  });

  it("frees its port on close", async () => {
    const short = await startEdgeEmulator({ clientCaPem: clientCa.certPem, upstream: { origins: [origin], cfBlobHeader: ECHO_CF_BLOB_HEADER } });
    await call(short, "/");
    await short.close();
    const refused = await new Promise<string>((resolve) => {
      const socket = connect(short.port, "127.0.0.1");
      socket.on("connect", () => { socket.destroy(); resolve("connected"); });
      socket.on("error", (e: NodeJS.ErrnoException) => { resolve(e.code ?? "error"); });
    });
    expect(refused).toBe("ECONNREFUSED");
  });
});
