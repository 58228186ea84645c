/**
 * `edgeca init`'s material, made in memory: a root CA, an issuing intermediate, a client CA, the shim's
 * client certificate (all ECDSA P-256) and the signer's configuration, validated with the signer's own
 * schema. Nothing is written here (see `writeMaterial`).
 */
import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import { webcrypto } from "node:crypto";
import { SignerConfig, type SignerConfigInput, type TokenConfig } from "@edgeca/shared";

const DAY_MS = 86_400_000;
const P256 = { name: "ECDSA", namedCurve: "P-256" } as const;
const ECDSA_SHA256 = { name: "ECDSA", hash: "SHA-256" } as const;

/** Defaults of `edgeca init`. */
export const INIT_DEFAULTS = {
  signerName: "example.com/foo",
  trustDomain: "cluster.local",
  clusterName: "default",
  tokenIssuer: "https://kubernetes.default.svc.cluster.local",
  shimSubject: "system:serviceaccount:edgeca-system:edgeca-shim",
  allowedRequestors: ["system:serviceaccount:istio-system:istiod"],
  issuerId: "ca1",
} as const;

/** What `createMaterial` makes. */
export interface InitOptions {
  readonly signerName?: string;
  readonly trustDomain?: string;
  readonly clusterName?: string;
  readonly allowedRequestors?: readonly string[];
  /** DNS names (or `*.` patterns) for istiod's own serving certificate; none by default. */
  readonly controlPlaneDnsNames?: readonly string[];
  /** Present: the signer requires the shim's ServiceAccount token, verified against this JWKS. */
  readonly token?: {
    readonly jwks: TokenConfig["jwks"];
    readonly audience: string;
    readonly issuer?: string;
    readonly subject?: string;
  };
  /** The clock (tests). */
  readonly now?: Date;
}

/** A certificate and its private key, both PEM. */
export interface PemPair {
  readonly certPem: string;
  readonly keyPem: string;
}

/** Everything `edgeca init` writes, in memory. */
export interface InitMaterial {
  /** The trust anchor (what the bundle publishes). Its key goes offline. */
  readonly root: PemPair;
  /** The issuing intermediate. Its key becomes a Workers secret. */
  readonly issuing: PemPair;
  /** The CA that verifies client certificates (uploaded to Cloudflare). Its key goes offline. */
  readonly clientCa: PemPair;
  /** The shim's mTLS client certificate. */
  readonly client: PemPair;
  /** SHA-256 fingerprint of the client certificate (lowercase hex). */
  readonly clientFingerprint: string;
  /** The value of `EDGECA_CONFIG`. */
  readonly config: SignerConfigInput;
  /** Workers secrets: name → PKCS#8 PEM. */
  readonly secrets: Readonly<Record<string, string>>;
}

function keys(): Promise<webcrypto.CryptoKeyPair> {
  return webcrypto.subtle.generateKey(P256, true, ["sign", "verify"]);
}

/** A private key as PKCS#8 PEM (what a Workers secret and an offline key file hold). */
export async function pkcs8Pem(key: webcrypto.CryptoKey): Promise<string> {
  return x509.PemConverter.encode(await webcrypto.subtle.exportKey("pkcs8", key), "PRIVATE KEY");
}

function serial(): string {
  const bytes = webcrypto.getRandomValues(new Uint8Array(16));
  bytes[0] = ((bytes[0] ?? 0) & 0x7f) | 0x01;
  return Buffer.from(bytes).toString("hex");
}

/** A certificate as PEM with a final newline (the library writes none). */
export function pem(cert: x509.X509Certificate): string {
  return `${cert.toString("pem").trimEnd()}\n`;
}

/** A CA certificate and its key pair, in memory. */
export interface CaKeyPair {
  readonly cert: x509.X509Certificate;
  readonly keys: webcrypto.CryptoKeyPair;
}

async function selfSignedCa(name: string, now: Date, days: number): Promise<CaKeyPair> {
  const k = await keys();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name,
    notBefore: new Date(now.getTime() - 5 * 60_000),
    notAfter: new Date(now.getTime() + days * DAY_MS),
    keys: k,
    signingAlgorithm: ECDSA_SHA256,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(k.publicKey),
    ],
  });
  return { cert, keys: k };
}

async function issued(issuer: CaKeyPair, subject: string, now: Date, days: number, extensions: x509.Extension[]): Promise<CaKeyPair> {
  const k = await keys();
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject,
    issuer: issuer.cert.subject,
    notBefore: new Date(now.getTime() - 5 * 60_000),
    // Never beyond the issuer's own NotAfter (RFC 5280 §6.1.3 would reject the chain after it anyway).
    notAfter: new Date(Math.min(now.getTime() + days * DAY_MS, issuer.cert.notAfter.getTime())),
    publicKey: k.publicKey,
    signingKey: issuer.keys.privateKey,
    signingAlgorithm: ECDSA_SHA256,
    extensions: [
      ...extensions,
      await x509.SubjectKeyIdentifierExtension.create(k.publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(issuer.keys.publicKey),
    ],
  });
  return { cert, keys: k };
}

