import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { ensureBinaries, processesMentioning, runKubectl } from "@edgeca/testenv";
import { afterAll, beforeAll, describe, expect, test } from "vitest";

const root = fileURLToPath(new URL("../../../../", import.meta.url));
const main = join(root, "apps/cli/src/main.ts");
let stateDir = "";

beforeAll(async () => {
  // A first build of etcd and kube-apiserver takes many minutes; do it (or wait for it) outside the test.
  await ensureBinaries();
  stateDir = await mkdtemp(join(tmpdir(), "edgeca-local-up-"));
}, 40 * 60_000);

afterAll(async () => {
  await rm(stateDir, { recursive: true, force: true });
});

describe("edgeca local up", () => {
  test("--no-signer --no-shim prints ready, serves kubectl through DIR/kubeconfig, and SIGTERM stops it with no process left", async () => {
    const started = Date.now();
    const child = spawn(process.execPath, ["--import", "tsx", main, "local", "up", "--state-dir", stateDir, "--no-signer", "--no-shim"], {
      cwd: root,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stderr.setEncoding("utf8").on("data", (c: string) => (stderr += c));
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => {
      resolve(code);
    }));
    try {
      const ready = await new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => {
          resolve(false);
        }, 90_000);
        child.stdout.setEncoding("utf8").on("data", (c: string) => {
          stdout += c;
          if (stdout.split("\n").includes("ready")) {
            clearTimeout(timer);
            resolve(true);
          }
        });
        void exited.then(() => {
          clearTimeout(timer);
          resolve(false);
        });
      });
      expect(ready, `no "ready" line; stderr:\n${stderr}`).toBe(true);
      console.log(`local up --no-signer --no-shim: ready after ${Date.now() - started} ms`);

      const nodes = await runKubectl(join(stateDir, "kubeconfig"), ["get", "namespace", "default", "-o", "jsonpath={.metadata.name}"]);
      expect(nodes.stderr).toBe("");
      expect(nodes.stdout).toBe("default");
      const csrs = await runKubectl(join(stateDir, "kubeconfig"), ["get", "csr"]);
      expect(csrs.code).toBe(0);
    } finally {
      child.kill("SIGTERM");
    }
    expect(await exited).toBe(0);
    expect(stdout).toBe("ready\n");
    expect(stderr).toContain("stopped");
    // etcd and kube-apiserver ran with their data under the state dir: nothing may still mention it.
    expect(processesMentioning(stateDir)).toEqual([]);
  });

  test("without --state-dir it is a usage error (exit 2) naming the flag", async () => {
    const child = spawn(process.execPath, ["--import", "tsx", main, "local", "up", "--no-signer", "--no-shim"], { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
    let stderr = "";
    child.stderr.setEncoding("utf8").on("data", (c: string) => (stderr += c));
    const code = await new Promise<number | null>((resolve) => child.on("exit", (c) => {
      resolve(c);
    }));
    expect(code).toBe(2);
    expect(stderr).toContain("--state-dir DIR is required");
  });
});
