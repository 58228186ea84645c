import "reflect-metadata";
import { webcrypto } from "node:crypto";
import {
  BasicConstraintsExtension,
  KeyUsageFlags,
  KeyUsagesExtension,
  Pkcs10CertificateRequestGenerator,
  SubjectAlternativeNameExtension,
  X509CertificateGenerator,
  type X509Certificate,
} from "@peculiar/x509";
import { beforeAll, describe, expect, it } from "vitest";
import { readRequest, readRoots, verifyAnswer, VerificationError, type ChainCertificate, type RequestedCertificate } from "./verify-answer.ts";

// A small PKI made at test time (keys are never committed): root → intermediate → leaf, as the signer issues.
const EC = { name: "ECDSA", namedCurve: "P-256" } as const;
const SIGN = { name: "ECDSA", hash: "SHA-256" } as const;
const SPIFFE = "spiffe://cluster.local/ns/default/sa/web";

async function keys(): Promise<webcrypto.CryptoKeyPair> {
  return (await webcrypto.subtle.generateKey(EC, true, ["sign", "verify"]));
}

async function ca(name: string, signer?: { cert: X509Certificate; key: webcrypto.CryptoKey }): Promise<{ cert: X509Certificate; keys: webcrypto.CryptoKeyPair }> {
  const pair = await keys();
  const extensions = [new BasicConstraintsExtension(true, undefined, true), new KeyUsagesExtension(KeyUsageFlags.keyCertSign | KeyUsageFlags.cRLSign, true)];
  const cert =
    signer === undefined
      ? await X509CertificateGenerator.createSelfSigned({ name, keys: pair, signingAlgorithm: SIGN, extensions })
      : await X509CertificateGenerator.create({ subject: name, issuer: signer.cert.subject, publicKey: pair.publicKey, signingKey: signer.key, signingAlgorithm: SIGN, extensions });
  return { cert, keys: pair };
}

async function leaf(
  issuer: { cert: X509Certificate; keys: webcrypto.CryptoKeyPair },
  publicKey: webcrypto.CryptoKey,
  options: { san?: string; isCa?: boolean; notAfter?: Date; notBefore?: Date } = {},
): Promise<X509Certificate> {
  return await X509CertificateGenerator.create({
    subject: "",
    issuer: issuer.cert.subject,
    publicKey,
    signingKey: issuer.keys.privateKey,
    signingAlgorithm: SIGN,
    notBefore: options.notBefore ?? new Date(Date.now() - 300_000),
    notAfter: options.notAfter ?? new Date(Date.now() + 86_400_000),
    extensions: [
      new SubjectAlternativeNameExtension([{ type: "url", value: options.san ?? SPIFFE }], true),
      new BasicConstraintsExtension(options.isCa ?? false, undefined, true),
    ],
  });
}

let root: Awaited<ReturnType<typeof ca>>;
let intermediate: Awaited<ReturnType<typeof ca>>;
let workload: webcrypto.CryptoKeyPair;
let request: RequestedCertificate;
let roots: ChainCertificate[];

const pem = (...certs: X509Certificate[]): string => certs.map((c) => c.toString("pem")).join("\n");

beforeAll(async () => {
  root = await ca("CN=test root");
  intermediate = await ca("CN=test issuing", { cert: root.cert, key: root.keys.privateKey });
  workload = await keys();
  const csr = await Pkcs10CertificateRequestGenerator.create({
    keys: workload,
    signingAlgorithm: SIGN,
    extensions: [new SubjectAlternativeNameExtension([{ type: "url", value: SPIFFE }], true)],
  });
  request = readRequest(csr.toString("pem"));
  roots = readRoots(root.cert.toString("pem"));
});

