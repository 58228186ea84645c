/**
 * The bench's one retry layer (withRetries over BenchKubeClient) against a real HTTPS server on loopback
 * that breaks connections and answers 429/5xx on cue: bounded at MAX_TRIES sends in all (no second layer
 * underneath multiplying them), each retry counted, and anything else handed back or named at once.
 */
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { createClusterPki, type ClusterPki } from "@edgeca/testenv";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { BenchKubeClient } from "./bench-kube-client.ts";
import { MAX_TRIES, withRetries } from "./kube-retry.ts";

/** What the server does with the n-th request (from 0): break its connection, or answer this status. */
type Cue = "break" | number;

let pki: ClusterPki;
let server: Server;
let cues: (n: number) => Cue = () => 200;
let received = 0;
let client: BenchKubeClient;

beforeAll(async () => {
  pki = await createClusterPki();
  server = createServer({ cert: pki.serving.certPem, key: pki.serving.keyPem, keepAlive: true }, (req, res) => {
    const cue = cues(received++);
    if (cue === "break") {
      req.socket.destroy();
      return;
    }
    res.writeHead(cue, { "content-type": "application/json" }).end(JSON.stringify({ status: cue }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
});

afterEach(() => {
  client.close();
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

function start(cue: (n: number) => Cue): void {
  received = 0;
  cues = cue;
  client = new BenchKubeClient(`https://127.0.0.1:${(server.address() as AddressInfo).port}`, pki.ca.certPem, { token: "t" }, 2);
}

describe("withRetries over the bench's kube client", () => {
  it("sends a request whose kept-alive connection keeps breaking MAX_TRIES times in all, counting each retry, then names the call", async () => {
    start((n) => (n === 0 ? 200 : "break"));
    expect((await client.send("GET", "/first")).status).toBe(200);
    let retried = 0;
    const failed = withRetries(() => client.send("GET", "/again"), "get again", () => (retried += 1));
    await expect(failed).rejects.toThrow("GET /again: ");
    await expect(failed).rejects.toMatchObject({ code: "ECONNRESET" });
    expect(received - 1).toBe(MAX_TRIES);
    expect(retried).toBe(MAX_TRIES - 1);
  });

  it("tries a broken connection, 503 and 429 again and hands back the answer that follows", async () => {
    const script: Cue[] = ["break", 503, 429, 201];
    start((n) => script[n] ?? 500);
    let retried = 0;
    const answer = await withRetries(() => client.send("POST", "/csrs", {}), "create", () => (retried += 1));
    expect(answer.status).toBe(201);
    expect(received).toBe(4);
    expect(retried).toBe(3);
  });

  it("hands back a pass-through status and names any other refusal at once, with the apiserver's text", async () => {
    start((n) => (n === 0 ? 409 : 404));
    expect((await withRetries(() => client.send("GET", "/x"), "get x", undefined, [409])).status).toBe(409);
    await expect(withRetries(() => client.send("GET", "/y"), "get y")).rejects.toThrow('get y: HTTP 404: {"status":404}');
    expect(received).toBe(2);
  });
});
