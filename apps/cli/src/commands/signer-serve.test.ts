import { connect } from "node:net";
import { readFileSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { describe, expect, it } from "vitest";
import { runCli, spawnCli } from "../signer/cli-process.ts";
import { initMaterial } from "../signer/init-material.ts";
import { signerRequest } from "../signer/signer-request.ts";

function portIsClosed(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    socket.on("connect", () => {
      socket.destroy();
      resolve(false);
    });
    socket.on("error", () => {
      resolve(true);
    });
  });
}

describe("edgeca signer serve (as a process)", () => {
  it("prints its URL, answers /healthz, and on SIGTERM stops workerd, frees the port and exits 0", async () => {
    const dir = await initMaterial();
    const child = spawnCli(["signer", "serve", "--dir", dir]);
    let stdout = "";
    let stderr = "";
    child.stderr?.setEncoding("utf8").on("data", (s: string) => (stderr += s));
    const exited = new Promise<number | null>((resolve) => child.on("close", (code) => { resolve(code); }));
    try {
      const url = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => { reject(new Error(`no "listening on" within 90 s; stderr: ${stderr}`)); }, 90_000);
        child.stdout?.setEncoding("utf8").on("data", (s: string) => {
          stdout += s;
          const match = /listening on (https:\/\/127\.0\.0\.1:\d+)/.exec(stdout);
          if (match?.[1] !== undefined) {
            clearTimeout(timer);
            resolve(match[1]);
          }
        });
        void exited.then((code) => { reject(new Error(`exited with ${String(code)} before listening; stderr: ${stderr}`)); });
      });
      const caPem = readFileSync(join(dir, "edge-ca-cert.pem"), "utf8");
      expect((await signerRequest({ url, path: "/healthz", caPem })).status).toBe(200);
      expect((await signerRequest({ url, path: "/v1/bundle", caPem })).status).toBe(401);
      child.kill("SIGTERM");
      expect(await exited).toBe(0);
      expect(stdout).toContain("SIGTERM: stopping");
      expect(stdout).toContain("stopped");
      expect(await portIsClosed(Number(new URL(url).port))).toBe(true);
    } finally {
      if (child.exitCode === null) child.kill("SIGKILL");
      rmSync(dirname(dir), { recursive: true, force: true });
    }
  });

  it("exits 2 naming the missing file when --dir holds no init material", async () => {
    const result = await runCli(["signer", "serve", "--dir", "/nonexistent/edgeca"]);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain("/nonexistent/edgeca/worker/config.json: cannot read (ENOENT)");
  });
});
