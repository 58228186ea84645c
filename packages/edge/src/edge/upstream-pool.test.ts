/**
 * The pool against a real origin that ends its idle keep-alive connections, as workerd does after 5 s
 * without a request (kj HttpServer's pipeline timeout): a request that met such a connection goes once
 * more on a fresh one, never on another connection that may be just as stale.
 */
import { once } from "node:events";
import { createServer, type Server, type Socket } from "node:net";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { UpstreamPool } from "./upstream-pool.ts";

interface EndingOrigin {
  readonly port: number;
  /** Connections accepted so far. */
  readonly accepted: () => number;
  /** Sends FIN on every connection that is waiting for a request, and never answers on them again. */
  endIdle(): void;
  close(): Promise<void>;
}

/** A keep-alive origin that answers every complete request (no body) with a fixed 200. */
async function startEndingOrigin(): Promise<EndingOrigin> {
  const idle = new Set<Socket>();
  const all = new Set<Socket>();
  let accepted = 0;
  const server: Server = createServer((socket) => {
    accepted += 1;
    all.add(socket);
    idle.add(socket);
    let buffered = "";
    socket.on("data", (chunk: Buffer) => {
      if (!socket.writable) return;
      buffered += chunk.toString("latin1");
      while (buffered.includes("\r\n\r\n")) {
        buffered = buffered.slice(buffered.indexOf("\r\n\r\n") + 4);
        idle.delete(socket);
        socket.write("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok");
        idle.add(socket);
      }
    });
    socket.on("error", () => undefined);
    socket.on("close", () => {
      idle.delete(socket);
      all.delete(socket);
    });
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return {
    port: (server.address() as AddressInfo).port,
    accepted: () => accepted,
    endIdle() {
      for (const s of idle) s.end();
      idle.clear();
    },
    async close() {
      for (const s of all) s.destroy();
      server.close();
      await once(server, "close");
    },
  };
}

const request = { method: "GET", path: "/", headers: ["host", "origin"], body: [] };

describe("UpstreamPool", () => {
  let origin: EndingOrigin | undefined;
  let pool: UpstreamPool | undefined;
  afterEach(async () => {
    pool?.close();
    await origin?.close();
  });

  it("resends a request that met a connection the origin had ended on a fresh connection, even when every idle one was ended", async () => {
    origin = await startEndingOrigin();
    pool = new UpstreamPool([{ host: "127.0.0.1", port: origin.port }]);
    const burst = async (n: number): Promise<number[]> => Promise.all(Array.from({ length: n }, async () => (await (pool as UpstreamPool).send(request)).status));
    expect(await burst(16)).toEqual(Array(16).fill(200));
    expect(origin.accepted()).toBe(16);
    // More idle connections than requests: a retry on another idle one would meet a stale one again.
    // The FINs are sent now; the pool hears of them only after the first requests below were written.
    origin.endIdle();
    expect(await burst(4)).toEqual(Array(4).fill(200));
    expect(origin.accepted()).toBe(20);
    // Every ended connection is gone from the pool, the fresh ones are kept.
    expect(await burst(4)).toEqual(Array(4).fill(200));
    expect(origin.accepted()).toBe(20);
  });

  it("at its connection cap, resends on new connections when every connection had been ended (none waits forever, none goes on a used one)", async () => {
    origin = await startEndingOrigin();
    pool = new UpstreamPool([{ host: "127.0.0.1", port: origin.port }], { maxConnections: 4 });
    const burst = async (n: number): Promise<number[]> => Promise.all(Array.from({ length: n }, async () => (await (pool as UpstreamPool).send(request)).status));
    expect(await burst(4)).toEqual(Array(4).fill(200));
    expect(origin.accepted()).toBe(4);
    origin.endIdle();
    // Each of the 4 meets an ended connection and is resent while the pool is at its cap.
    const settled = await Promise.race([burst(4), new Promise<string>((resolve) => setTimeout(() => { resolve("still waiting after 5 s"); }, 5_000))]);
    expect(settled).toEqual(Array(4).fill(200));
    expect(origin.accepted()).toBe(8);
    // More requests than the cap: the cap holds, and the connections made for the resends serve them.
    expect(await burst(12)).toEqual(Array(12).fill(200));
    expect(origin.accepted()).toBe(8);
  });

  it("at its cap, gives a resend a new connection rather than one another request just released", async () => {
    origin = await startEndingOrigin();
    pool = new UpstreamPool([{ host: "127.0.0.1", port: origin.port }], { maxConnections: 2 });
    const send = async (): Promise<number> => (await (pool as UpstreamPool).send(request)).status;
    expect(await Promise.all([send(), send()])).toEqual([200, 200]);
    origin.endIdle();
    // Two requests on the two ended connections, a third waiting at the cap: the resends must not be
    // handed a connection the third request (or another resend) used, only new ones.
    expect(await Promise.all([send(), send(), send()])).toEqual([200, 200, 200]);
    // 2 ended + 1 for the third request + 1 for each resend.
    expect(origin.accepted()).toBe(5);
  });
});

