import { existsSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { ControlPlaneError, startControlPlane } from "./index.ts";
import { processesMentioning } from "./processes-mentioning.ts";

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

// These start their own control plane rather than the shared one, since they stop it.
describe("startControlPlane", () => {
  test("serves an admin kubeconfig that kubectl accepts, and stop() leaves no process and no data behind", async () => {
    const cp = await startControlPlane();
    try {
      expect(cp.server).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
      expect(readFileSync(cp.kubeconfigPath, "utf8")).toBe(cp.kubeconfig);
      const whoami = await cp.kubectl(["auth", "whoami", "-o", "jsonpath={.status.userInfo.groups}"]);
      expect(whoami.code).toBe(0);
      expect(whoami.stdout).toContain("system:masters");
      const version = (await cp.admin.request("GET", "/version")) as { gitVersion: string };
      expect(version.gitVersion).toBe("v1.35.4");
      expect(cp.pids).toHaveLength(2);
      for (const pid of cp.pids) expect(alive(pid)).toBe(true);
    } finally {
      await cp.stop();
    }
    for (const pid of cp.pids) expect(alive(pid)).toBe(false);
    expect(processesMentioning(cp.dataDir)).toEqual([]);
    expect(existsSync(cp.dataDir)).toBe(false);
    await cp.stop(); // idempotent
  });

  test("a kube-apiserver that cannot start fails with the tail of its log, and leaves no process", async () => {
    const error: unknown = await startControlPlane({ extraApiserverArgs: ["--no-such-flag=1"], readyTimeoutMs: 60_000 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ControlPlaneError);
    const message = (error as ControlPlaneError).message;
    expect(message).toContain("kube-apiserver exited");
    expect(message).toContain("unknown flag: --no-such-flag");
    const dataDir = /kept in (\S+)\)/.exec(message)?.[1] ?? "";
    expect(readFileSync(join(dataDir, "kube-apiserver.log"), "utf8")).toContain("no-such-flag");
    // etcd had started: it must be gone too.
    expect(processesMentioning(dataDir)).toEqual([]);
    rmSync(dataDir, { recursive: true, force: true });
  });
});
