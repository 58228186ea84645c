import { mkdtemp, rm, utimes, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TLSSocket } from "node:tls";
import { CertificatesV1Api, KubeConfig } from "@kubernetes/client-node";
import { createServerCertificate } from "@edgeca/edge";
import { createTestCa, type TestCa } from "@edgeca/testenv";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { PooledKubeConfig } from "./pooled-kube-config.ts";
import { settle } from "../test/support/manual-clock.ts";

let server: Server;
let dir: string;
let clientCa: TestCa;
/** Client certificate subjects (CN), one per TLS connection the apiserver accepted. */
const connections: string[] = [];
let requests = 0;

/** Writes a client certificate for `cn` and its key where the kubeconfig points. */
async function writeClientCertificate(cn: string): Promise<void> {
  const client = await clientCa.issueClient(`CN=${cn}`);
  await writeFile(join(dir, "client.pem"), client.certPem);
  await writeFile(join(dir, "client-key.pem"), client.keyPem);
}

/** A kubeconfig for the fake apiserver with the client certificate files (as kubectl would write it). */
function kubeConfig(): KubeConfig {
  const kc = new KubeConfig();
  const { port } = server.address() as AddressInfo;
  kc.loadFromOptions({
    clusters: [{ name: "test", server: `https://127.0.0.1:${port}`, caFile: join(dir, "ca.pem"), skipTLSVerify: false }],
    users: [{ name: "shim", certFile: join(dir, "client.pem"), keyFile: join(dir, "client-key.pem") }],
    contexts: [{ name: "test", cluster: "test", user: "shim" }],
    currentContext: "test",
  });
  return kc;
}

const read = (kc: KubeConfig): Promise<unknown> => kc.makeApiClient(CertificatesV1Api).readCertificateSigningRequest({ name: "a" });

/** `n` calls one after the other, each after the previous connection is free again. */
async function calls(kc: KubeConfig, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    await read(kc);
    await settle();
  }
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "edgeca-pooled-kube-config-"));
  const identity = await createServerCertificate();
  clientCa = await createTestCa("CN=test apiserver client CA");
  await writeFile(join(dir, "ca.pem"), identity.caPem);
  await writeClientCertificate("shim-1");
  // A stand-in for kube-apiserver on loopback that counts TLS handshakes and answers every GET with a CSR.
  server = createServer({ key: identity.keyPem, cert: identity.certPem, ca: clientCa.certPem, requestCert: true, rejectUnauthorized: true }, (_req, res) => {
    requests++;
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ apiVersion: "certificates.k8s.io/v1", kind: "CertificateSigningRequest", metadata: { name: "a" }, spec: { request: "", signerName: "example.com/foo" } }));
  });
  server.on("secureConnection", (socket: TLSSocket) => {
    connections.push(String(socket.getPeerCertificate().subject.CN));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
});

beforeEach(async () => {
  connections.length = 0;
  requests = 0;
  await writeClientCertificate("shim-1");
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  await rm(dir, { recursive: true, force: true });
});

describe("PooledKubeConfig", () => {
  it("the library alone opens a TLS connection per call (what the pool is for)", async () => {
    const kc = kubeConfig();
    await calls(kc, 4);
    expect(requests).toBe(4);
    expect(connections).toHaveLength(4);
  });

  it("sends calls from different API clients over one kept-alive connection", async () => {
    const kc = PooledKubeConfig.from(kubeConfig());
    await read(kc);
    await settle();
    await kc.makeApiClient(CertificatesV1Api).readCertificateSigningRequest({ name: "a" });
    expect(requests).toBe(2);
    expect(connections).toEqual(["shim-1"]);
    await kc.close();
  });

  it("back to back, a few connections serve many calls", async () => {
    const kc = PooledKubeConfig.from(kubeConfig());
    for (let i = 0; i < 8; i++) await read(kc);
    expect(requests).toBe(8);
    // undici hands a connection back a moment after its answer is read, so a call at once may open a second.
    expect(connections.length).toBeLessThanOrEqual(2);
    await kc.close();
  });

  it("opens a new pool, with the new certificate, when the certificate file changes", async () => {
    const kc = PooledKubeConfig.from(kubeConfig());
    await read(kc);
    await writeClientCertificate("shim-2");
    await calls(kc, 2);
    expect(connections).toEqual(["shim-1", "shim-2"]);
    await kc.close();
  });

  it("a touched certificate file alone is enough for a new pool (the key is compared by file time)", async () => {
    const kc = PooledKubeConfig.from(kubeConfig());
    await read(kc);
    const later = new Date(Date.now() + 10_000);
    await utimes(join(dir, "client.pem"), later, later);
    await calls(kc, 2);
    expect(connections).toEqual(["shim-1", "shim-1"]);
    await kc.close();
  });

  it("close() ends the pool; a later call opens a new one", async () => {
    const kc = PooledKubeConfig.from(kubeConfig());
    await read(kc);
    await kc.close();
    await read(kc);
    expect(connections).toEqual(["shim-1", "shim-1"]);
    await kc.close();
  });

  it("from() copies a KubeConfig's clusters, users and context, and keeps a pooled one as it is", () => {
    const plain = kubeConfig();
    const pooled = PooledKubeConfig.from(plain);
    expect(pooled.getCurrentCluster()).toEqual(plain.getCurrentCluster());
    expect(pooled.getCurrentUser()).toEqual(plain.getCurrentUser());
    expect(PooledKubeConfig.from(pooled)).toBe(pooled);
  });
});
