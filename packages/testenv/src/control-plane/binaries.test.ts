import { execFileSync } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { BinaryBuildError, ensureBinaries } from "./index.ts";

describe("ensureBinaries", () => {
  test("returns the cached etcd and kube-apiserver at the pinned versions", async () => {
    const lines: string[] = [];
    const bins = await ensureBinaries({ log: (l) => lines.push(l) });
    expect(bins.etcd).toMatch(/\/etcd-v3\.6\.6\/etcd$/);
    expect(bins.kubeApiserver).toMatch(/\/kube-apiserver-v1\.35\.4\/kube-apiserver$/);
    expect(execFileSync(bins.kubeApiserver, ["--version"], { encoding: "utf8" })).toContain("Kubernetes v1.35.4");
    expect(execFileSync(bins.etcd, ["--version"], { encoding: "utf8" })).toContain("etcd Version: 3.6.6");
  });

  test("a build that cannot run names the failed step", async () => {
    const empty = await mkdtemp(join(tmpdir(), "edgeca-bin-"));
    try {
      // An empty cache and no Go on PATH: the script must say so instead of failing obscurely.
      const error: unknown = await ensureBinaries({ env: { PATH: "/usr/bin:/bin", HOME: empty, EDGECA_BIN_DIR: empty }, log: () => undefined }).catch(
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(BinaryBuildError);
      expect((error as BinaryBuildError).step).toBe("toolchain");
      expect((error as BinaryBuildError).message).toContain("'go' is not on PATH");
    } finally {
      await rm(empty, { recursive: true, force: true });
    }
  });
});
