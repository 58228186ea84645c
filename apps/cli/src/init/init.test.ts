/**
 * `edgeca init` through its command and its library: the files and their modes, the configuration the
 * real signing core loads and issues with, the keys kept apart, and no overwriting without --force.
 */
import { X509Certificate } from "node:crypto";
import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { exportJWK, generateKeyPair } from "jose";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { SignerConfig } from "@edgeca/shared";
import { SigningCore } from "@edgeca/signer/core";
import { UsageError } from "../command.ts";
import { initCommand } from "../commands/init.ts";
import { createIstioCsr } from "@edgeca/testenv";
import { createMaterial, materialFiles, MaterialExistsError, writeMaterial } from "./index.ts";

let dir: string;
beforeEach(async () => {
  dir = join(await mkdtemp(join(tmpdir(), "edgeca-init-")), "ca");
});
afterEach(async () => {
  await rm(join(dir, ".."), { recursive: true, force: true });
});

async function quietly<T>(f: () => Promise<T>): Promise<T> {
  const log = console.log;
  console.log = () => undefined;
  try {
    return await f();
  } finally {
    console.log = log;
  }
}

describe("edgeca init", () => {
  it("writes the documented layout, private keys readable by the owner only", async () => {
    expect(await quietly(() => initCommand.run(["--out", dir]))).toBe(0);
    for (const f of ["root-cert.pem", "client-cert.pem", "client-ca-cert.pem", "worker/config.json"]) {
      expect((await stat(join(dir, f))).mode & 0o777, f).toBe(0o644);
    }
    for (const f of ["client-key.pem", "worker/secrets.json", "offline/root-key.pem", "offline/client-ca-key.pem"]) {
      expect((await stat(join(dir, f))).mode & 0o777, f).toBe(0o600);
    }
  });

  it("writes a configuration the signer's schema accepts and the signing core loads and issues with", async () => {
    await quietly(() => initCommand.run(["--out", dir, "--signer-name", "example.org/mesh", "--trust-domain", "mesh.example"]));
    const configText = await readFile(join(dir, "worker/config.json"), "utf8");
    const config = SignerConfig.parse(JSON.parse(configText));
    expect(config.signerNames).toEqual(["example.org/mesh"]);
    expect(config.clusters[0]?.policy.trustDomain).toBe("mesh.example");
    expect(config.clusters[0]?.token).toBeUndefined();
    const secrets = JSON.parse(await readFile(join(dir, "worker/secrets.json"), "utf8")) as Record<string, string>;
    const core = await SigningCore.load({ EDGECA_CONFIG: configText, ...secrets });
    const csr = await createIstioCsr({ keyType: "P-256", uris: ["spiffe://mesh.example/ns/default/sa/web"] });
    const answer = await core.sign(
      { signerName: "example.org/mesh", csr: csr.csrPem, usages: ["digital signature", "client auth"], requestor: { username: "system:serviceaccount:istio-system:istiod" } },
      core.cluster("default"),
    );
    const leaf = new X509Certificate(answer.certificateChain);
    const root = new X509Certificate(await readFile(join(dir, "root-cert.pem")));
    const issuing = new X509Certificate(answer.certificateChain.slice(answer.certificateChain.indexOf("-----END CERTIFICATE-----") + 26));
    expect(issuing.verify(root.publicKey)).toBe(true);
    expect(leaf.verify(issuing.publicKey)).toBe(true);
  });

  it("pins the client certificate's fingerprint, and the client CA verifies it", async () => {
    await quietly(() => initCommand.run(["--out", dir]));
    const client = new X509Certificate(await readFile(join(dir, "client-cert.pem")));
    const clientCa = new X509Certificate(await readFile(join(dir, "client-ca-cert.pem")));
    expect(client.verify(clientCa.publicKey)).toBe(true);
    const config = SignerConfig.parse(JSON.parse(await readFile(join(dir, "worker/config.json"), "utf8")));
    expect(config.clusters[0]?.clientCertificates.sha256Fingerprints).toEqual([client.fingerprint256.replaceAll(":", "").toLowerCase()]);
  });

  it("keeps the root and client-CA keys out of what goes to the Worker", async () => {
    const material = await createMaterial();
    await writeMaterial(dir, material);
    const worker = (await readFile(join(dir, "worker/config.json"), "utf8")) + (await readFile(join(dir, "worker/secrets.json"), "utf8"));
    const body = (pem: string) => pem.split("\n").slice(1, 3).join("");
    expect(worker).not.toContain(body(material.root.keyPem));
    expect(worker).not.toContain(body(material.clientCa.keyPem));
    expect(worker).not.toContain(body(material.client.keyPem));
    expect(Object.keys(material.secrets)).toEqual(["EDGECA_CA_KEY_CA1"]);
    expect(material.config.roots).toEqual([material.root.certPem]);
    expect(material.config.issuers[0]?.chain).not.toContain(material.root.certPem.split("\n")[1]);
  });

  it("refuses to overwrite existing material and names the file; --force replaces it", async () => {
    await quietly(() => initCommand.run(["--out", dir]));
    const before = await readFile(join(dir, "offline/root-key.pem"), "utf8");
    await expect(initCommand.run(["--out", dir])).rejects.toThrow(UsageError);
    await expect(initCommand.run(["--out", dir])).rejects.toThrow(`${join(dir, "root-cert.pem")} exists`);
    expect(await readFile(join(dir, "offline/root-key.pem"), "utf8")).toBe(before);
    expect(await quietly(() => initCommand.run(["--out", dir, "--force"]))).toBe(0);
    expect(await readFile(join(dir, "offline/root-key.pem"), "utf8")).not.toBe(before);
  });

  it("refuses when any single file of the layout exists, before writing anything", async () => {
    const material = await createMaterial();
    await writeMaterial(dir, material);
    await rm(join(dir, "root-cert.pem"));
    await expect(writeMaterial(dir, await createMaterial())).rejects.toThrow(MaterialExistsError);
    await expect(stat(join(dir, "root-cert.pem"))).rejects.toThrow();
    expect(materialFiles(material).map((f) => f.path)).toContain("offline/client-ca-key.pem");
  });

  it("requires the token when given the cluster's JWKS", async () => {
    const { publicKey } = await generateKeyPair("RS256");
    const jwksPath = join(tmpdir(), `edgeca-jwks-${process.pid}.json`);
    await writeFile(jwksPath, JSON.stringify({ keys: [{ ...(await exportJWK(publicKey)), kid: "k1" }] }));
    try {
      await quietly(() => initCommand.run(["--out", dir, "--jwks", jwksPath, "--token-audience", "edgeca", "--token-issuer", "https://issuer.example"]));
      const config = SignerConfig.parse(JSON.parse(await readFile(join(dir, "worker/config.json"), "utf8")));
      expect(config.clusters[0]?.token).toMatchObject({ issuer: "https://issuer.example", audience: "edgeca", subject: "system:serviceaccount:edgeca-system:edgeca-shim" });
    } finally {
      await rm(jwksPath, { force: true });
    }
  });

  it.each([
    [[], "--out DIR is required"],
    [["--out", "x", "--jwks", "j.json"], "--jwks needs --token-audience"],
    [["--out", "x", "--token-audience", "a"], "--token-audience needs --jwks"],
    [["--out", "x", "--signer-name", "nope"], "--signer-name"],
    [["--out", "x", "--trust-domain", "Bad Domain"], "--trust-domain"],
    [["--out", "x", "--jwks", "/nonexistent/jwks.json", "--token-audience", "a"], "--jwks /nonexistent/jwks.json: cannot read"],
    [["--out", "x", "--bogus"], "bogus"],
  ])("names the flag that is wrong: %j", async (argv, message) => {
    await expect(initCommand.run(argv)).rejects.toThrow(UsageError);
    await expect(initCommand.run(argv)).rejects.toThrow(message);
  });
});
