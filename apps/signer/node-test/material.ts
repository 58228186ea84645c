/**
 * Test material made at test time in Node with `@peculiar/x509` and `jose` (never committed): roots,
 * issuing CAs, configurations for every rotation step, token keys and a corpus of CSRs.
 */
import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import { exportJWK, generateKeyPair } from "jose";
import { webcrypto } from "node:crypto";
import { der, OID, Tag, type SignerConfigInput } from "@edgeca/shared";
import { compressedEcSpki, craftCsr, extensionElement, sanExtension, spkiWithKey, spkiWithParameters } from "@edgeca/shared/testing";
import type { TestCsrs, TestFixtures } from "../test/support/fixtures.ts";

x509.cryptoProvider.set(webcrypto as Crypto);

const ECDSA_SHA256 = { name: "ECDSA", hash: "SHA-256" };
const DAY = 86_400_000;

type Keys = CryptoKeyPair;

async function ecKeys(curve = "P-256"): Promise<Keys> {
  return (await webcrypto.subtle.generateKey({ name: "ECDSA", namedCurve: curve }, true, ["sign", "verify"])) as Keys;
}
async function rsaKeys(bits: number, hash = "SHA-256", exponent = [1, 0, 1]): Promise<Keys> {
  return (await webcrypto.subtle.generateKey(
    { name: "RSASSA-PKCS1-v1_5", modulusLength: bits, publicExponent: new Uint8Array(exponent), hash },
    true,
    ["sign", "verify"],
  )) as Keys;
}

/** A CA certificate and its key. */
export interface TestCa {
  readonly cert: x509.X509Certificate;
  readonly keys: Keys;
  readonly pem: string;
  readonly keyPem: string;
}

async function keyPem(keys: Keys): Promise<string> {
  const pkcs8 = await webcrypto.subtle.exportKey("pkcs8", keys.privateKey);
  return x509.PemConverter.encode(pkcs8, "PRIVATE KEY");
}

/** A self-signed root CA. */
export async function makeRoot(name: string): Promise<TestCa> {
  const keys = await ecKeys();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: "01",
    name,
    notBefore: new Date(Date.now() - DAY),
    notAfter: new Date(Date.now() + 3650 * DAY),
    keys,
    signingAlgorithm: ECDSA_SHA256,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { cert, keys, pem: `${cert.toString("pem").trimEnd()}\n`, keyPem: await keyPem(keys) };
}

/** An intermediate CA under `parent`, valid for `days`. */
export async function makeIntermediate(parent: TestCa, name: string, days = 365, rsa = false): Promise<TestCa> {
  const keys = rsa ? await rsaKeys(2048) : await ecKeys();
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: "02",
    subject: name,
    issuer: parent.cert.subject,
    notBefore: new Date(Date.now() - DAY),
    notAfter: new Date(Date.now() + days * DAY),
    publicKey: keys.publicKey,
    signingKey: parent.keys.privateKey,
    signingAlgorithm: ECDSA_SHA256,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(parent.keys.publicKey),
    ],
  });
  return { cert, keys, pem: `${cert.toString("pem").trimEnd()}\n`, keyPem: await keyPem(keys) };
}

interface CsrOptions {
  keys?: Keys;
  uris?: string[];
  dns?: string[];
  emails?: string[];
  ca?: boolean;
  hash?: string;
  /** More requested extensions (which the signer must never copy). */
  extra?: x509.Extension[];
}

/** A CSR as Istio writes it (critical SAN, no other extensions unless asked). */
export async function makeCsr(opts: CsrOptions = {}): Promise<string> {
  const keys = opts.keys ?? (await ecKeys());
  const names: x509.JsonGeneralName[] = [
    ...(opts.uris ?? []).map((v) => ({ type: "url" as const, value: v })),
    ...(opts.dns ?? []).map((v) => ({ type: "dns" as const, value: v })),
    ...(opts.emails ?? []).map((v) => ({ type: "email" as const, value: v })),
  ];
  const extensions: x509.Extension[] = [];
  if (names.length > 0) extensions.push(new x509.SubjectAlternativeNameExtension(names, true));
  if (opts.ca === true) extensions.push(new x509.BasicConstraintsExtension(true, undefined, true));
  extensions.push(...(opts.extra ?? []));
  const isRsa = keys.privateKey.algorithm.name === "RSASSA-PKCS1-v1_5";
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    keys,
    signingAlgorithm: isRsa ? { name: "RSASSA-PKCS1-v1_5", hash: opts.hash ?? "SHA-256" } : { name: "ECDSA", hash: opts.hash ?? "SHA-256" },
    extensions,
  });
  return csr.toString("pem");
}

