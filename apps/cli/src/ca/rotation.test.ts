/**
 * The rotation commands on real `edgeca init` directories, checked with the signer's own core:
 * A → A+B → B with a new root, a new issuer under the current root, and every refusal leaving the
 * directory as it was.
 */
import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import { execFile } from "node:child_process";
import { webcrypto, X509Certificate } from "node:crypto";
import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { SignerConfig } from "@edgeca/shared";
import { SigningCore } from "@edgeca/signer/core";
import { UsageError } from "../command.ts";
import { caActivateCommand } from "../commands/ca-activate.ts";
import { caAddIssuerCommand } from "../commands/ca-add-issuer.ts";
import { caListCommand } from "../commands/ca-list.ts";
import { caRemoveCommand } from "../commands/ca-remove.ts";
import { createMaterial, writeMaterial } from "../init/index.ts";
import { certificatesOf, fingerprintOf } from "./certificates.ts";

let dir: string;
beforeEach(async () => {
  dir = join(await mkdtemp(join(tmpdir(), "edgeca-rotate-")), "ca");
  await writeMaterial(dir, await createMaterial());
});
afterEach(async () => {
  await rm(join(dir, ".."), { recursive: true, force: true });
});

/** Runs a command with its output captured; resolves to the exit status and what it printed. */
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

async function secrets(): Promise<Record<string, string>> {
  return JSON.parse(await read("worker/secrets.json")) as Record<string, string>;
}

/** Loads DIR as the signer would: EDGECA_CONFIG from config.json, the keys from secrets.json. */
async function loadCore(): Promise<SigningCore> {
  return SigningCore.load({ EDGECA_CONFIG: await read("worker/config.json"), ...(await secrets()) });
}

/** Signs a workload CSR (ECDSA P-256, one SPIFFE URI SAN, as ztunnel sends) with the active issuer. */
async function signWorkload(core: SigningCore): Promise<string> {
  const keys = await webcrypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, ["sign", "verify"]);
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    keys,
    signingAlgorithm: { name: "ECDSA", hash: "SHA-256" },
    extensions: [new x509.SubjectAlternativeNameExtension([{ type: "url", value: "spiffe://cluster.local/ns/default/sa/web" }], true)],
  });
  const answer = await core.sign(
    { signerName: "example.com/foo", csr: csr.toString("pem"), usages: ["digital signature", "client auth"], requestor: { username: "system:serviceaccount:istio-system:istiod" } },
    core.cluster("default"),
  );
  return answer.certificateChain;
}

/** `openssl verify` of a leaf with its intermediates against a CA file; resolves to openssl's output. */
async function opensslVerify(chainPem: string, caFile: string): Promise<string> {
  const [leaf, ...rest] = certificatesOf(chainPem);
  const tmp = join(dir, "..");
  await writeFile(join(tmp, "leaf.pem"), leaf?.toString() ?? "");
  await writeFile(join(tmp, "untrusted.pem"), rest.map((c) => c.toString()).join(""));
  const { stdout } = await promisify(execFile)("openssl", ["verify", "-CAfile", caFile, "-untrusted", join(tmp, "untrusted.pem"), join(tmp, "leaf.pem")]);
  return stdout;
}

async function snapshot(): Promise<string[]> {
  return Promise.all(["worker/config.json", "worker/secrets.json", "root-cert.pem"].map(read));
}

