/**
 * The certificate profile (src/certificate-profile.ts) sizes and writes a leaf from one description:
 * every variant of the profile — EC and RSA issuers, P-256/P-384/RSA-2048/RSA-4096 keys, a URI SAN, DNS
 * SANs whose lengths cross the DER length-octet boundaries, the pod profile, no EKU, GeneralizedTime —
 * gives DER that OpenSSL (node:crypto and `openssl asn1parse`) and @peculiar/x509 read, whose
 * TBSCertificate is exactly the size computed before writing. And a part whose size and writer disagree
 * fails naming the part.
 */
import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import { execFileSync } from "node:child_process";
import { webcrypto, X509Certificate } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseCsrPem, parseSpkiDer, type KeyUsageName } from "@edgeca/shared";
import { SigningCore } from "../src/core.ts";
import { signTbs, tbsSize, writeTbs, type LeafTemplate } from "../src/certificate-builder.ts";
import { constant, element, field } from "../src/der-layout.ts";
import type { Issuer } from "../src/issuer.ts";
import type { TestFixtures } from "../test/support/fixtures.ts";
import { makeFixtures, makeIntermediate, makeRoot, WORKLOAD_ID } from "./material.ts";

x509.cryptoProvider.set(webcrypto as Crypto);

const SERVER_CLIENT = ["1.3.6.1.5.5.7.3.1", "1.3.6.1.5.5.7.3.2"];
const WORKLOAD_KU = new Set<KeyUsageName>(["digitalSignature", "keyEncipherment"]);
const POD_KU = new Set<KeyUsageName>(["digitalSignature"]);

let fx: TestFixtures;
let issuers: { readonly ec: Issuer; readonly rsa: Issuer };
let keys: Record<"p256" | "p384" | "rsa2048" | "rsa4096", { spki: Uint8Array; publicKey: Uint8Array }>;
let dir: string;

