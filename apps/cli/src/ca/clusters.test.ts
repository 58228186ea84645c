/**
 * `edgeca ca add-cluster`, `remove-cluster` and the per-cluster rotation (`--cluster`) on real `edgeca init`
 * directories, checked with the signer's own core: each cluster signs with its own issuing CA under the
 * shared root, its policy and its client certificate; one cluster's rotation leaves the others as they were.
 */
import { X509Certificate } from "node:crypto";
import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { exportJWK, generateKeyPair } from "jose";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { SignerConfig, SignRequest } from "@edgeca/shared";
import { PolicyDeniedError, SigningCore, UnauthenticatedError } from "@edgeca/signer/core";
import { createIstioCsr } from "@edgeca/testenv";
import { UsageError } from "../command.ts";
import { caActivateCommand } from "../commands/ca-activate.ts";
import { caAddClusterCommand } from "../commands/ca-add-cluster.ts";
import { caAddIssuerCommand } from "../commands/ca-add-issuer.ts";
import { caListCommand } from "../commands/ca-list.ts";
import { caRemoveClusterCommand } from "../commands/ca-remove-cluster.ts";
import { caRemoveCommand } from "../commands/ca-remove.ts";
import { createMaterial, writeMaterial } from "../init/index.ts";
import { certificatesOf, fingerprintOf } from "./certificates.ts";

const SIGNER = "example.com/foo";
let dir: string;
beforeEach(async () => {
  dir = join(await mkdtemp(join(tmpdir(), "edgeca-clusters-")), "ca");
  await writeMaterial(dir, await createMaterial());
});
afterEach(async () => {
  await rm(join(dir, ".."), { recursive: true, force: true });
});

async function run(command: { run(argv: readonly string[]): Promise<number> }, ...argv: string[]): Promise<{ status: number; out: string }> {
  const log = console.log;
  const lines: string[] = [];
  console.log = (...args: unknown[]) => lines.push(args.map(String).join(" "));
  try {
    return { status: await command.run(argv), out: lines.join("\n") };
  } finally {
    console.log = log;
  }
}

const read = (file: string) => readFile(join(dir, file), "utf8");
const secrets = async () => JSON.parse(await read("worker/secrets.json")) as Record<string, string>;
const loadCore = async () => SigningCore.load({ EDGECA_CONFIG: await read("worker/config.json"), ...(await secrets()) });
const snapshot = () => Promise.all(["worker/config.json", "worker/secrets.json", "root-cert.pem"].map(read));
const addEast = (...extra: string[]) => run(caAddClusterCommand, "--dir", dir, "--name", "east", "--signer-name", SIGNER, "--trust-domain", "east.example", ...extra);

/** Signs a workload CSR for `spiffeId` as cluster `name`; resolves to [leaf, issuing CA]. */
async function sign(core: SigningCore, name: string, spiffeId: string): Promise<X509Certificate[]> {
  const csr = await createIstioCsr({ keyType: "P-256", uris: [spiffeId] });
  const answer = await core.sign(
    { signerName: SIGNER, csr: csr.csrPem, usages: ["digital signature", "client auth"], requestor: { username: "system:serviceaccount:istio-system:istiod" } },
    core.cluster(name),
  );
  return certificatesOf(answer.certificateChain);
}

/** The edge's verdict for a verified client certificate of `fingerprint` issued by a CA of SKI `issuerSki`. */
const verdict = (fingerprint: string, issuerSki = "") => ({
  tlsClientAuth: { certPresented: "1", certVerified: "SUCCESS", certRevoked: "0", certFingerprintSHA256: fingerprint, certIssuerSKI: issuerSki },
});

