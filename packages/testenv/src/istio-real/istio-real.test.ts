/**
 * The launchers' own failure paths: what a user sees when the build cannot run, when an option is wrong,
 * and when an agent never gets a certificate (the error quotes the agent's log). The flows with istiod
 * and the signer are in apps/cli/src/demo/real-istio.test.ts.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { useControlPlane } from "../vitest/index.ts";
import { BinaryBuildError, freePort } from "../control-plane/index.ts";
import { ensureIstioBinaries } from "./istio-binaries.ts";
import type { IstioBinaries } from "./istio-binaries.ts";
import { AgentNetwork } from "./agent-network.ts";
import { istiodRbacManifest } from "./istiod-rbac.ts";
import { startPilotAgent } from "./pilot-agent-process.ts";

const cp = useControlPlane();
let scratch = "";
let istio: IstioBinaries;

beforeAll(async () => {
  // The first build takes about 15 minutes on 2 cores (progress on stderr); later runs reuse it.
  istio = await ensureIstioBinaries();
  scratch = await mkdtemp(join(tmpdir(), "edgeca-istio-real-"));
}, 45 * 60_000);

afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

describe("ensureIstioBinaries", () => {
  test("without Go it fails at step toolchain, naming what is missing", async () => {
    const empty = await mkdtemp(join(scratch, "bin-"));
    const error: unknown = await ensureIstioBinaries({ log: () => undefined, env: { PATH: "/usr/bin:/bin", EDGECA_BIN_DIR: empty, HOME: empty } }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BinaryBuildError);
    expect((error as BinaryBuildError).step).toBe("toolchain");
    expect((error as BinaryBuildError).message).toContain("'go' is not on PATH");
  });

  test("prints the cached binaries and the module version", () => {
    expect(istio.module).toBe("v0.0.0-20260827124520-eed52ebb66ad");
    expect(istio.pilotDiscovery).toMatch(/pilot-discovery-v0\.0\.0-20260827124520-eed52ebb66ad\/pilot-discovery$/);
    expect(istio.pilotAgent).toMatch(/pilot-agent-v0\.0\.0-20260827124520-eed52ebb66ad\/pilot-agent$/);
  });
});

describe("istiod's RBAC manifest", () => {
  test("names the given signer in its approve rule instead of example.com/foo", async () => {
    const text = await istiodRbacManifest("edgeca.example/workloads");
    expect(text).toContain('resourceNames: ["edgeca.example/workloads"]');
    expect(text).not.toContain('"example.com/foo"');
  });

  test("refuses a signer name that is not <domain>/<name>", async () => {
    await expect(istiodRbacManifest("no-slash")).rejects.toThrow('signer name "no-slash" is not <domain>/<name>');
  });
});

describe("startPilotAgent", () => {
  test("refuses a SECRET_TTL the apiserver would refuse, before starting anything", async () => {
    const dir = join(scratch, "ttl");
    const start = startPilotAgent({
      binary: istio.pilotAgent,
      controlPlane: cp,
      istiod: { secureGrpcAddress: "127.0.0.1:1", istiodRootPem: cp.caPem },
      namespace: "default",
      serviceAccount: "default",
      podName: "ttl-0",
      dir,
      secretTtlSeconds: 300,
    });
    await expect(start).rejects.toThrow("secretTtlSeconds 300: the apiserver refuses CSR expirationSeconds below 600");
  });

  test("an agent that cannot reach istiod: waiting for its certificate fails with the tail of its log", async () => {
    // Nothing listens there: the agent keeps retrying its CA connection.
    const nowhere = `127.0.0.1:${String(await freePort())}`;
    // Its status port binds all interfaces: inside a namespace holding only lo where that is allowed.
    const network = await AgentNetwork.start(nowhere);
    const agent = await startPilotAgent({
      binary: istio.pilotAgent,
      controlPlane: cp,
      istiod: { secureGrpcAddress: nowhere, istiodRootPem: cp.caPem },
      ...(network === undefined ? {} : { network }),
      namespace: "istio-real-test",
      serviceAccount: "lonely",
      podName: "lonely-0",
      dir: join(scratch, "lonely"),
    });
    try {
      const error: unknown = await agent.waitForCertificate(5_000).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(Error);
      const message = (error as Error).message;
      expect(message).toContain("pilot-agent istio-real-test/lonely-0 wrote no certificate (not within 5 s); last lines of");
      expect(message).toContain("pilot-agent.log");
      // The quoted tail is the agent's own log: its start-up lines name the CA endpoint it tries.
      expect(message).toMatch(/CA Endpoint 127\.0\.0\.1:\d+, provider Citadel/);
      expect(await agent.certificates()).toBeUndefined();
    } finally {
      await agent.stop();
      await network?.stop();
    }
    expect(agent.running).toBe(false);
  }, 60_000);
});