/** The P-256 key's point with the last bit of Y flipped: well-formed DER, not on the curve. */
async function offCurveSpki(publicKey: CryptoKey): Promise<Uint8Array> {
  const raw = new Uint8Array(await webcrypto.subtle.exportKey("raw", publicKey));
  raw[raw.length - 1] = (raw[raw.length - 1] ?? 0) ^ 0x01;
  return spkiWithKey(publicKey, raw);
}

/** CSRs no library writes, byte by byte and with a valid signature (see `@edgeca/shared/testing`, crafted-csr.ts). */
async function makeCraftedCsrs(): Promise<Pick<TestCsrs, "badSignature" | "compressedP256" | "compressedP384" | "offCurveP256" | "rsaWithoutNullParameters" | "twoOctetBoolean" | "explicitCaFalse" | "explicitCriticalFalse">> {
  const [a, b, p384, rsa] = [await ecKeys(), await ecKeys(), await ecKeys("P-384"), await rsaKeys(2048)];
  const san = sanExtension([WORKLOAD_ID]);
  const caField = (...octets: number[]) =>
    extensionElement(OID.basicConstraints, der(Tag.SEQUENCE, der(Tag.BOOLEAN, Uint8Array.from(octets))), der(Tag.BOOLEAN, Uint8Array.of(0xff)));
  const sanValue = der(Tag.SEQUENCE, der(0x86, new TextEncoder().encode(WORKLOAD_ID)));
  return {
    badSignature: await craftCsr({ keys: a, spki: new Uint8Array(await webcrypto.subtle.exportKey("spki", b.publicKey)) }),
    compressedP256: await craftCsr({ keys: a, spki: await compressedEcSpki(a.publicKey) }),
    compressedP384: await craftCsr({ keys: p384, spki: await compressedEcSpki(p384.publicKey), hash: "SHA-384" }),
    offCurveP256: await craftCsr({ keys: a, spki: await offCurveSpki(a.publicKey) }),
    rsaWithoutNullParameters: await craftCsr({ keys: rsa, spki: await spkiWithParameters(rsa.publicKey, new Uint8Array(0)) }),
    twoOctetBoolean: await craftCsr({ keys: a, extensions: [san, caField(0x00, 0x00)] }),
    explicitCaFalse: await craftCsr({ keys: a, extensions: [san, caField(0x00)] }),
    explicitCriticalFalse: await craftCsr({ keys: a, extensions: [extensionElement(OID.subjectAltName, sanValue, der(Tag.BOOLEAN, Uint8Array.of(0x00)))] }),
  };
}

function randomHex(bytes: number): string {
  return Buffer.from(webcrypto.getRandomValues(new Uint8Array(bytes))).toString("hex");
}

export const SIGNER_NAME = "example.com/foo";
export const TRUST_DOMAIN = "cluster.local";
export const WORKLOAD_ID = "spiffe://cluster.local/ns/default/sa/web";
export const ISTIOD = "system:serviceaccount:istio-system:istiod";

/** The CSR corpus. */
export async function makeCsrs(): Promise<TestCsrs> {
  const uris = [WORKLOAD_ID];
  const good = await makeCsr({ uris });
  return {
    workloadP256: good,
    workloadP384: await makeCsr({ keys: await ecKeys("P-384"), uris }),
    workloadOther: await makeCsr({ uris: ["spiffe://cluster.local/ns/default/sa/api"] }),
    workloadRsa2048: await makeCsr({ keys: await rsaKeys(2048), uris }),
    workloadRsa1024: await makeCsr({ keys: await rsaKeys(1024), uris }),
    workloadP521: await makeCsr({ keys: await ecKeys("P-521"), uris, hash: "SHA-512" }),
    workloadRsaExponent3: await makeCsr({ keys: await rsaKeys(2048, "SHA-256", [3]), uris }),
    extraExtensions: await makeCsr({
      uris,
      extra: [
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.digitalSignature, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.codeSigning]),
      ],
    }),
    workloadSha1: await makeCsr({ keys: await rsaKeys(2048, "SHA-1"), uris, hash: "SHA-1" }),
    workloadWrongTrustDomain: await makeCsr({ uris: ["spiffe://evil.example/ns/default/sa/web"] }),
    workloadBadSpiffe: await makeCsr({ uris: ["spiffe://cluster.local/ns/default/sa/web/extra"] }),
    twoUris: await makeCsr({ uris: [WORKLOAD_ID, "spiffe://cluster.local/ns/default/sa/other"] }),
    email: await makeCsr({ uris, emails: ["a@example.com"] }),
    noSan: await makeCsr({}),
    caRequest: await makeCsr({ uris, ca: true }),
    controlPlane: await makeCsr({ keys: await rsaKeys(2048), dns: ["istiod.istio-system.svc"] }),
    controlPlaneOther: await makeCsr({ dns: ["evil.example.com"] }),
    namespaceUpperCase: await makeCsr({ uris: ["spiffe://cluster.local/ns/Default/sa/web"] }),
    namespaceDotted: await makeCsr({ uris: ["spiffe://cluster.local/ns/kube-system.evil/sa/web"] }),
    namespaceLong: await makeCsr({ uris: [`spiffe://cluster.local/ns/${"a".repeat(2000)}/sa/web`] }),
    serviceAccountUpperCase: await makeCsr({ uris: ["spiffe://cluster.local/ns/default/sa/Web"] }),
    ...(await makeCraftedCsrs()),
  };
}

