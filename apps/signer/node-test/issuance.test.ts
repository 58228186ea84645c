/**
 * Certificates from the signing core, run in Node, checked by parsers that share no code with it:
 * Node's `X509Certificate` (OpenSSL inside) and the `openssl` command line, field by field.
 */
import { execFileSync } from "node:child_process";
import { X509Certificate } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConfigurationError, decodePemBlocks, encodePem, SignResponse } from "@edgeca/shared";
import { SigningCore } from "../src/core.ts";
import type { TestFixtures } from "../test/support/fixtures.ts";
import { ISTIOD, makeFixtures, makeIntermediate, makeRoot, SIGNER_NAME, WORKLOAD_ID } from "./material.ts";

let fx: TestFixtures;
let core: SigningCore;
let dir: string;

beforeAll(async () => {
  fx = await makeFixtures();
  core = await SigningCore.load({ EDGECA_CONFIG: JSON.stringify(fx.configs.a), ...fx.secrets });
  dir = mkdtempSync(join(tmpdir(), "edgeca-signer-"));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

async function issue(csr: string, usages = ["digital signature", "key encipherment", "server auth", "client auth"], expirationSeconds = 86_400): Promise<SignResponse> {
  return SignResponse.parse(await core.sign({ signerName: SIGNER_NAME, csr, usages, expirationSeconds, requestor: { username: ISTIOD } }, core.cluster("plain")));
}

function split(chain: string): { leaf: string; intermediates: string } {
  const [leaf, ...rest] = decodePemBlocks(chain).map((d) => encodePem(d, "CERTIFICATE"));
  if (leaf === undefined) throw new Error("empty chain");
  return { leaf, intermediates: rest.join("") };
}

function openssl(args: string[]): string {
  return execFileSync("openssl", args, { encoding: "utf8" });
}

describe("issued workload certificate, as node:crypto sees it", () => {
  it.each(["workloadP256", "workloadRsa2048", "workloadP384"] as const)("%s: empty subject, the SPIFFE URI SAN, not a CA, signed by the issuing CA", async (name) => {
    const answer = await issue(fx.csrs[name]);
    const { leaf, intermediates } = split(answer.certificateChain);
    const cert = new X509Certificate(leaf);
    const issuer = new X509Certificate(intermediates);
    // An empty subject Name: Node reports no subject at all.
    expect([undefined, ""]).toContain(cert.subject);
    expect(cert.subjectAltName).toBe(`URI:${WORKLOAD_ID}`);
    expect(cert.ca).toBe(false);
    expect(cert.checkIssued(issuer)).toBe(true);
    expect(cert.verify(issuer.publicKey)).toBe(true);
    expect(cert.serialNumber.toLowerCase()).toBe(answer.serialNumber);
    expect(new Date(cert.validFrom).toISOString()).toBe(answer.notBefore);
    expect(new Date(cert.validTo).toISOString()).toBe(answer.notAfter);
    expect(cert.keyUsage).toEqual(["1.3.6.1.5.5.7.3.1", "1.3.6.1.5.5.7.3.2"]);
  });
});

describe("issued certificate, as openssl sees it", () => {
  it("has the profile of docs/certificate-profile.md, field by field", async () => {
    const { leaf, intermediates } = split((await issue(fx.csrs.workloadP256)).certificateChain);
    writeFileSync(join(dir, "leaf.pem"), leaf);
    const text = openssl(["x509", "-in", join(dir, "leaf.pem"), "-noout", "-text"]);
    expect(text).toMatch(/Version: 3 \(0x2\)/);
    expect(text).toMatch(/Subject: *\n/);
    expect(text).toMatch(/X509v3 Subject Alternative Name: critical\s+URI:spiffe:\/\/cluster\.local\/ns\/default\/sa\/web\n/);
    expect(text).toMatch(/X509v3 Key Usage: critical\s+Digital Signature, Key Encipherment\n/);
    expect(text).toMatch(/X509v3 Extended Key Usage: \s+TLS Web Server Authentication, TLS Web Client Authentication\n/);
    expect(text).toMatch(/X509v3 Basic Constraints: critical\s+CA:FALSE\n/);
    expect(text).toMatch(/X509v3 Subject Key Identifier: \s+[0-9A-F:]{59}\n/);
    expect(text).toMatch(/Signature Algorithm: ecdsa-with-SHA256/);
    // Nothing else: exactly these five extensions plus the AKI.
    expect(text.match(/X509v3 [A-Za-z ]+:/g)?.filter((m) => m !== "X509v3 extensions:")).toHaveLength(6);
    const issuerText = openssl(["x509", "-noout", "-text"].concat(["-in", writeTemp("issuer.pem", intermediates)]));
    const issuerSki = /X509v3 Subject Key Identifier: \s+([0-9A-F:]+)/.exec(issuerText)?.[1];
    expect(issuerSki).toBeDefined();
    expect(text).toContain(`X509v3 Authority Key Identifier: \n                ${issuerSki ?? "?"}`);
  });

  it("never copies requested extensions: the profile decides KeyUsage and ExtendedKeyUsage", async () => {
    const { leaf } = split((await issue(fx.csrs.extraExtensions)).certificateChain);
    const text = openssl(["x509", "-in", writeTemp("extra.pem", leaf), "-noout", "-text"]);
    expect(text).toMatch(/X509v3 Key Usage: critical\s+Digital Signature, Key Encipherment\n/);
    expect(text).not.toMatch(/Certificate Sign|Code Signing/);
    expect(text.match(/X509v3 [A-Za-z ]+:/g)?.filter((m) => m !== "X509v3 extensions:")).toHaveLength(6);
  });

  it("verifies to the root with openssl verify, the root not in the chain", async () => {
    const { leaf, intermediates } = split((await issue(fx.csrs.workloadRsa2048)).certificateChain);
    const out = openssl([
      "verify",
      "-CAfile",
      writeTemp("root.pem", fx.roots.a),
      "-untrusted",
      writeTemp("chain.pem", intermediates),
      "-purpose",
      "sslserver",
      writeTemp("leaf2.pem", leaf),
    ]);
    expect(out.trim().endsWith(": OK")).toBe(true);
  });

  it("issues a control-plane certificate with only the DNS SAN, without client auth when not asked", async () => {
    const { leaf } = split((await issue(fx.csrs.controlPlane, ["digital signature", "key encipherment", "server auth"])).certificateChain);
    const cert = new X509Certificate(leaf);
    expect(cert.subjectAltName).toBe("DNS:istiod.istio-system.svc");
    expect(cert.keyUsage).toEqual(["1.3.6.1.5.5.7.3.1"]);
  });

  it("truncates to the issuing CA's NotAfter", async () => {
    const short = await SigningCore.load({ EDGECA_CONFIG: JSON.stringify(fx.configs.short), ...fx.secrets });
    const answer = SignResponse.parse(
      await short.sign({ signerName: SIGNER_NAME, csr: fx.csrs.workloadP256, usages: ["digital signature"], requestor: { username: ISTIOD } }, short.cluster("plain")),
    );
    const { leaf, intermediates } = split(answer.certificateChain);
    expect(new X509Certificate(leaf).validTo).toBe(new X509Certificate(intermediates).validTo);
  });
});

function writeTemp(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

describe("issuing CA validity", () => {
  it("refuses to sign with 503 once the active issuing CA has expired, and says when", async () => {
    const later = await SigningCore.load({ EDGECA_CONFIG: JSON.stringify(fx.configs.short), ...fx.secrets }, { now: () => Date.now() + 2 * 3_600_000 });
    expect(later.unreadiness()).toMatch(/issuing CA "short" expired at/);
    await expect(
      later.sign({ signerName: SIGNER_NAME, csr: fx.csrs.workloadP256, usages: ["digital signature"], requestor: { username: ISTIOD } }, later.cluster("plain")),
    ).rejects.toMatchObject({ code: "unavailable", status: 503 });
  });
});

describe("an RSA-2048 issuing CA", () => {
  it("signs with sha256WithRSAEncryption; the leaf verifies against it and the chain against the root (node:crypto and openssl)", async () => {
    const root = await makeRoot("CN=edgeca test root R");
    const rsaCa = await makeIntermediate(root, "CN=edgeca test RSA issuing CA", 365, true);
    const config = { ...fx.configs.a, issuers: [{ id: "rsa", chain: rsaCa.pem, keySecret: "EDGECA_CA_KEY_RSA" }], activeIssuer: "rsa", roots: [root.pem] };
    const rsaCore = await SigningCore.load({ EDGECA_CONFIG: JSON.stringify(config), EDGECA_CA_KEY_RSA: rsaCa.keyPem });
    const answer = SignResponse.parse(
      await rsaCore.sign(
        { signerName: SIGNER_NAME, csr: fx.csrs.workloadP256, usages: ["digital signature", "server auth", "client auth"], requestor: { username: ISTIOD } },
        rsaCore.cluster("plain"),
      ),
    );
    const { leaf, intermediates } = split(answer.certificateChain);
    const cert = new X509Certificate(leaf);
    const issuer = new X509Certificate(intermediates);
    expect(cert.checkIssued(issuer)).toBe(true);
    expect(cert.verify(issuer.publicKey)).toBe(true);
    expect(cert.subjectAltName).toBe(`URI:${WORKLOAD_ID}`);
    const leafFile = join(dir, "rsa-leaf.pem");
    const chainFile = join(dir, "rsa-chain.pem");
    const rootFile = join(dir, "rsa-root.pem");
    writeFileSync(leafFile, leaf);
    writeFileSync(chainFile, intermediates);
    writeFileSync(rootFile, root.pem);
    expect(openssl(["x509", "-in", leafFile, "-noout", "-text"])).toMatch(/Signature Algorithm: sha256WithRSAEncryption/);
    expect(openssl(["verify", "-CAfile", rootFile, "-untrusted", chainFile, leafFile]).trim()).toBe(`${leafFile}: OK`);
  });
});

describe("a configuration the core cannot load", () => {
  it("is refused with the shared ConfigurationError (the shim's class too), naming the fault", async () => {
    const unset = await SigningCore.load({}).then(() => undefined, (e: unknown) => e);
    expect(unset).toBeInstanceOf(ConfigurationError);
    expect((unset as Error).message).toBe("EDGECA_CONFIG is not set");
    const noKey = await SigningCore.load({ EDGECA_CONFIG: JSON.stringify(fx.configs.a) }).then(() => undefined, (e: unknown) => e);
    expect(noKey).toBeInstanceOf(ConfigurationError);
    expect((noKey as Error).message).toMatch(/secret EDGECA_CA_KEY_\w+ is not set/);
  });
});
