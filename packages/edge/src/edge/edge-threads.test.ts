import { connect } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEchoOrigin, ECHO_CF_BLOB_HEADER, type Echo, type EchoOrigin } from "../../testing/echo-origin.ts";
import { edgeThreadExecArgv, startEdgeThreads } from "./edge-threads.ts";
import { call } from "../../testing/edge-test-client.ts";
import { createTestCa, type TestCa } from "@edgeca/testenv";

describe("the edge on worker threads", () => {
  let clientCa: TestCa;
  let origin: EchoOrigin;

  beforeAll(async () => {
    clientCa = await createTestCa("CN=client CA");
    origin = await startEchoOrigin();
  });

  afterAll(async () => {
    await origin.close();
  });

  it("serves from two threads on one port, with the verdict and the edge's refusals, and frees the port on close", async () => {
    const edge = await startEdgeThreads({ clientCaPem: clientCa.certPem, upstream: { origins: [origin], cfBlobHeader: ECHO_CF_BLOB_HEADER } }, 2);
    const client = await clientCa.issueClient("CN=shim");
    const answers = await Promise.all(Array.from({ length: 8 }, () => call(edge, "/v1/sign", { method: "POST", body: "{}", client })));
    for (const answer of answers) {
      expect(answer.status, answer.body).toBe(200);
      expect((JSON.parse(answer.body) as Echo).cf.tlsClientAuth.certVerified).toBe("SUCCESS");
    }
    expect((await call(edge, "/", { method: "TRACE" })).status).toBe(405);
    await edge.close();
    const refused = await new Promise<string>((resolve) => {
      const socket = connect(edge.port, "127.0.0.1");
      socket.on("connect", () => { socket.destroy(); resolve("connected"); });
      socket.on("error", (e: NodeJS.ErrnoException) => { resolve(e.code ?? "error"); });
    });
    expect(refused).toBe("ECONNREFUSED");
  });

  it("refuses a thread count outside 1–16", async () => {
    await expect(startEdgeThreads({ clientCaPem: clientCa.certPem, upstream: { origins: [origin], cfBlobHeader: ECHO_CF_BLOB_HEADER } }, 0)).rejects.toThrow(/from 1 to 16, got 0/);
  });

  it("starts its threads without a tsx loader when Node strips types itself, keeping every other option", () => {
    const argv = ["--import", "tsx", "--cpu-prof", "--require=/repo/node_modules/tsx/dist/preflight.cjs", "--import", "./other.mjs", "--loader", "tsx/esm", "--max-old-space-size=512"];
    expect(edgeThreadExecArgv(argv, true)).toEqual(["--cpu-prof", "--import", "./other.mjs", "--max-old-space-size=512"]);
    expect(edgeThreadExecArgv(argv, false)).toEqual(argv);
    expect(edgeThreadExecArgv(["--import", "./tsxfoo.mjs"], true)).toEqual(["--import", "./tsxfoo.mjs"]);
  });
});
