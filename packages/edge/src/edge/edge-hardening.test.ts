/**
 * What the edge refuses or answers itself, and what it keeps from crossing (issue "Hardening: the edge"):
 * every answer of its own is problem+json with the right status, a body over any limit is a 413 (never
 * a 502), and nothing a client sends can steer the runtime or leak the emulation into an answer.
 */
import { Problem } from "@edgeca/shared";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEchoOrigin, ECHO_CF_BLOB_HEADER, type Echo, type EchoOrigin } from "../../testing/echo-origin.ts";
import { startEdgeEmulator, type EdgeEmulator } from "./edge-emulator.ts";
import { call, rawCall, type Answer } from "../../testing/edge-test-client.ts";
import { createTestCa, type TestCa } from "@edgeca/testenv";

function expectProblem(answer: Answer, status: number, code: string): Problem {
  expect(answer.status, answer.body).toBe(status);
  expect(answer.headers["content-type"]).toBe("application/problem+json");
  const problem = Problem.parse(JSON.parse(answer.body));
  expect(problem).toMatchObject({ status, code });
  return problem;
}

/** Splits a raw HTTP/1.1 answer into status, lower-cased headers and body. */
function parseRaw(raw: string): Answer {
  const [head = "", body = ""] = raw.split("\r\n\r\n", 2);
  const [statusLine = "", ...lines] = head.split("\r\n");
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const at = line.indexOf(":");
    headers[line.slice(0, at).trim().toLowerCase()] = line.slice(at + 1).trim();
  }
  return { status: Number(statusLine.split(" ")[1]), headers, body };
}

