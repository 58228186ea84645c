import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ensureBinaries, processesMentioning } from "@edgeca/testenv";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { cleanUp, descendantsOf, exitWithin, localUp, onlyProcessMentioning, signerStatus, stderrShows, stillRunning } from "./local-up-child.ts";
import type { ProcessRef } from "./local-up-child.ts";

let scratch = "";
/** Each test starts a real stack; on a busy 2-core machine that can take a minute or more. */
const STACK_TEST_MS = 240_000;
/** Stopping waits 5 s per control-plane process before the SIGKILL, and the shim up to 15 s. */
const STOP_MS = 60_000;

beforeAll(async () => {
  // A first build of etcd and kube-apiserver takes many minutes; do it (or wait for it) outside the tests.
  await ensureBinaries();
  scratch = await mkdtemp(join(tmpdir(), "edgeca-local-up-deaths-"));
}, 40 * 60_000);

afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

describe("edgeca local up when a part misbehaves", () => {
  test("a stopped etcd that needs the SIGKILL: SIGTERM still ends in exit 0 and leaves no process", async () => {
    const stateDir = join(scratch, "sigstop-etcd");
    const { run, ready } = await localUp(["--state-dir", stateDir, "--no-signer", "--no-shim"]);
    let started: ProcessRef[] = [];
    try {
      expect(ready, `no "ready" line; stderr:\n${run.stderr}`).toBe(true);
      started = descendantsOf(run.child.pid ?? -1);
      // etcd's --data-dir lies under the state dir; only etcd has that flag.
      const etcd = onlyProcessMentioning(`--data-dir=${stateDir}`);
      expect(started.map((p) => p.pid)).toContain(etcd);
      process.kill(etcd, "SIGSTOP");
      run.child.kill("SIGTERM");
      expect(await exitWithin(run, STOP_MS), run.stderr).toBe(0);
      expect(run.stderr).toContain("SIGTERM received, stopping");
      expect(run.stderr).toContain("stopped");
      expect(run.stderr).not.toContain("unsettled top-level await");
      expect(processesMentioning(stateDir)).toEqual([]);
      expect(await stillRunning(started)).toEqual([]);
    } finally {
      cleanUp(run.child, started, stateDir);
    }
  }, STACK_TEST_MS);

  test("kube-apiserver killed by SIGKILL: local up names it, how it ended and its log, stops the rest and exits 3", async () => {
    const stateDir = join(scratch, "kill-apiserver");
    const { run, ready } = await localUp(["--state-dir", stateDir, "--no-signer", "--no-shim"]);
    let started: ProcessRef[] = [];
    try {
      expect(ready, `no "ready" line; stderr:\n${run.stderr}`).toBe(true);
      started = descendantsOf(run.child.pid ?? -1);
      const apiserver = onlyProcessMentioning(`--cert-dir=${stateDir}`);
      expect(started.map((p) => p.pid)).toContain(apiserver);
      process.kill(apiserver, "SIGKILL");
      expect(await exitWithin(run, STOP_MS), run.stderr).toBe(3);
      expect(run.stderr).toContain("kube-apiserver was killed by SIGKILL while the stack was running; local up restarts nothing");
      // The tail of its own log: klog lines ("I1201 21:02:06.453592    1906 cache.go:39] …").
      expect(run.stderr).toMatch(/--- last lines of the kube-apiserver log \(.*kube-apiserver\.log\) ---\n[IWE]\d{4} [\d:.]+ +\d+ \w+\.go:\d+\] /);
      expect(run.stderr).toContain("stopped: kube-apiserver had died; exiting with status 3");
      expect(processesMentioning(stateDir)).toEqual([]);
      expect(await stillRunning(started)).toEqual([]);
    } finally {
      cleanUp(run.child, started, stateDir);
    }
  }, STACK_TEST_MS);

  test("the shim killed by SIGKILL: local up names it, stops the signer and the control plane and exits 3", async () => {
    const stateDir = join(scratch, "kill-shim");
    const { run, ready } = await localUp(["--state-dir", stateDir]);
    let started: ProcessRef[] = [];
    try {
      expect(ready, `no "ready" line; stderr:\n${run.stderr}`).toBe(true);
      started = descendantsOf(run.child.pid ?? -1);
      const pid = /starting the shim \(pid (\d+),/.exec(run.stderr)?.[1];
      expect(pid, run.stderr).toBeDefined();
      expect(started.map((p) => p.pid)).toContain(Number(pid));
      process.kill(Number(pid), "SIGKILL");
      expect(await exitWithin(run, STOP_MS), run.stderr).toBe(3);
      expect(run.stderr).toContain("shim was killed by SIGKILL while the stack was running; local up restarts nothing");
      expect(run.stderr).toContain(`--- last lines of the shim log (${join(stateDir, "shim.log")}) ---`);
      expect(run.stderr).toContain("stopped: shim had died; exiting with status 3");
      expect(processesMentioning(stateDir)).toEqual([]);
      expect(await stillRunning(started)).toEqual([]);
    } finally {
      cleanUp(run.child, started, stateDir);
    }
  }, STACK_TEST_MS);

  test("workerd killed by SIGKILL: Miniflare restarts it, local up says so, the signer serves again, and SIGTERM still exits 0", async () => {
    const stateDir = join(scratch, "kill-workerd");
    const { run, ready } = await localUp(["--state-dir", stateDir, "--no-shim"]);
    let started: ProcessRef[] = [];
    try {
      expect(ready, `no "ready" line; stderr:\n${run.stderr}`).toBe(true);
      started = descendantsOf(run.child.pid ?? -1);
      const pid = Number(/signer ready at \S+ \(workerd pid (\d+);/.exec(run.stderr)?.[1]);
      expect(started.map((p) => p.pid), run.stderr).toContain(pid);
      expect(await signerStatus(stateDir, "/readyz")).toBe(200);
      process.kill(pid, "SIGKILL");
      const restarted = await stderrShows(() => run.stderr, /signer: workerd restarted by Miniflare \(pid \d+\)/, 20_000);
      expect(restarted, run.stderr).toBe(true);
      expect(run.stderr).toContain(`signer: workerd (pid ${pid}) exited; Miniflare restarts it`);
      expect(await signerStatus(stateDir, "/readyz")).toBe(200);
      // The restarted workerd is local up's child too; it must go with the rest.
      started = descendantsOf(run.child.pid ?? -1);
      run.child.kill("SIGTERM");
      expect(await exitWithin(run, STOP_MS), run.stderr).toBe(0);
      expect(run.stderr).not.toContain("local up restarts nothing");
      expect(processesMentioning(stateDir)).toEqual([]);
      expect(await stillRunning(started)).toEqual([]);
    } finally {
      cleanUp(run.child, started, stateDir);
    }
  }, STACK_TEST_MS);
});
