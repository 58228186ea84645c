import { execFileSync } from "node:child_process";
import { mkdir, mkdtemp, rm, symlink } from "node:fs/promises";
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
      // An empty cache and a PATH with the script's shell tools but no Go: it must say so instead of
      // failing obscurely (or starting a build).
      const bin = join(empty, "bin");
      await mkdir(bin);
      for (const tool of ["bash", "dirname", "flock", "mkdir", "tail", "cat", "date"]) {
        const path = execFileSync("bash", ["-c", `command -v ${tool}`], { encoding: "utf8" }).trim();
        await symlink(path, join(bin, tool));
      }
      const error: unknown = await ensureBinaries({ env: { PATH: bin, HOME: empty, EDGECA_BIN_DIR: join(empty, "cache") }, log: () => undefined }).catch(
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