describe("edgeca ca: a rotation A → A+B → B", () => {
  it("with a new root: both roots published while A signs, then B signs and chains to root B, then A and root A are gone", async () => {
    const rootA = new X509Certificate(await read("root-cert.pem"));

    const added = await run(caAddIssuerCommand, "--dir", dir, "--id", "ca2", "--new-root");
    expect(added.status).toBe(0);
    // A new root must reach istiod before B signs: the next steps say so, in that order.
    expect(added.out.indexOf("rollout restart deploy/istiod")).toBeGreaterThan(added.out.indexOf("wrangler secret bulk"));
    expect(added.out.indexOf("ca activate")).toBeGreaterThan(added.out.indexOf("rollout restart deploy/istiod"));
    const rootB = new X509Certificate(await read("root-ca2-cert.pem"));
    let core = await loadCore();
    expect(core.bundle.roots.map((r) => new X509Certificate(r).fingerprint256)).toEqual([rootA.fingerprint256, rootB.fingerprint256]);
    expect(certificatesOf(await read("root-cert.pem")).map(fingerprintOf)).toEqual([fingerprintOf(rootA), fingerprintOf(rootB)]);
    expect((await stat(join(dir, "offline/root-ca2-key.pem"))).mode & 0o777).toBe(0o600);
    expect((await stat(join(dir, "worker/secrets.json"))).mode & 0o777).toBe(0o600);
    expect(Object.keys(await secrets()).sort()).toEqual(["EDGECA_CA_KEY_CA1", "EDGECA_CA_KEY_CA2"]);
    expect(core.active.id).toBe("ca1");
    const fromA = await signWorkload(core);
    expect(certificatesOf(fromA)[1]?.checkIssued(rootA)).toBe(true);
    expect(await opensslVerify(fromA, join(dir, "root-cert.pem"))).toContain("OK");

    expect((await run(caActivateCommand, "--dir", dir, "--id", "ca2")).status).toBe(0);
    core = await loadCore();
    expect(core.active.id).toBe("ca2");
    const fromB = await signWorkload(core);
    const [leaf, issuing] = certificatesOf(fromB);
    expect(issuing?.subject).toBe("CN=edgeca issuing CA ca2");
    expect(issuing?.verify(rootB.publicKey)).toBe(true);
    expect(leaf !== undefined && issuing !== undefined && leaf.verify(issuing.publicKey)).toBe(true);
    expect(await opensslVerify(fromB, join(dir, "root-ca2-cert.pem"))).toContain("OK");

    const removed = await run(caRemoveCommand, "--dir", dir, "--id", "ca1", "--with-root");
    expect(removed.status).toBe(0);
    expect(removed.out).toContain("npm run wrangler -- secret delete EDGECA_CA_KEY_CA1");
    const config = SignerConfig.parse(JSON.parse(await read("worker/config.json")));
    expect(config.issuers.map((i) => i.id)).toEqual(["ca2"]);
    expect(config.roots.map((r) => fingerprintOf(new X509Certificate(r)))).toEqual([fingerprintOf(rootB)]);
    expect(Object.keys(await secrets())).toEqual(["EDGECA_CA_KEY_CA2"]);
    expect(certificatesOf(await read("root-cert.pem")).map(fingerprintOf)).toEqual([fingerprintOf(rootB)]);
    expect((await loadCore()).bundle.roots).toHaveLength(1);
    // Material is never lost: the old root's key stays offline for the operator to destroy.
    expect(await read("offline/root-key.pem")).toContain("PRIVATE KEY");
  });

  it("under the current root: the bundle stays one root, B chains to it; after a root rotation the new root's key is found", async () => {
    const rootA = new X509Certificate(await read("root-cert.pem"));
    const added = await run(caAddIssuerCommand, "--dir", dir, "--id", "ca2");
    expect(added.status).toBe(0);
    expect(added.out).toContain("npm run wrangler -- secret bulk");
    expect(added.out).not.toContain("rollout restart");
    expect((await loadCore()).bundle.roots).toHaveLength(1);
    expect(await read("root-cert.pem")).toBe(rootA.toString());
    await run(caActivateCommand, "--dir", dir, "--id", "ca2");
    const fromB = await signWorkload(await loadCore());
    expect(certificatesOf(fromB)[1]?.verify(rootA.publicKey)).toBe(true);

    // A root rotation, then another issuer under the now-current root B: its key is offline/root-ca3-key.pem.
    await run(caAddIssuerCommand, "--dir", dir, "--id", "ca3", "--new-root");
    await run(caActivateCommand, "--dir", dir, "--id", "ca3");
    await run(caAddIssuerCommand, "--dir", dir, "--id", "ca4");
    const rootB = new X509Certificate(await read("root-ca3-cert.pem"));
    await run(caActivateCommand, "--dir", dir, "--id", "ca4");
    const fromD = await signWorkload(await loadCore());
    expect(certificatesOf(fromD)[1]?.verify(rootB.publicKey)).toBe(true);
  });

  it("lists issuers and roots with the active one, subjects and SHA-256 fingerprints", async () => {
    await run(caAddIssuerCommand, "--dir", dir, "--id", "ca2", "--new-root");
    const { status, out } = await run(caListCommand, "--dir", dir);
    expect(status).toBe(0);
    expect(out).toMatch(/ca1\s+yes\s+CN=edgeca issuing CA ca1/);
    expect(out).toMatch(/ca2\s+CN=edgeca issuing CA ca2 .* #2/);
    expect(out).toContain(fingerprintOf(new X509Certificate(await read("root-ca2-cert.pem"))));
    expect(out).toContain(fingerprintOf(certificatesOf(await read("root-cert.pem"))[0] ?? new X509Certificate(await read("root-ca2-cert.pem"))));
  });

  it("works after secrets.json was deleted (uploaded already): the new key alone is written, the old issuer's chain still checked", async () => {
    await rm(join(dir, "worker/secrets.json"));
    const added = await run(caAddIssuerCommand, "--dir", dir, "--id", "ca2", "--new-root");
    expect(added.status).toBe(0);
    expect(added.out).toContain("ca1 have no key");
    expect(Object.keys(await secrets())).toEqual(["EDGECA_CA_KEY_CA2"]);
    expect((await run(caActivateCommand, "--dir", dir, "--id", "ca2")).status).toBe(0);
    expect((await run(caRemoveCommand, "--dir", dir, "--id", "ca1", "--with-root")).status).toBe(0);
    expect((await loadCore()).active.id).toBe("ca2");
  });
});

describe("edgeca ca: refusals leave the directory as it was", () => {
  async function refused(command: { run(argv: readonly string[]): Promise<number> }, argv: string[], message: RegExp): Promise<void> {
    const before = await snapshot();
    await expect(run(command, ...argv)).rejects.toThrow(UsageError);
    await expect(run(command, ...argv)).rejects.toThrow(message);
    expect(await snapshot()).toEqual(before);
  }

  it("refuses an unknown id", async () => {
    await refused(caActivateCommand, ["--dir", dir, "--id", "nope"], /--id nope: no issuer "nope" in .*worker\/config\.json \(issuers: ca1\)/);
    await refused(caRemoveCommand, ["--dir", dir, "--id", "nope"], /no issuer "nope"/);
  });

  it("refuses to remove the active issuer", async () => {
    await refused(caRemoveCommand, ["--dir", dir, "--id", "ca1"], /issuer "ca1" is active; activate another issuer first/);
  });

  it("refuses a duplicate id without --force, and replacing the active issuer even with it", async () => {
    await refused(caAddIssuerCommand, ["--dir", dir, "--id", "ca1"], /issuer "ca1" already exists .* --force/);
    await refused(caAddIssuerCommand, ["--dir", dir, "--id", "ca1", "--force"], /is the active issuer/);
    await run(caAddIssuerCommand, "--dir", dir, "--id", "ca2");
    const key = (await secrets()).EDGECA_CA_KEY_CA2;
    await refused(caAddIssuerCommand, ["--dir", dir, "--id", "ca2"], /already exists/);
    expect((await run(caAddIssuerCommand, "--dir", dir, "--id", "ca2", "--force")).status).toBe(0);
    expect((await secrets()).EDGECA_CA_KEY_CA2).not.toBe(key);
    expect((await loadCore()).issuers.get("ca2")).toBeDefined();
  });

  it("refuses a new issuer under the current root when the offline root key is missing, naming the file", async () => {
    await rm(join(dir, "offline/root-key.pem"));
    await refused(caAddIssuerCommand, ["--dir", dir, "--id", "ca2"], /key of the current root "CN=edgeca root CA" is not in .*offline \(looked for .*offline\/root-key\.pem.*--new-root/);
  });

  it("refuses a secrets.json key the signer would not load (the signing core's check, not only the schema)", async () => {
    const material = await createMaterial();
    await writeFile(join(dir, "worker/secrets.json"), JSON.stringify({ EDGECA_CA_KEY_CA1: material.issuing.keyPem }));
    await refused(caAddIssuerCommand, ["--dir", dir, "--id", "ca2", "--new-root"], /the signer would not load it: issuer "ca1": secret EDGECA_CA_KEY_CA1 does not match/);
  });

  it("refuses --with-root while another issuer chains to that root", async () => {
    await run(caAddIssuerCommand, "--dir", dir, "--id", "ca2");
    await run(caActivateCommand, "--dir", dir, "--id", "ca2");
    await refused(caRemoveCommand, ["--dir", dir, "--id", "ca1", "--with-root"], /the root of "ca1" also issued "ca2"/);
  });

  it("names a bad flag: a missing --dir, an invalid id, a directory that is not an init directory", async () => {
    await expect(run(caListCommand)).rejects.toThrow(/--dir DIR is required/);
    await refused(caAddIssuerCommand, ["--dir", dir, "--id", "bad id"], /--id "bad id": an issuer id is 1–32/);
    await expect(run(caListCommand, "--dir", join(dir, "worker"))).rejects.toThrow(/worker\/worker\/config\.json not found/);
    await expect(run(caAddIssuerCommand, "--dir", dir, "--id", "ca2", "--new-rot")).rejects.toThrow(UsageError);
  });
});
