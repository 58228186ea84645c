/**
 * A small PKI made at test time (keys are never committed), so `verifyAnswer` passes or fails for real:
 * a root CA that issues leaves for a workload CSR, the way the signer answers `POST /v1/sign`.
 */
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

const EC = { name: "ECDSA", namedCurve: "P-256" } as const;
const SIGN = { name: "ECDSA", hash: "SHA-256" } as const;
const HOUR_MS = 3_600_000;

export const TEST_SPIFFE_ID = "spiffe://cluster.local/ns/default/sa/web";

export interface TestCsr {
  /** PKCS#10 PEM. */
  readonly pem: string;
  readonly publicKey: webcrypto.CryptoKey;
}

export interface TestIssuer {
  /** The root's PEM: what the signer's bundle holds. */
  readonly rootPem: string;
  /** A leaf for `publicKey` with one URI SAN (default: TEST_SPIFFE_ID), as a PEM chain. */
  issue(publicKey: webcrypto.CryptoKey, san?: string): Promise<string>;
}

/** A fresh P-256 key pair and its CSR asking for `spiffeId`. */
export async function createTestCsr(spiffeId = TEST_SPIFFE_ID): Promise<TestCsr> {
  const keys = await webcrypto.subtle.generateKey(EC, true, ["sign", "verify"]);
  const csr = await Pkcs10CertificateRequestGenerator.create({
    keys,
    signingAlgorithm: SIGN,
    extensions: [new SubjectAlternativeNameExtension([{ type: "url", value: spiffeId }], true)],
  });
  return { pem: csr.toString("pem"), publicKey: keys.publicKey };
}

/** A fresh self-signed root named `name` that issues leaves directly. */
export async function createTestIssuer(name = "CN=test root"): Promise<TestIssuer> {
  const keys = await webcrypto.subtle.generateKey(EC, true, ["sign", "verify"]);
  const root: X509Certificate = await X509CertificateGenerator.createSelfSigned({
    name,
    keys,
    signingAlgorithm: SIGN,
    notBefore: new Date(Date.now() - HOUR_MS),
    notAfter: new Date(Date.now() + 24 * HOUR_MS),
    extensions: [new BasicConstraintsExtension(true, undefined, true), new KeyUsagesExtension(KeyUsageFlags.keyCertSign | KeyUsageFlags.cRLSign, true)],
  });
  return {
    rootPem: root.toString("pem"),
    async issue(publicKey, san = TEST_SPIFFE_ID) {
      const leaf = await X509CertificateGenerator.create({
        subject: "",
        issuer: root.subject,
        publicKey,
        signingKey: keys.privateKey,
        signingAlgorithm: SIGN,
        notBefore: new Date(Date.now() - 5 * 60_000),
        notAfter: new Date(Date.now() + HOUR_MS),
        extensions: [new SubjectAlternativeNameExtension([{ type: "url", value: san }], true), new BasicConstraintsExtension(false, undefined, true)],
      });
      return leaf.toString("pem");
    },
  };
}