/** A self-signed root CA (ECDSA P-256, ten years); `edgeca init`'s is named "CN=edgeca root CA". */
export function createRootCa(now: Date, name = "CN=edgeca root CA"): Promise<CaKeyPair> {
  return selfSignedCa(name, now, 3650);
}

/** The issuing intermediate for issuer `id` (pathLen 0), signed by `root`; two years, at most the root's life. */
export async function createIssuingCa(root: CaKeyPair, id: string, now: Date): Promise<CaKeyPair> {
  // The issuing CA lives two years: leaves (≤ 7 days) are truncated to it, rotation is a config change.
  return issued(root, `CN=edgeca issuing CA ${id}`, now, 730, [
    new x509.BasicConstraintsExtension(true, 0, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
  ]);
}

/** A shim's mTLS client certificate (one year, clientAuth only), issued by the client CA. */
export function createClientCertificate(clientCa: CaKeyPair, now: Date, subject = "CN=edgeca-shim"): Promise<CaKeyPair> {
  return issued(clientCa, subject, now, 365, [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
    new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth]),
  ]);
}

/** Secret name of an issuer id: `ca1` → `EDGECA_CA_KEY_CA1`. */
export function keySecretName(issuerId: string): string {
  return `EDGECA_CA_KEY_${issuerId.toUpperCase().replaceAll("-", "_")}`;
}

/** Makes the CA material and configuration. Throws when the options make an invalid configuration. */
export async function createMaterial(options: InitOptions = {}): Promise<InitMaterial> {
  const now = options.now ?? new Date();
  const signerName = options.signerName ?? INIT_DEFAULTS.signerName;
  const root = await createRootCa(now);
  const issuing = await createIssuingCa(root, INIT_DEFAULTS.issuerId, now);
  const clientCa = await selfSignedCa("CN=edgeca client CA", now, 3650);
  const client = await createClientCertificate(clientCa, now);
  const clientFingerprint = Buffer.from(await client.cert.getThumbprint("SHA-256")).toString("hex");
  const clientCaSki = clientCa.cert.getExtension(x509.SubjectKeyIdentifierExtension)?.keyId;
  const secret = keySecretName(INIT_DEFAULTS.issuerId);

  const token = options.token;
  const config: SignerConfigInput = {
    version: 1,
    signerNames: [signerName],
    clusters: [
      {
        name: options.clusterName ?? INIT_DEFAULTS.clusterName,
        // The fingerprint pins today's client certificate; the client CA's SKI lets a renewed client
        // certificate from the same (offline) client CA in without a configuration change. Cloudflare's
        // client-certificate validation is account-wide, so one of the two must always be pinned.
        clientCertificates: { sha256Fingerprints: [clientFingerprint], issuerSKIs: clientCaSki === undefined ? [] : [clientCaSki] },
        signerNames: [signerName],
        ...(token === undefined
          ? {}
          : {
              token: {
                issuer: token.issuer ?? INIT_DEFAULTS.tokenIssuer,
                audience: token.audience,
                subject: token.subject ?? INIT_DEFAULTS.shimSubject,
                jwks: token.jwks,
              },
            }),
        policy: {
          allowedRequestors: [...(options.allowedRequestors ?? INIT_DEFAULTS.allowedRequestors)],
          trustDomain: options.trustDomain ?? INIT_DEFAULTS.trustDomain,
          controlPlaneDnsNames: [...(options.controlPlaneDnsNames ?? [])],
        },
      },
    ],
    issuers: [{ id: INIT_DEFAULTS.issuerId, chain: pem(issuing.cert), keySecret: secret }],
    activeIssuer: INIT_DEFAULTS.issuerId,
    roots: [pem(root.cert)],
  };
  // Fail here, with the schema's words, rather than on the Worker's first request.
  SignerConfig.parse(config);
  return {
    root: { certPem: pem(root.cert), keyPem: await pkcs8Pem(root.keys.privateKey) },
    issuing: { certPem: pem(issuing.cert), keyPem: await pkcs8Pem(issuing.keys.privateKey) },
    clientCa: { certPem: pem(clientCa.cert), keyPem: await pkcs8Pem(clientCa.keys.privateKey) },
    client: { certPem: pem(client.cert), keyPem: await pkcs8Pem(client.keys.privateKey) },
    clientFingerprint,
    config,
    secrets: { [secret]: await pkcs8Pem(issuing.keys.privateKey) },
  };
}
