import { beforeAll, describe, expect, it } from "vitest";
import { activeIssuerOf, describeConfigError, SignerConfig, type SignerConfigInput } from "./config.ts";
import { makeSelfSignedCa } from "../test/library-csr.ts";

let ca: string;
beforeAll(async () => {
  ca = await makeSelfSignedCa();
});

function minimal(): SignerConfigInput {
  return {
    version: 1,
    signerNames: ["example.com/foo"],
    clusters: [{ name: "dev", clientCertificates: { sha256Fingerprints: ["AA:".repeat(31) + "AA"] }, signerNames: ["example.com/foo"] }],
    issuers: [{ id: "ca1", chain: ca, keySecret: "EDGECA_CA_KEY_CA1" }],
    activeIssuer: "ca1",
    roots: [ca],
  };
}

describe("SignerConfig", () => {
  it("fills the policy defaults of docs/configuration.md and normalises fingerprints", () => {
    const c = SignerConfig.parse(minimal());
    const cluster = c.clusters[0];
    expect(cluster?.policy).toEqual({
      allowedRequestors: ["system:serviceaccount:istio-system:istiod"],
      trustDomain: "cluster.local",
      controlPlaneDnsNames: [],
      defaultLifetimeSeconds: 86_400,
      maxLifetimeSeconds: 604_800,
    });
    expect(cluster?.clientCertificates.sha256Fingerprints).toEqual(["aa".repeat(32)]);
  });

  it("refuses an active issuer that is not listed", () => {
    const r = SignerConfig.safeParse({ ...minimal(), activeIssuer: "ca2" });
    expect(r.success).toBe(false);
    if (!r.success) expect(describeConfigError(r.error)).toMatch(/activeIssuer: activeIssuer "ca2" is not an issuer id/);
  });

  it("refuses a cluster using an undeclared signer name", () => {
    const c = minimal();
    const r = SignerConfig.safeParse({ ...c, clusters: [{ ...c.clusters[0], signerNames: ["example.com/bar"] }] });
    expect(r.success).toBe(false);
  });

  it("refuses a cluster without any client certificate identity", () => {
    const c = minimal();
    const r = SignerConfig.safeParse({ ...c, clusters: [{ name: "x", clientCertificates: {}, signerNames: ["example.com/foo"] }] });
    expect(r.success).toBe(false);
    if (!r.success) expect(describeConfigError(r.error)).toMatch(/at least one fingerprint or issuer SKI/);
  });

  it("refuses a chain that is not certificate PEM and says where", () => {
    const r = SignerConfig.safeParse({ ...minimal(), issuers: [{ id: "ca1", chain: "nope", keySecret: "EDGECA_CA_KEY_CA1" }] });
    expect(r.success).toBe(false);
    if (!r.success) expect(describeConfigError(r.error)).toMatch(/^issuers\.0\.chain: not a valid CERTIFICATE PEM/);
  });

  it("accepts two issuers and two roots (a rotation in progress)", async () => {
    const other = await makeSelfSignedCa("CN=root B");
    const c = minimal();
    const r = SignerConfig.safeParse({
      ...c,
      issuers: [...c.issuers, { id: "ca2", chain: other, keySecret: "EDGECA_CA_KEY_CA2" }],
      activeIssuer: "ca2",
      roots: [ca, other],
    });
    expect(r.success).toBe(true);
  });

  it("refuses a lifetime default above the maximum", () => {
    const c = minimal();
    const r = SignerConfig.safeParse({ ...c, clusters: [{ ...c.clusters[0], policy: { defaultLifetimeSeconds: 9e5, maxLifetimeSeconds: 6e5 } }] });
    expect(r.success).toBe(false);
  });

  it("lets a cluster name its own issuer, and falls back to the top-level one when it names none", () => {
    const c = minimal();
    const other = { name: "b", clientCertificates: { sha256Fingerprints: ["BB".repeat(32)] }, signerNames: ["example.com/foo"], activeIssuer: "ca2" };
    const parsed = SignerConfig.parse({ ...c, issuers: [...c.issuers, { id: "ca2", chain: ca, keySecret: "EDGECA_CA_KEY_CA2" }], clusters: [...c.clusters, other] });
    expect(parsed.clusters.map((cluster) => activeIssuerOf(parsed, cluster))).toEqual(["ca1", "ca2"]);
  });

  it("refuses a cluster's activeIssuer that is not listed, naming the cluster", () => {
    const c = minimal();
    const r = SignerConfig.safeParse({ ...c, clusters: [{ ...c.clusters[0], activeIssuer: "nope" }] });
    expect(r.success).toBe(false);
    if (!r.success) expect(describeConfigError(r.error)).toBe('clusters.0.activeIssuer: cluster "dev": activeIssuer "nope" is not an issuer id');
  });

  it("refuses two clusters of the same name (tokens, budgets and audit records are keyed by it)", () => {
    const c = minimal();
    const twin = { name: "dev", clientCertificates: { sha256Fingerprints: ["BB".repeat(32)] }, signerNames: ["example.com/foo"] };
    const r = SignerConfig.safeParse({ ...c, clusters: [...c.clusters, twin] });
    expect(r.success).toBe(false);
    if (!r.success) expect(describeConfigError(r.error)).toBe('clusters.1.name: duplicate cluster name "dev"');
  });
});