/** Everything the tests use, in one object (see `TestFixtures`). */
export async function makeFixtures(): Promise<TestFixtures> {
  const rootA = await makeRoot("CN=edgeca test root A");
  const rootB = await makeRoot("CN=edgeca test root B");
  const caA = await makeIntermediate(rootA, "CN=edgeca test issuing CA A");
  const caB = await makeIntermediate(rootB, "CN=edgeca test issuing CA B");
  const caShort = await makeIntermediate(rootA, "CN=edgeca test short-lived CA", 1 / 24);
  const fingerprints = { dev: randomHex(32), plain: randomHex(32), other: randomHex(32) };
  const clientCaSki = randomHex(20);

  const tokenKey = await generateKeyPair("RS256", { extractable: true });
  const stranger = await generateKeyPair("RS256", { extractable: true });
  const kid = "test-key-1";
  const publicJwk = { ...(await exportJWK(tokenKey.publicKey)), kty: "RSA", kid, alg: "RS256", use: "sig" };
  const token = {
    issuer: "https://kubernetes.default.svc.cluster.local",
    audience: "edgeca",
    subject: "system:serviceaccount:edgeca-system:edgeca-shim",
    privateJwk: { ...(await exportJWK(tokenKey.privateKey)), kid, alg: "RS256" },
    strangerJwk: { ...(await exportJWK(stranger.privateKey)), kid, alg: "RS256" },
  };

  const policy = { controlPlaneDnsNames: ["istiod.istio-system.svc", "*.istiod.svc"] };
  const clusters: SignerConfigInput["clusters"] = [
    {
      name: "dev",
      clientCertificates: { sha256Fingerprints: [fingerprints.dev] },
      signerNames: [SIGNER_NAME],
      token: { issuer: token.issuer, audience: token.audience, subject: token.subject, jwks: { keys: [publicJwk] } },
      policy,
    },
    { name: "plain", clientCertificates: { sha256Fingerprints: [fingerprints.plain], issuerSKIs: [clientCaSki] }, signerNames: [SIGNER_NAME], policy },
    { name: "other", clientCertificates: { sha256Fingerprints: [fingerprints.other] }, signerNames: ["example.com/bar"] },
  ];
  const issuer = (id: string, ca: TestCa, secret: string) => ({ id, chain: ca.pem, keySecret: secret });
  const base = { version: 1 as const, signerNames: [SIGNER_NAME, "example.com/bar"], clusters };
  return {
    configs: {
      a: { ...base, issuers: [issuer("ca1", caA, "EDGECA_CA_KEY_CA1")], activeIssuer: "ca1", roots: [rootA.pem] },
      ab: { ...base, issuers: [issuer("ca1", caA, "EDGECA_CA_KEY_CA1"), issuer("ca2", caB, "EDGECA_CA_KEY_CA2")], activeIssuer: "ca1", roots: [rootA.pem, rootB.pem] },
      abActiveB: { ...base, issuers: [issuer("ca1", caA, "EDGECA_CA_KEY_CA1"), issuer("ca2", caB, "EDGECA_CA_KEY_CA2")], activeIssuer: "ca2", roots: [rootA.pem, rootB.pem] },
      b: { ...base, issuers: [issuer("ca2", caB, "EDGECA_CA_KEY_CA2")], activeIssuer: "ca2", roots: [rootB.pem] },
      short: { ...base, issuers: [issuer("short", caShort, "EDGECA_CA_KEY_SHORT")], activeIssuer: "short", roots: [rootA.pem] },
    },
    secrets: { EDGECA_CA_KEY_CA1: caA.keyPem, EDGECA_CA_KEY_CA2: caB.keyPem, EDGECA_CA_KEY_SHORT: caShort.keyPem },
    roots: { a: rootA.pem, b: rootB.pem },
    fingerprints,
    clientCaSki,
    token,
    csrs: await makeCsrs(),
    signerName: SIGNER_NAME,
    trustDomain: TRUST_DOMAIN,
  };
}
