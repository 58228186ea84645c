import { KubeConfig } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { BundlePublisher, clusterTrustBundleName, type BundlePublisherOptions } from "./bundle-publisher.ts";
import { createLogger, type LogRecord } from "./logger.ts";
import { FakeBundleApis } from "../test/support/fake-bundle-apis.ts";
import { apiError } from "../test/support/kube-errors.ts";

const PEM_1 = "-----BEGIN CERTIFICATE-----\nMAE=\n-----END CERTIFICATE-----\n";
const PEM_2 = "-----BEGIN CERTIFICATE-----\nMAI=\n-----END CERTIFICATE-----\n";
const SECRET = { namespace: "istio-system", name: "external-ca-cert", key: "root-cert.pem" };
const b64 = (text: string): string => Buffer.from(text, "utf8").toString("base64");

function rig(options: Partial<Pick<BundlePublisherOptions, "secret" | "clusterTrustBundle">> = {}) {
  const fake = new FakeBundleApis();
  const logs: LogRecord[] = [];
  const writes: string[] = [];
  const publisher = new BundlePublisher({
    kubeConfig: new KubeConfig(),
    apis: fake.apis,
    signerNames: ["example.com/foo", "example.com/bar"],
    secret: "secret" in options ? options.secret : SECRET,
    clusterTrustBundle: "clusterTrustBundle" in options ? options.clusterTrustBundle : { mode: "auto", suffix: "edgeca" },
    logger: createLogger({ sink: (record) => logs.push(record) }),
    onWrite: (target) => writes.push(target),
  });
  return { fake, logs, writes, publisher };
}

describe("clusterTrustBundleName", () => {
  it("is the signer name with / as : and the suffix", () => {
    expect(clusterTrustBundleName("example.com/foo", "edgeca")).toBe("example.com:foo:edgeca");
    // Every /, as the apiserver's ClusterTrustBundle name check replaces them all.
    expect(clusterTrustBundleName("example.com/foo/bar", "edgeca")).toBe("example.com:foo:bar:edgeca");
  });
});

describe("BundlePublisher", () => {
  it("creates the Secret and a ClusterTrustBundle per signer name when none exist", async () => {
    const t = rig();
    await expect(t.publisher.publish(PEM_1)).resolves.toBe(true);
    expect(t.fake.secrets.get("istio-system/external-ca-cert")).toMatchObject({ type: "Opaque", data: { "root-cert.pem": b64(PEM_1) } });
    expect([...t.fake.bundles.values()].map((b) => [b.metadata?.name, b.spec.signerName, b.spec.trustBundle])).toEqual([
      ["example.com:foo:edgeca", "example.com/foo", PEM_1],
      ["example.com:bar:edgeca", "example.com/bar", PEM_1],
    ]);
    expect(t.writes).toEqual(["secret", "clustertrustbundle", "clustertrustbundle"]);
  });

  it("writes nothing when the cluster's copies are the bundle already", async () => {
    const t = rig();
    await t.publisher.publish(PEM_1);
    t.fake.calls.length = 0;
    await expect(t.publisher.publish(PEM_1)).resolves.toBe(true);
    expect(t.fake.calls.filter((c) => !c.startsWith("read"))).toEqual([]);
    expect(t.writes).toHaveLength(3);
  });

  it("replaces copies that differ, keeping the Secret's other keys", async () => {
    const t = rig();
    t.fake.secrets.set("istio-system/external-ca-cert", { metadata: { name: "external-ca-cert", namespace: "istio-system" }, data: { "root-cert.pem": b64(PEM_1), other: b64("kept") } });
    await t.publisher.publish(PEM_1);
    await t.publisher.publish(PEM_2);
    expect(t.fake.secrets.get("istio-system/external-ca-cert")?.data).toEqual({ "root-cert.pem": b64(PEM_2), other: b64("kept") });
    expect([...t.fake.bundles.values()].map((b) => b.spec.trustBundle)).toEqual([PEM_2, PEM_2]);
    expect(t.fake.calls.filter((c) => c.startsWith("replace"))).toEqual(["replaceSecret istio-system/external-ca-cert", "replaceBundle example.com:foo:edgeca", "replaceBundle example.com:bar:edgeca"]);
  });

  it("in auto mode asks discovery once, and publishes only the Secret where ClusterTrustBundles are not served", async () => {
    for (const served of [false, undefined]) {
      const t = rig();
      t.fake.served = served;
      await expect(t.publisher.publish(PEM_1)).resolves.toBe(true);
      await t.publisher.publish(PEM_2);
      expect(t.fake.calls.filter((c) => c.startsWith("discover"))).toHaveLength(1);
      expect(t.fake.bundles.size).toBe(0);
      expect(t.writes).toEqual(["secret", "secret"]);
      expect(t.logs.some((l) => /not served; publishing the Secret only/.test(l.msg))).toBe(true);
    }
  });

  it("with mode true publishes ClusterTrustBundles without asking discovery; with none configured, touches none", async () => {
    const always = rig({ clusterTrustBundle: { mode: "true", suffix: "x" } });
    always.fake.served = undefined;
    await always.publisher.publish(PEM_1);
    expect([...always.fake.bundles.keys()]).toEqual(["example.com:foo:x", "example.com:bar:x"]);
    expect(always.fake.calls.filter((c) => c.startsWith("discover"))).toEqual([]);
    const secretOnly = rig({ clusterTrustBundle: undefined });
    await secretOnly.publisher.publish(PEM_1);
    expect(secretOnly.fake.calls).toEqual(["readSecret istio-system/external-ca-cert", "createSecret istio-system/external-ca-cert"]);
    const bundlesOnly = rig({ secret: undefined });
    await bundlesOnly.publisher.publish(PEM_1);
    expect(bundlesOnly.fake.secrets.size).toBe(0);
    expect(bundlesOnly.fake.bundles.size).toBe(2);
  });
});

describe("BundlePublisher failures", () => {
  it("a failing target is logged and reported; the others are still published", async () => {
    const t = rig();
    t.fake.fail("readSecret", apiError(403, "secrets is forbidden"));
    t.fake.fail("createBundle", apiError(500));
    await expect(t.publisher.publish(PEM_1)).resolves.toBe(false);
    expect(t.fake.secrets.size).toBe(0);
    expect([...t.fake.bundles.keys()]).toEqual(["example.com:bar:edgeca"]);
    expect(t.logs.filter((l) => l.level === "error").map((l) => [l.msg, l.error])).toEqual([
      ["could not publish the trust bundle Secret", "HTTP 403: secrets is forbidden"],
      ["could not publish the ClusterTrustBundle", "HTTP 500: HTTP 500 from the fake apiserver"],
    ]);
    // The next publish mends what failed.
    await expect(t.publisher.publish(PEM_1)).resolves.toBe(true);
    expect(t.fake.secrets.size).toBe(1);
    expect(t.fake.bundles.size).toBe(2);
  });

  it("one failing ClusterTrustBundle alone makes the publish report failure", async () => {
    const t = rig();
    t.fake.fail("readBundle", apiError(500));
    await expect(t.publisher.publish(PEM_1)).resolves.toBe(false);
    expect(t.fake.secrets.size).toBe(1);
  });

  it("a failing discovery is reported and asked again next time", async () => {
    const t = rig();
    t.fake.fail("discover", apiError(503));
    await expect(t.publisher.publish(PEM_1)).resolves.toBe(false);
    expect(t.fake.secrets.size).toBe(1);
    expect(t.fake.bundles.size).toBe(0);
    await expect(t.publisher.publish(PEM_1)).resolves.toBe(true);
    expect(t.fake.bundles.size).toBe(2);
  });
});