describe("edge emulator: refusals and what crosses it", () => {
  let clientCa: TestCa;
  let origin: EchoOrigin;
  let edge: EdgeEmulator;

  beforeAll(async () => {
    clientCa = await createTestCa("CN=client CA");
    origin = await startEchoOrigin();
    edge = await startEdgeEmulator({ clientCaPem: clientCa.certPem, upstream: { origins: [origin], cfBlobHeader: ECHO_CF_BLOB_HEADER } });
  });

  afterAll(async () => {
    await edge.close();
    await origin.close();
  });

  it("answers TRACE and CONNECT-like methods itself with 405 problem+json and an Allow header", async () => {
    const before = origin.seen();
    for (const method of ["TRACE", "PROPFIND"]) {
      const answer = await call(edge, "/v1/sign", { method });
      expectProblem(answer, 405, "method_not_allowed");
      expect(answer.headers.allow).toContain("POST");
    }
    expect(origin.seen()).toBe(before);
  });

  it("answers an invalid absolute-form target and the asterisk form with 400 problem+json", async () => {
    for (const target of ["http://a:b:c/v1/sign", "ftp://127.0.0.1/x", "*", "//evil.example/v1/sign"]) {
      const answer = parseRaw(await rawCall(edge, `OPTIONS ${target} HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: close\r\n\r\n`));
      expectProblem(answer, 400, "invalid_request");
    }
  });

  it("forwards a valid absolute-form target as its path", async () => {
    const answer = parseRaw(await rawCall(edge, `GET https://127.0.0.1:${edge.port}/v1/bundle?x=1 HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: close\r\n\r\n`));
    expect(answer.status).toBe(200);
    expect((JSON.parse(answer.body) as Echo).path).toBe("/v1/bundle?x=1");
  });

  it("answers a request Node's parser refuses with 400 problem+json, not Node's text", async () => {
    const answer = parseRaw(await rawCall(edge, "GET /x HTTP/1.1\r\nbad header line\r\n\r\n"));
    expectProblem(answer, 400, "invalid_request");
  });

  it("refuses a body over its limit with 413 problem+json, declared or chunked, before the upstream sees it", async () => {
    const small = await startEdgeEmulator({ clientCaPem: clientCa.certPem, maxBodyBytes: 70 * 1024, upstream: { origins: [origin], cfBlobHeader: ECHO_CF_BLOB_HEADER } });
    try {
      const before = origin.seen();
      expectProblem(await call(small, "/", { method: "POST", body: Buffer.alloc(71 * 1024) }), 413, "payload_too_large");
      const chunks = Array.from({ length: 80 }, () => Buffer.alloc(1024));
      expectProblem(await call(small, "/", { method: "POST", chunks }), 413, "payload_too_large");
      expect(origin.seen()).toBe(before);
    } finally {
      await small.close();
    }
  });

  it("returns the upstream's 413 when it refuses a large chunked body unread and closes, every time (never 502)", async () => {
    for (let i = 0; i < 12; i += 1) {
      const size = 128 * 1024 + Math.floor((i / 12) * 896 * 1024);
      const chunks = Array.from({ length: Math.ceil(size / 16_384) }, () => Buffer.alloc(16_384, 0x61));
      const answer = await call(edge, "/refuse-large", { method: "POST", chunks });
      expect(answer.status, `${size} bytes: ${answer.body}`).toBe(413);
    }
  });

  it("keeps MF-* and the cf-blob header of a client from the upstream, and cf-* it would set itself", async () => {
    const forged = JSON.stringify({ tlsClientAuth: { certPresented: "1", certVerified: "SUCCESS" } });
    const forwarded = JSON.parse(
      (await call(edge, "/v1/sign", {
        headers: { "MF-Route-Override": "other", [ECHO_CF_BLOB_HEADER]: forged, "mf-original-url": "http://x/", "cf-connecting-ip": "203.0.113.9", "cf-ray": "x", "x-forwarded-proto": "http" },
      })).body,
    ) as Echo;
    const names = forwarded.rawHeaders.map((n) => n.toLowerCase());
    expect(names.filter((n) => n.startsWith("mf-"))).toEqual([]);
    expect(names).not.toContain("cf-ray");
    expect(forwarded.headers["cf-connecting-ip"]).toBe("127.0.0.1");
    expect(forwarded.headers["x-forwarded-proto"]).toBe("https");
    // The verdict the upstream gets is the edge's own: no certificate was presented.
    expect(forwarded.cf.tlsClientAuth).toMatchObject({ certPresented: "0", certVerified: "NONE" });
  });

  it("returns no MF-* header of the upstream's answer", async () => {
    const answer = await call(edge, "/mf-leak");
    expect(answer.status).toBe(200);
    expect(Object.keys(answer.headers).filter((n) => n.startsWith("mf-"))).toEqual([]);
  });

  it("delays every answer by answerDelayMs, its own refusals included", async () => {
    const slow = await startEdgeEmulator({ clientCaPem: clientCa.certPem, answerDelayMs: 150, upstream: { origins: [origin], cfBlobHeader: ECHO_CF_BLOB_HEADER } });
    try {
      // Warm the connection path first, so the figure below is the delay and not a handshake.
      await call(slow, "/healthz");
      for (const [method, status] of [["GET", 200], ["TRACE", 405]] as const) {
        const start = performance.now();
        expect((await call(slow, "/healthz", { method })).status).toBe(status);
        expect(performance.now() - start).toBeGreaterThanOrEqual(150);
      }
    } finally {
      await slow.close();
    }
  });

  it("spreads requests in flight over several origins", async () => {
    const second = await startEchoOrigin();
    const both = await startEdgeEmulator({ clientCaPem: clientCa.certPem, upstream: { origins: [origin, second], cfBlobHeader: ECHO_CF_BLOB_HEADER } });
    try {
      const before = origin.seen();
      const answers = await Promise.all(Array.from({ length: 8 }, () => call(both, "/healthz")));
      expect(answers.map((a) => a.status)).toEqual(Array.from({ length: 8 }, () => 200));
      expect(second.seen()).toBeGreaterThan(0);
      expect(origin.seen() - before).toBeGreaterThan(0);
    } finally {
      await both.close();
      await second.close();
    }
  });
});
