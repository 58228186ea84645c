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
    async issueClient(name, window) {
      const leafKeys = await crypto.subtle.generateKey(ALGORITHM, true, ["sign", "verify"]);
      const leaf = await X509CertificateGenerator.create(
        {
          subject: name,
          issuer: ca.subject,
          publicKey: leafKeys.publicKey,
          signingKey: keys.privateKey,
          notBefore: window?.notBefore ?? new Date(now - HOUR_MS),
          notAfter: window?.notAfter ?? new Date(now + 12 * HOUR_MS),
          signingAlgorithm: ALGORITHM,
          extensions: [
            new BasicConstraintsExtension(false, undefined, true),
            new KeyUsagesExtension(KeyUsageFlags.digitalSignature, true),
            new ExtendedKeyUsageExtension([ExtendedKeyUsage.clientAuth]),
            await SubjectKeyIdentifierExtension.create(leafKeys.publicKey, false, crypto),
            await AuthorityKeyIdentifierExtension.create(keys.publicKey, false, crypto),
          ],
        },
        crypto,
      );
      return { certPem: leaf.toString("pem"), keyPem: await pkcs8(leafKeys.privateKey) };
    },
  };
}