describe("verifyAnswer", () => {
  it("accepts leaf + intermediate chaining to a bundle root, with the CSR's key and SANs", async () => {
    const chain = pem(await leaf(intermediate, workload.publicKey), intermediate.cert);
    expect(() => { verifyAnswer(request, chain, roots, Date.now()); }).not.toThrow();
  });

  it("refuses a leaf whose public key is not the CSR's", async () => {
    const other = await keys();
    const chain = pem(await leaf(intermediate, other.publicKey), intermediate.cert);
    expect(() => { verifyAnswer(request, chain, roots, Date.now()); }).toThrow(/public key is not the CSR's/);
  });

  it("refuses a chain that leads to no root of the bundle", async () => {
    const stranger = await ca("CN=other root");
    const chain = pem(await leaf(stranger, workload.publicKey));
    expect(() => { verifyAnswer(request, chain, roots, Date.now()); }).toThrow(/does not lead to a root/);
  });

  it("refuses SANs other than the requested ones", async () => {
    const chain = pem(await leaf(intermediate, workload.publicKey, { san: "spiffe://cluster.local/ns/kube-system/sa/admin" }), intermediate.cert);
    expect(() => { verifyAnswer(request, chain, roots, Date.now()); }).toThrow(/SANs/);
  });

  it("refuses a chain that carries the root", async () => {
    const chain = pem(await leaf(intermediate, workload.publicKey), intermediate.cert, root.cert);
    expect(() => { verifyAnswer(request, chain, roots, Date.now()); }).toThrow(/includes a root/);
  });

  it("refuses a CA certificate as the leaf", async () => {
    const chain = pem(await leaf(intermediate, workload.publicKey, { isCa: true }), intermediate.cert);
    expect(() => { verifyAnswer(request, chain, roots, Date.now()); }).toThrow(VerificationError);
  });

  it("refuses a leaf that is not valid now", async () => {
    const chain = pem(await leaf(intermediate, workload.publicKey, { notBefore: new Date(Date.now() - 7_200_000), notAfter: new Date(Date.now() - 3_600_000) }), intermediate.cert);
    expect(() => { verifyAnswer(request, chain, roots, Date.now()); }).toThrow(/not valid now/);
  });

  it("refuses text after the last certificate and blocks other than CERTIFICATE", async () => {
    const good = pem(await leaf(intermediate, workload.publicKey), intermediate.cert);
    expect(() => { verifyAnswer(request, `${good}\ntrailing text`, roots, Date.now()); }).toThrow(/unexpected text/);
    expect(() => { verifyAnswer(request, `${good}\n-----BEGIN PRIVATE KEY-----\nMAA=\n-----END PRIVATE KEY-----\n`, roots, Date.now()); }).toThrow(/expected CERTIFICATE, found PRIVATE KEY/);
  });
});

describe("verifyAnswer's cache of the certificates above the leaf (verified-issuer.ts)", () => {
  it("verifies them afresh for another root set or another intermediate", async () => {
    const chain = pem(await leaf(intermediate, workload.publicKey), intermediate.cert);
    verifyAnswer(request, chain, roots, Date.now());
    // A rotation that dropped the root: the chain verified a moment ago no longer leads to a root.
    const rotated = readRoots((await ca("CN=next root")).cert.toString("pem"));
    expect(() => { verifyAnswer(request, chain, rotated, Date.now()); }).toThrow(/does not lead to a root/);
    // The same bundle fetched again is a new root set: checked again, and still good.
    expect(() => { verifyAnswer(request, chain, readRoots(root.cert.toString("pem")), Date.now()); }).not.toThrow();
    // Same name and key as the verified intermediate, issued by a root outside the bundle: other bytes, so
    // checked, and refused (a cache keyed by name or key would accept it).
    const stranger = await ca("CN=stranger root");
    const forged = await X509CertificateGenerator.create({
      subject: intermediate.cert.subject,
      issuer: stranger.cert.subject,
      publicKey: intermediate.keys.publicKey,
      signingKey: stranger.keys.privateKey,
      signingAlgorithm: SIGN,
      extensions: [new BasicConstraintsExtension(true, undefined, true), new KeyUsagesExtension(KeyUsageFlags.keyCertSign | KeyUsageFlags.cRLSign, true)],
    });
    const forgedChain = pem(await leaf(intermediate, workload.publicKey), forged);
    expect(() => { verifyAnswer(request, forgedChain, roots, Date.now()); }).toThrow(/does not lead to a root/);
    // And the genuine chain against the same roots is still accepted afterwards.
    expect(() => { verifyAnswer(request, chain, roots, Date.now()); }).not.toThrow();
  });

  it("still checks the leaf's own signature when the intermediate is cached", async () => {
    verifyAnswer(request, pem(await leaf(intermediate, workload.publicKey), intermediate.cert), roots, Date.now());
    // Signed by another CA that took the intermediate's name: the cached intermediate does not vouch for it.
    const impostor = await ca("CN=test issuing", { cert: root.cert, key: root.keys.privateKey });
    const misissued = pem(await leaf(impostor, workload.publicKey), intermediate.cert);
    expect(() => { verifyAnswer(request, misissued, roots, Date.now()); }).toThrow(/certificate 1 of the chain is not signed by certificate 2/);
  });
});

describe("readRequest", () => {
  it("reads the key and the requested SANs", () => {
    expect(request.sans).toEqual([`uri:${SPIFFE}`]);
    expect(request.spki.length).toBeGreaterThan(60);
  });

  it("refuses something that is not a certificate request", () => {
    expect(() => readRequest(root.cert.toString("pem"))).toThrow(/not a PEM certificate request/);
    expect(() => readRequest("garbage")).toThrow(/not a PEM certificate request/);
  });
});
