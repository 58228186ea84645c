import { X509Certificate } from "node:crypto";
import { request } from "node:https";
import { connect } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEdgeEmulator, type EdgeEmulator, type EdgeRequestCf } from "./edge-emulator.ts";
import { createTestCa, type TestCa, type TestCertificate } from "./test-pki.ts";

interface Echo {
  method: string;
  path: string;
  headers: Record<string, string>;
  bodyBytes: number;
  cf: EdgeRequestCf;
}

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function call(
  edge: EdgeEmulator,
  path: string,
  options: { client?: TestCertificate; method?: string; body?: Buffer | string; headers?: Record<string, string> } = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${edge.url}${path}`,
      {
        method: options.method ?? "GET",
        ca: edge.serverCaPem,
        agent: false,
        headers: options.headers,
        ...(options.client === undefined ? {} : { cert: options.client.certPem, key: options.client.keyPem }),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() });
        });
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(options.body);
  });
}

const echo = async (edge: EdgeEmulator, path: string, options: Parameters<typeof call>[2] = {}): Promise<Echo> => {
  const answer = await call(edge, path, options);
  expect(answer.status).toBe(200);
  return JSON.parse(answer.body) as Echo;
};

describe("edge emulator", () => {
  let clientCa: TestCa;
  let otherCa: TestCa;
  let edge: EdgeEmulator;

  beforeAll(async () => {
    clientCa = await createTestCa("C=US,O=edgeca tests,CN=client CA");
    otherCa = await createTestCa("CN=someone else's CA");
    edge = await startEdgeEmulator({
      clientCaPem: clientCa.certPem,
      maxBodyBytes: 70 * 1024,
      async upstream(req, cf) {
        const url = new URL(req.url);
        const body = await req.arrayBuffer();
        const headers = Object.fromEntries(req.headers);
        if (url.pathname === "/teapot") {
          return new Response("short and stout", { status: 418, headers: { "x-kettle": "on" } });
        }
        const answer: Echo = { method: req.method, path: url.pathname + url.search, headers, bodyBytes: body.byteLength, cf };
        return Response.json(answer);
      },
    });
  });

  afterAll(async () => {
    await edge.close();
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
      headers: { "content-type": "application/json", "x-custom": "kept" },
    });
    expect(forwarded.method).toBe("POST");
    expect(forwarded.path).toBe("/v1/sign?x=1");
    expect(forwarded.bodyBytes).toBe(body.length);
    expect(forwarded.headers["content-type"]).toBe("application/json");
    expect(forwarded.headers["x-custom"]).toBe("kept");
    expect(forwarded.headers["x-forwarded-proto"]).toBe("https");
    expect(forwarded.headers["cf-connecting-ip"]).toBe("127.0.0.1");
    expect(forwarded.headers.connection).toBeUndefined();
  });

  it("passes bodies up to its cap, so the Worker's own 64 KiB limit is what a client meets", async () => {
    const forwarded = await echo(edge, "/", { method: "POST", body: Buffer.alloc(65 * 1024, 0x61) });
    expect(forwarded.bodyBytes).toBe(65 * 1024);
  });

  it("refuses a body over its cap with 413, declared or chunked", async () => {
    const declared = await call(edge, "/", { method: "POST", body: Buffer.alloc(71 * 1024) });
    expect(declared.status).toBe(413);
    const chunked = await new Promise<number>((resolve, reject) => {
      const req = request(`${edge.url}/`, { method: "POST", ca: edge.serverCaPem, agent: false }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on("error", reject);
      for (let i = 0; i < 80; i += 1) req.write(Buffer.alloc(1024));
      req.end();
    });
    expect(chunked).toBe(413);
  });

  it("streams the upstream's status, headers and body back unchanged", async () => {
    const answer = await call(edge, "/teapot");
    expect(answer.status).toBe(418);
    expect(answer.headers["x-kettle"]).toBe("on");
    expect(answer.body).toBe("short and stout");
  });

  it("answers 502 naming the cause when the upstream throws", async () => {
    const broken = await startEdgeEmulator({
      clientCaPem: clientCa.certPem,
      upstream: () => Promise.reject(new Error("workerd is gone")),
    });
    try {
      const answer = await call(broken, "/");
      expect(answer.status).toBe(502);
      expect(answer.body).toContain("workerd is gone");
    } finally {
      await broken.close();
    }
  });

  it("frees its port on close", async () => {
    const short = await startEdgeEmulator({ clientCaPem: clientCa.certPem, upstream: () => Promise.resolve(new Response("ok")) });
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
