/** The cf blob is kept per certificate across connections, and never handed to a connection that presented another. */
import { X509Certificate } from "node:crypto";
import { once } from "node:events";
import type { AddressInfo } from "node:net";
import { connect, createServer, type TLSSocket } from "node:tls";
import { createTestCa, type TestCertificate } from "@edgeca/testenv";
import { describe, expect, it } from "vitest";
import { CfBlobs, type EdgeRequestCf } from "./cf-blob.ts";
import { createServerCertificate } from "./server-certificate.ts";

describe("CfBlobs", () => {
  it("describes a certificate once for all the connections that present it, and each other certificate and verdict apart", async () => {
    const clientCa = await createTestCa("CN=client CA");
    const otherCa = await createTestCa("CN=other CA");
    const shim = await clientCa.issueClient("CN=shim");
    const other = await clientCa.issueClient("CN=other shim");
    const stranger = await otherCa.issueClient("CN=shim");
    const identity = await createServerCertificate();
    const blobs = new CfBlobs();
    const server = createServer({ key: identity.keyPem, cert: identity.certPem, ca: clientCa.certPem, requestCert: true, rejectUnauthorized: false }, (socket: TLSSocket) => {
      socket.end(blobs.for(socket));
    });
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    const port = (server.address() as AddressInfo).port;
    const cfOf = (client?: TestCertificate): Promise<EdgeRequestCf> =>
      new Promise((resolve, reject) => {
        const socket = connect({ host: "127.0.0.1", port, ca: identity.caPem, servername: "localhost", ...(client === undefined ? {} : { cert: client.certPem, key: client.keyPem }) });
        let text = "";
        socket.setEncoding("utf8").on("data", (s: string) => (text += s)).on("end", () => { resolve(JSON.parse(text) as EdgeRequestCf); }).on("error", reject);
      });
    const fingerprint = (c: TestCertificate): string => new X509Certificate(c.certPem).fingerprint256.replaceAll(":", "").toLowerCase();
    try {
      const first = await cfOf(shim);
      expect(first.tlsClientAuth).toMatchObject({ certVerified: "SUCCESS", certFingerprintSHA256: fingerprint(shim) });
      expect(await cfOf(shim)).toEqual(first);
      expect(blobs.described).toBe(1);
      expect((await cfOf(other)).tlsClientAuth).toMatchObject({ certVerified: "SUCCESS", certFingerprintSHA256: fingerprint(other) });
      const failed = (await cfOf(stranger)).tlsClientAuth;
      expect(failed.certVerified).toMatch(/^FAILED:/);
      expect(failed.certFingerprintSHA256).toBe(fingerprint(stranger));
      expect((await cfOf()).tlsClientAuth).toMatchObject({ certPresented: "0", certVerified: "NONE" });
      expect(blobs.described).toBe(3);
      expect(await cfOf(shim)).toEqual(first);
      expect(blobs.described).toBe(3);
    } finally {
      server.close();
    }
  });
});
