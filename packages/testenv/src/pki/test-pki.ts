/**
 * Certificates for tests of mTLS paths: a client CA and client certificates it issues (valid, expired,
 * or from an unrelated CA). Keys are generated at call time, never committed.
 */
import "reflect-metadata";
import { webcrypto } from "node:crypto";
import {
  AuthorityKeyIdentifierExtension,
  BasicConstraintsExtension,
  ExtendedKeyUsage,
  ExtendedKeyUsageExtension,
  KeyUsageFlags,
  KeyUsagesExtension,
  PemConverter,
  SubjectKeyIdentifierExtension,
  X509Certificate,
  X509CertificateGenerator,
} from "@peculiar/x509";

const ALGORITHM = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" } as const;
const HOUR_MS = 60 * 60 * 1000;

export interface TestCertificate {
  readonly certPem: string;
  /** PKCS#8 PEM. */
  readonly keyPem: string;
}

export interface TestCa extends TestCertificate {
  /** Issues a client-auth certificate, valid now unless `window` says otherwise (e.g. already expired). */
  issueClient(subject: string, window?: { notBefore: Date; notAfter: Date }): Promise<TestCertificate>;
}

/** A fresh self-signed CA (`subject` like "CN=test client CA,O=edgeca") that issues client certificates. */
export async function createTestCa(subject: string): Promise<TestCa> {
  const crypto = webcrypto;
  const keys = await crypto.subtle.generateKey(ALGORITHM, true, ["sign", "verify"]);
  const now = Date.now();
  const ca = await X509CertificateGenerator.createSelfSigned(
    {
      name: subject,
      keys,
      notBefore: new Date(now - HOUR_MS),
      notAfter: new Date(now + 24 * HOUR_MS),
      signingAlgorithm: ALGORITHM,
      extensions: [
        new BasicConstraintsExtension(true, 0, true),
        new KeyUsagesExtension(KeyUsageFlags.keyCertSign | KeyUsageFlags.cRLSign, true),
        await SubjectKeyIdentifierExtension.create(keys.publicKey, false, crypto),
      ],
    },
    crypto,
  );
  const pkcs8 = async (key: webcrypto.CryptoKey): Promise<string> =>
    PemConverter.encode(await crypto.subtle.exportKey("pkcs8", key), "PRIVATE KEY");
  return {
    certPem: ca.toString("pem"),
    keyPem: await pkcs8(keys.privateKey),
    issueClient(name, window) {
      return issueClientCertificate({ caCertPem: ca.toString("pem"), caKey: keys.privateKey, subject: name, ...(window === undefined ? {} : { window }) });
    },
  };
}

export interface ClientCertificateRequest {
  /** The issuing CA's certificate PEM. */
  readonly caCertPem: string;
  /** The issuing CA's private key: a CryptoKey, or PKCS#8 PEM of a P-256 key (e.g. `edgeca init`'s offline/client-ca-key.pem). */
  readonly caKey: webcrypto.CryptoKey | string;
  readonly subject: string;
  /** Validity; default: from an hour ago to 12 hours ahead. */
  readonly window?: { readonly notBefore: Date; readonly notAfter: Date };
}

/** Issues a P-256 client-auth certificate from an existing CA (the leaf's key is generated here). */
export async function issueClientCertificate(request: ClientCertificateRequest): Promise<TestCertificate> {
  const crypto = webcrypto;
  const ca = new X509Certificate(request.caCertPem);
  const signingKey =
    typeof request.caKey === "string"
      ? await crypto.subtle.importKey("pkcs8", PemConverter.decodeFirst(request.caKey), ALGORITHM, false, ["sign"])
      : request.caKey;
  const leafKeys = await crypto.subtle.generateKey(ALGORITHM, true, ["sign", "verify"]);
  const now = Date.now();
  const leaf = await X509CertificateGenerator.create(
    {
      subject: request.subject,
      issuer: ca.subject,
      publicKey: leafKeys.publicKey,
      signingKey,
      notBefore: request.window?.notBefore ?? new Date(now - HOUR_MS),
      notAfter: request.window?.notAfter ?? new Date(now + 12 * HOUR_MS),
      signingAlgorithm: ALGORITHM,
      extensions: [
        new BasicConstraintsExtension(false, undefined, true),
        new KeyUsagesExtension(KeyUsageFlags.digitalSignature, true),
        new ExtendedKeyUsageExtension([ExtendedKeyUsage.clientAuth]),
        await SubjectKeyIdentifierExtension.create(leafKeys.publicKey, false, crypto),
        await AuthorityKeyIdentifierExtension.create(ca, false, crypto),
      ],
    },
    crypto,
  );
  const keyPem = PemConverter.encode(await crypto.subtle.exportKey("pkcs8", leafKeys.privateKey), "PRIVATE KEY");
  return { certPem: leaf.toString("pem"), keyPem };
}
