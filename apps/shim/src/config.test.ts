import { hostname } from "node:os";
import { describe, expect, it } from "vitest";
import { ConfigurationError } from "@edgeca/shared";
import { loadConfig } from "./config.ts";

const minimal = {
  EDGECA_SIGNER_URL: "https://signer.example.com/",
  EDGECA_SIGNER_NAMES: "example.com/foo",
  EDGECA_CLIENT_CERT_FILE: "/etc/edgeca/tls.crt",
  EDGECA_CLIENT_KEY_FILE: "/etc/edgeca/tls.key",
};

describe("loadConfig", () => {
  it("fills defaults from a minimal environment", () => {
    const config = loadConfig(minimal, "pod-a");
    expect(config.signerUrl).toBe("https://signer.example.com");
    expect(config.signerNames).toEqual(["example.com/foo"]);
    expect(config.concurrency).toBe(32);
    expect(config.backoff).toEqual({ baseMs: 200, maxMs: 5_000 });
    expect(config.bundleSecret).toEqual({ namespace: "istio-system", name: "external-ca-cert", key: "root-cert.pem" });
    expect(config.clusterTrustBundle).toEqual({ mode: "auto", suffix: "edgeca" });
    expect(config.leaderElection).toMatchObject({ namespace: "edgeca-system", name: "edgeca-shim", identity: "pod-a", leaseDurationMs: 15_000 });
    expect(config.http).toEqual({ host: "0.0.0.0", port: 8080 });
  });

  it("reads several signer names and the configurable bundle targets", () => {
    const config = loadConfig({
      ...minimal,
      EDGECA_SIGNER_NAMES: "example.com/foo, example.com/bar",
      EDGECA_BUNDLE_SECRET: "mesh/ca-roots",
      EDGECA_BUNDLE_SECRET_KEY: "ca.pem",
      EDGECA_PUBLISH_CLUSTER_TRUST_BUNDLE: "false",
      EDGECA_LEADER_ELECTION: "false",
      POD_NAME: "shim-0",
    });
    expect(config.signerNames).toEqual(["example.com/foo", "example.com/bar"]);
    expect(config.bundleSecret).toEqual({ namespace: "mesh", name: "ca-roots", key: "ca.pem" });
    expect(config.clusterTrustBundle).toBeUndefined();
    expect(config.leaderElection).toBeUndefined();
  });

  it("names every bad variable in one readable error", () => {
    const attempt = () =>
      loadConfig({ EDGECA_SIGNER_URL: "http://plain.example.com", EDGECA_SIGNER_NAMES: "no-slash", EDGECA_CONCURRENCY: "zero" });
    expect(attempt).toThrow(ConfigurationError);
    let message = "";
    try {
      attempt();
    } catch (error) {
      message = error instanceof Error ? error.message : "";
    }
    for (const name of ["EDGECA_SIGNER_URL", "EDGECA_SIGNER_NAMES", "EDGECA_CLIENT_CERT_FILE", "EDGECA_CLIENT_KEY_FILE", "EDGECA_CONCURRENCY"]) {
      expect(message).toContain(name);
    }
  });

  it("refuses signer names the apiserver would refuse, with the signer configuration's own rule", () => {
    expect(() => loadConfig({ ...minimal, EDGECA_SIGNER_NAMES: "example.com/~foo" })).toThrow(/EDGECA_SIGNER_NAMES: the path of "example.com\/~foo" has "~foo"/);
    expect(() => loadConfig({ ...minimal, EDGECA_SIGNER_NAMES: "example.com/a/b" })).toThrow(/exactly one "\/"/);
    expect(loadConfig({ ...minimal, EDGECA_SIGNER_NAMES: "example.com/foo, istio.io/a.b" }).signerNames).toEqual(["example.com/foo", "istio.io/a.b"]);
  });

  it("refuses lease timings client-go would refuse", () => {
    expect(() => loadConfig({ ...minimal, EDGECA_LEASE_DURATION_SECONDS: "5", EDGECA_RENEW_DEADLINE_SECONDS: "10" })).toThrow(/EDGECA_LEASE_DURATION_SECONDS/);
  });

  it("takes the Lease identity from POD_NAME, else the host name, so two replicas never share one", () => {
    expect(loadConfig({ ...minimal, POD_NAME: "edgeca-shim-abc" }).leaderElection?.identity).toBe("edgeca-shim-abc");
    expect(loadConfig(minimal).leaderElection?.identity).toBe(hostname());
    expect(loadConfig(minimal, "replica-2").leaderElection?.identity).toBe("replica-2");
  });

  it("reads EDGECA_SIGNER_BATCH_WAIT_MS, 60 by default, 0 to 1000, naming it when out of range", () => {
    expect(loadConfig(minimal).signerBatchWaitMs).toBe(60);
    expect(loadConfig({ ...minimal, EDGECA_SIGNER_BATCH_WAIT_MS: "0" }).signerBatchWaitMs).toBe(0);
    expect(() => loadConfig({ ...minimal, EDGECA_SIGNER_BATCH_WAIT_MS: "1001" })).toThrow(/EDGECA_SIGNER_BATCH_WAIT_MS: Too big: expected number to be <=1000/);
    expect(() => loadConfig({ ...minimal, EDGECA_SIGNER_BATCH_WAIT_MS: "-1" })).toThrow(/EDGECA_SIGNER_BATCH_WAIT_MS/);
  });

  it("reads EDGECA_SIGNER_BATCH_MAX, 16 by default, 1 to 32 (MAX_BATCH_ITEMS), naming it when out of range", () => {
    expect(loadConfig(minimal).signerBatchMax).toBe(16);
    expect(loadConfig({ ...minimal, EDGECA_SIGNER_BATCH_MAX: "1" }).signerBatchMax).toBe(1);
    expect(loadConfig({ ...minimal, EDGECA_SIGNER_BATCH_MAX: "32" }).signerBatchMax).toBe(32);
    expect(() => loadConfig({ ...minimal, EDGECA_SIGNER_BATCH_MAX: "33" })).toThrow(/EDGECA_SIGNER_BATCH_MAX: Too big: expected number to be <=32/);
    expect(() => loadConfig({ ...minimal, EDGECA_SIGNER_BATCH_MAX: "0" })).toThrow(/EDGECA_SIGNER_BATCH_MAX: Too small: expected number to be >=1/);
    expect(() => loadConfig({ ...minimal, EDGECA_SIGNER_BATCH_MAX: "eight" })).toThrow(/EDGECA_SIGNER_BATCH_MAX: must be a whole number/);
  });

  it("treats empty values as unset", () => {
    expect(loadConfig({ ...minimal, EDGECA_SIGNER_CA_FILE: "" }).signerCaFile).toBeUndefined();
  });
});