describe("edgeca ca add-cluster", () => {
  it("makes the cluster's client certificate under the client CA and its own issuer under the shared root; each cluster signs with its own", async () => {
    const root = new X509Certificate(await read("root-cert.pem"));
    const added = await addEast();
    expect(added.status).toBe(0);
    expect(added.out).toContain(`kubectl -n edgeca-system create secret tls edgeca-shim-client --cert=${join(dir, "clusters/east/client-cert.pem")}`);
    expect(added.out).toContain("--set signer.name=example.com/foo");
    expect(added.out).toContain("npm run wrangler -- secret bulk");
    const client = new X509Certificate(await read("clusters/east/client-cert.pem"));
    expect(client.verify(new X509Certificate(await read("client-ca-cert.pem")).publicKey)).toBe(true);
    expect((await stat(join(dir, "clusters/east/client-key.pem"))).mode & 0o777).toBe(0o600);
    expect(Object.keys(await secrets()).sort()).toEqual(["EDGECA_CA_KEY_CA1", "EDGECA_CA_KEY_EAST_CA1"]);

    const core = await loadCore();
    expect(core.bundle.roots).toHaveLength(1);
    const [eastLeaf, eastCa] = await sign(core, "east", "spiffe://east.example/ns/default/sa/web");
    const [defaultLeaf, defaultCa] = await sign(core, "default", "spiffe://cluster.local/ns/default/sa/web");
    expect(eastCa?.subject).toBe("CN=edgeca issuing CA east-ca1");
    expect(defaultCa?.subject).toBe("CN=edgeca issuing CA ca1");
    expect(eastCa !== undefined && eastLeaf?.verify(eastCa.publicKey)).toBe(true);
    expect(defaultCa !== undefined && defaultLeaf?.verify(defaultCa.publicKey)).toBe(true);
    // One shared root: either cluster's chain verifies against the bundle the other publishes.
    expect(eastCa?.verify(root.publicKey)).toBe(true);
    expect(defaultCa?.verify(root.publicKey)).toBe(true);

    // The issuer follows the authenticated client certificate.
    expect((await core.authenticate(verdict(fingerprintOf(client)), null)).name).toBe("east");
    const defaultClient = new X509Certificate(await read("client-cert.pem"));
    expect((await core.authenticate(verdict(fingerprintOf(defaultClient)), null)).name).toBe("default");
  });

  it("stops pinning the shared client CA's SKI (it cannot tell clusters apart), so an unlisted certificate of that CA is refused", async () => {
    const before = SignerConfig.parse(JSON.parse(await read("worker/config.json")));
    const ski = before.clusters[0]?.clientCertificates.issuerSKIs[0] ?? "";
    expect(ski).not.toBe("");
    expect((await loadCore()).cluster("default").clientCertificates.issuerSKIs).toEqual([ski]);
    const added = await addEast();
    expect(added.out).toContain(`cluster "default" no longer pins the client CA's SKI`);
    const core = await loadCore();
    expect(core.cluster("default").clientCertificates.issuerSKIs).toEqual([]);
    await expect(core.authenticate(verdict("ab".repeat(32), ski), null)).rejects.toThrow(UnauthenticatedError);
  });

  it("never lets the request choose the issuer: a body naming another cluster's issuer is signed by the caller's", async () => {
    await addEast();
    const core = await loadCore();
    const csr = await createIstioCsr({ keyType: "P-256", uris: ["spiffe://cluster.local/ns/default/sa/web"] });
    const body = SignRequest.parse({
      signerName: SIGNER,
      csr: csr.csrPem,
      usages: ["digital signature", "client auth"],
      requestor: { username: "system:serviceaccount:istio-system:istiod" },
      issuer: "east-ca1",
      activeIssuer: "east-ca1",
    });
    const answer = await core.sign(body, core.cluster("default"));
    expect(certificatesOf(answer.certificateChain)[1]?.subject).toBe("CN=edgeca issuing CA ca1");
  });

  it("applies each cluster's policy: its trust domain only, never the other cluster's", async () => {
    await addEast();
    const core = await loadCore();
    await expect(sign(core, "east", "spiffe://cluster.local/ns/default/sa/web")).rejects.toThrow(PolicyDeniedError);
    await expect(sign(core, "default", "spiffe://east.example/ns/default/sa/web")).rejects.toThrow(PolicyDeniedError);
  });

  it("with --jwks requires the cluster's own token: its issuer and audience", async () => {
    const { publicKey } = await generateKeyPair("RS256");
    await writeFile(join(dir, "..", "jwks.json"), JSON.stringify({ keys: [{ ...(await exportJWK(publicKey)), kid: "k1", use: "sig", alg: "RS256" }] }));
    const added = await addEast("--jwks", join(dir, "..", "jwks.json"), "--token-issuer", "https://east.example", "--token-audience", "edgeca-east");
    expect(added.out).toContain("--set signer.tokenAudience=edgeca-east");
    const core = await loadCore();
    expect(core.cluster("east").token?.issuer).toBe("https://east.example");
    const client = new X509Certificate(await read("clusters/east/client-cert.pem"));
    await expect(core.authenticate(verdict(fingerprintOf(client)), null)).rejects.toThrow(UnauthenticatedError);
  });

  it("lists clusters with their issuers, and issuers with the clusters they sign for", async () => {
    await addEast();
    const { out } = await run(caListCommand, "--dir", dir);
    expect(out).toMatch(/east-ca1\s+CN=edgeca issuing CA east-ca1 .* #1\s+east$/m);
    expect(out).toMatch(/ca1\s+yes\s+CN=edgeca issuing CA ca1 .* #1\s+default$/m);
    expect(out).toMatch(/default\s+ca1 \(default\)\s+cluster\.local\s+example\.com\/foo/);
    expect(out).toMatch(/east\s+east-ca1\s+east\.example\s+example\.com\/foo\s+\(no token\)/);
  });
});

describe("edgeca ca: rotation for one cluster", () => {
  it("A → A+B → B for east leaves default's issuer and certificates untouched", async () => {
    await addEast();
    const before = await loadCore();
    const [defaultLeaf] = await sign(before, "default", "spiffe://cluster.local/ns/default/sa/web");
    const defaultIssuer = before.issuerFor(before.cluster("default")).certificate.der;

    expect((await run(caAddIssuerCommand, "--dir", dir, "--cluster", "east", "--id", "east-ca2")).out).toContain("edgeca ca activate --dir");
    expect((await loadCore()).issuerFor((await loadCore()).cluster("east")).id).toBe("east-ca1");
    const activated = await run(caActivateCommand, "--dir", dir, "--cluster", "east", "--id", "east-ca2");
    expect(activated.out).toContain('issuer "east-ca2" is active for cluster "east" (was "east-ca1")');
    expect(activated.out).toContain("it signs for: east");
    const mid = await loadCore();
    expect(mid.issuerFor(mid.cluster("east")).id).toBe("east-ca2");
    expect(mid.issuerFor(mid.cluster("default")).certificate.der).toEqual(defaultIssuer);
    expect(mid.active.id).toBe("ca1");

    await expect(run(caRemoveCommand, "--dir", dir, "--id", "east-ca2")).rejects.toThrow(/issuer "east-ca2" is active for cluster "east"/);
    expect((await run(caRemoveCommand, "--dir", dir, "--id", "east-ca1")).status).toBe(0);
    const after = await loadCore();
    const [, eastCa] = await sign(after, "east", "spiffe://east.example/ns/default/sa/web");
    expect(eastCa?.subject).toBe("CN=edgeca issuing CA east-ca2");
    const [, defaultCa] = await sign(after, "default", "spiffe://cluster.local/ns/default/sa/web");
    expect(defaultCa?.subject).toBe("CN=edgeca issuing CA ca1");
    // default's earlier certificate still verifies with default's (unchanged) issuer, under the unchanged bundle.
    expect(defaultCa !== undefined && defaultLeaf?.verify(defaultCa.publicKey)).toBe(true);
    expect(after.bundle).toEqual(before.bundle);
    expect(Object.keys(await secrets()).sort()).toEqual(["EDGECA_CA_KEY_CA1", "EDGECA_CA_KEY_EAST_CA2"]);
  });
});

describe("edgeca ca: a cluster's rotation after secrets.json was uploaded and deleted", () => {
  it("checks the issuers without a local key by their chain, and writes only the new key", async () => {
    await addEast();
    await rm(join(dir, "worker/secrets.json"));
    expect((await run(caAddIssuerCommand, "--dir", dir, "--cluster", "east", "--id", "east-ca2")).status).toBe(0);
    expect(Object.keys(await secrets())).toEqual(["EDGECA_CA_KEY_EAST_CA2"]);
    expect((await run(caActivateCommand, "--dir", dir, "--cluster", "east", "--id", "east-ca2")).status).toBe(0);
    const config = SignerConfig.parse(JSON.parse(await read("worker/config.json")));
    expect(config.clusters.map((c) => [c.name, c.activeIssuer])).toEqual([["default", undefined], ["east", "east-ca2"]]);
  });
});

describe("edgeca ca cluster commands: refusals leave the directory as it was", () => {
  async function refused(command: { run(argv: readonly string[]): Promise<number> }, argv: string[], message: RegExp): Promise<void> {
    const before = await snapshot();
    await expect(run(command, ...argv)).rejects.toThrow(UsageError);
    await expect(run(command, ...argv)).rejects.toThrow(message);
    expect(await snapshot()).toEqual(before);
  }
  const east = ["--dir", "", "--name", "east", "--signer-name", SIGNER];
  const eastArgs = () => east.map((a) => (a === "" ? dir : a));

  it("refuses an existing cluster name without --force; with it, replaces its client certificate and issuer", async () => {
    await refused(caAddClusterCommand, ["--dir", dir, "--name", "default", "--signer-name", SIGNER], /cluster "default" already exists .* --force/);
    await addEast();
    const first = await read("clusters/east/client-cert.pem");
    await refused(caAddClusterCommand, eastArgs(), /cluster "east" already exists/);
    expect((await run(caAddClusterCommand, ...eastArgs(), "--force")).status).toBe(0);
    expect(await read("clusters/east/client-cert.pem")).not.toBe(first);
    const core = await loadCore();
    expect(core.config.clusters.map((c) => c.name)).toEqual(["default", "east"]);
    expect(core.cluster("east").policy.trustDomain).toBe("cluster.local");
  });

  it("refuses when an offline key is missing, naming the file", async () => {
    await rm(join(dir, "offline/client-ca-key.pem"));
    await refused(caAddClusterCommand, eastArgs(), /offline\/client-ca-key\.pem: cannot read the client CA's key \(ENOENT\)/);
    await writeMaterial(dir, await createMaterial(), { force: true });
    await rm(join(dir, "offline/root-key.pem"));
    await refused(caAddClusterCommand, eastArgs(), /key of the current root "CN=edgeca root CA" is not in .*offline \(looked for .*offline\/root-key\.pem/);
  });

  it("names a bad flag", async () => {
    await refused(caAddClusterCommand, ["--dir", dir, "--name", "East_1", "--signer-name", SIGNER], /--name "East_1": a cluster name is a DNS label/);
    await expect(run(caAddClusterCommand, "--dir", dir, "--name", "east")).rejects.toThrow(/--signer-name NAME is required/);
    await expect(run(caAddClusterCommand, ...eastArgs(), "--jwks", "x.json", "--token-audience", "a")).rejects.toThrow(/--jwks needs --token-issuer/);
    await expect(run(caAddClusterCommand, ...eastArgs(), "--token-audience", "a")).rejects.toThrow(/--token-audience needs --jwks FILE/);
    await expect(run(caAddClusterCommand, ...eastArgs(), "--signer-name", "nope")).rejects.toThrow(/--signer-name "nope"/);
    await refused(caActivateCommand, ["--dir", dir, "--cluster", "west", "--id", "ca1"], /--cluster west: no cluster "west" in .* \(clusters: default\)/);
    await expect(run(caRemoveCommand, "--dir", dir, "--id", "ca1", "--cluster", "default")).rejects.toThrow(/--cluster is not a flag of this command/);
  });

  it("remove-cluster drops the entry and names the issuer left unused; refuses the last cluster and an unknown one", async () => {
    await addEast();
    const removed = await run(caRemoveClusterCommand, "--dir", dir, "--name", "east");
    expect(removed.out).toContain(`issuer "east-ca1" now signs for no cluster; once its certificates have expired:  edgeca ca remove --dir ${dir} --id east-ca1`);
    const core = await loadCore();
    expect(core.config.clusters.map((c) => c.name)).toEqual(["default"]);
    const client = new X509Certificate(await read("clusters/east/client-cert.pem"));
    await expect(core.authenticate(verdict(fingerprintOf(client)), null)).rejects.toThrow(UnauthenticatedError);
    await refused(caRemoveClusterCommand, ["--dir", dir, "--name", "east"], /no cluster "east"/);
    await refused(caRemoveClusterCommand, ["--dir", dir, "--name", "default"], /the only cluster/);
  });
});