beforeAll(async () => {
  fx = await makeFixtures();
  const ec = await SigningCore.load({ EDGECA_CONFIG: JSON.stringify(fx.configs.a), ...fx.secrets });
  const root = await makeRoot("CN=edgeca profile test root");
  const rsaCa = await makeIntermediate(root, "CN=edgeca profile test RSA issuing CA", 365, true);
  const config = { ...fx.configs.a, issuers: [{ id: "rsa", chain: rsaCa.pem, keySecret: "EDGECA_CA_KEY_RSA" }], activeIssuer: "rsa", roots: [root.pem] };
  const rsa = await SigningCore.load({ EDGECA_CONFIG: JSON.stringify(config), EDGECA_CA_KEY_RSA: rsaCa.keyPem });
  issuers = { ec: ec.active, rsa: rsa.active };
  const rsa4096 = await webcrypto.subtle.generateKey({ name: "RSASSA-PKCS1-v1_5", modulusLength: 4096, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" }, true, ["sign", "verify"]);
  keys = {
    p256: parseCsrPem(fx.csrs.workloadP256),
    p384: parseCsrPem(fx.csrs.workloadP384),
    rsa2048: parseCsrPem(fx.csrs.workloadRsa2048),
    rsa4096: parseSpkiDer(new Uint8Array(await webcrypto.subtle.exportKey("spki", rsa4096.publicKey))),
  };
  dir = mkdtempSync(join(tmpdir(), "edgeca-profile-"));
}, 120_000);
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** DNS names whose GeneralNames content is about `bytes` long (the SAN's length octets change at 128 and 256). */
function dnsNamesOf(bytes: number): string[] {
  const names: string[] = [];
  for (let total = 0, i = 0; total < bytes; i++) {
    const name = `host-${i}.control-plane.cluster.local`;
    names.push(name);
    total += name.length + 2;
  }
  return names;
}

type Variant = { readonly name: string; readonly issuer: "ec" | "rsa"; readonly key: keyof typeof keys } & Partial<LeafTemplate>;

const now = Date.UTC(2026, 11, 1, 12, 0, 0);
const VARIANTS: readonly Variant[] = [
  { name: "workload, P-256 key, EC issuer", issuer: "ec", key: "p256" },
  { name: "workload, P-384 key, EC issuer", issuer: "ec", key: "p384" },
  { name: "workload, RSA-2048 key, EC issuer", issuer: "ec", key: "rsa2048" },
  { name: "workload, RSA-4096 key, RSA issuer", issuer: "rsa", key: "rsa4096" },
  { name: "workload, P-256 key, RSA issuer", issuer: "rsa", key: "p256" },
  { name: "workload URI of 130 characters", issuer: "ec", key: "p256", uris: [`spiffe://cluster.local/ns/default/sa/${"a".repeat(93)}`] },
  { name: "control plane, 3 DNS names", issuer: "ec", key: "p256", uris: [], dnsNames: ["istiod.istio-system.svc", "istiod.istio-system.svc.cluster.local", "istiod"] },
  { name: "control plane, DNS SAN over 127 bytes", issuer: "ec", key: "p384", uris: [], dnsNames: dnsNamesOf(130) },
  { name: "control plane, DNS SAN over 255 bytes", issuer: "rsa", key: "rsa4096", uris: [], dnsNames: dnsNamesOf(300) },
  { name: "pod profile (digitalSignature only)", issuer: "ec", key: "p256", keyUsage: POD_KU },
  { name: "no ExtendedKeyUsage", issuer: "ec", key: "p256", extKeyUsage: [] },
  { name: "NotAfter in 2050 (GeneralizedTime)", issuer: "rsa", key: "rsa2048", notAfter: new Date(Date.UTC(2050, 0, 1)) },
];

function template(v: Variant): LeafTemplate {
  return {
    ...keys[v.key],
    dnsNames: v.dnsNames ?? [],
    uris: v.uris ?? [WORKLOAD_ID],
    keyUsage: v.keyUsage ?? WORKLOAD_KU,
    extKeyUsage: v.extKeyUsage ?? SERVER_CLIENT,
    notBefore: v.notBefore ?? new Date(now - 300_000),
    notAfter: v.notAfter ?? new Date(now + 86_400_000),
  };
}

/** The TBSCertificate's size (header included) as `openssl asn1parse` reads the DER: the first element at depth 1. */
function opensslTbsSize(der: Uint8Array, name: string): number {
  const path = join(dir, `${name.replace(/[^a-z0-9]+/gi, "-")}.der`);
  writeFileSync(path, der);
  const out = execFileSync("openssl", ["asn1parse", "-inform", "DER", "-in", path], { encoding: "utf8" });
  const m = /^\s*\d+:d=1\s+hl=(\d+)\s+l=\s*(\d+)\s+cons: SEQUENCE/m.exec(out);
  if (m === null) throw new Error(`openssl asn1parse: no TBSCertificate in\n${out}`);
  return Number(m[1]) + Number(m[2]);
}

describe("the certificate profile: one description sizes and writes every variant", () => {
  it.each(VARIANTS.map((v) => [v.name, v] as const))("%s", async (name, v) => {
    const issuer = issuers[v.issuer];
    const leaf = template(v);
    const sized = tbsSize(issuer, leaf);
    const unsigned = writeTbs(issuer, leaf);
    expect(unsigned.tbs.length).toBe(sized);
    const signed = await signTbs(issuer, unsigned);
    expect(opensslTbsSize(signed.der, name)).toBe(sized);

    const cert = new X509Certificate(signed.der);
    expect(cert.verify(new X509Certificate(issuer.certificate.der).publicKey)).toBe(true);
    expect(cert.serialNumber.toLowerCase()).toBe(unsigned.serialNumber);
    const names = [...leaf.dnsNames.map((d) => `DNS:${d}`), ...leaf.uris.map((u) => `URI:${u}`)];
    expect(cert.subjectAltName?.split(", ")).toEqual(names);
    // Node's typing says string[]; it is undefined when the leaf has no ExtendedKeyUsage.
    if (leaf.extKeyUsage.length === 0) expect(cert.keyUsage as unknown).toBeUndefined();
    else expect(cert.keyUsage).toEqual(leaf.extKeyUsage);
    expect(new Date(cert.validTo).getTime()).toBe(leaf.notAfter.getTime());

    const peculiar = new x509.X509Certificate(new Uint8Array(signed.der));
    expect(new Uint8Array(peculiar.rawData)).toEqual(new Uint8Array(signed.der));
    const ku = peculiar.getExtension(x509.KeyUsagesExtension);
    const expectedKu = x509.KeyUsageFlags.digitalSignature | (leaf.keyUsage.has("keyEncipherment") ? x509.KeyUsageFlags.keyEncipherment : 0);
    expect(ku?.usages).toBe(expectedKu);
    expect(ku?.critical).toBe(true);
    expect(peculiar.getExtension(x509.SubjectAlternativeNameExtension)?.critical).toBe(true);
    expect(peculiar.getExtension(x509.BasicConstraintsExtension)?.ca).toBe(false);
  });
});

describe("der-layout", () => {
  it("refuses to write a field whose writer and size disagree, naming it", () => {
    const liar = element<null>("Example", 0x30, [constant("head", Uint8Array.of(5, 0)), field("body", () => 3, (out, at) => at + 2)]);
    expect(() => liar.write(new Uint8Array(16), 0, null)).toThrow("certificate profile: body wrote 2 bytes, sized 3");
  });

  it("sizes an element from its parts, length octets included", () => {
    const long = element<null>("Long", 0x04, [constant("bytes", new Uint8Array(300))]);
    expect(long.size(null)).toBe(4 + 300);
    const out = new Uint8Array(304);
    expect(long.write(out, 0, null)).toBe(304);
    expect([...out.subarray(0, 4)]).toEqual([0x04, 0x82, 0x01, 0x2c]);
  });
});
