/**
 * Test helper (not exported): root → intermediate → leaf chains made at test time with `@peculiar/x509`,
 * an implementation independent of the code under test, with knobs for the broken cases.
 */
import "reflect-metadata";
import { webcrypto } from "node:crypto";
import {
  AuthorityKeyIdentifierExtension,
  BasicConstraintsExtension,
  KeyUsageFlags,
  KeyUsagesExtension,
  SubjectAlternativeNameExtension,
  SubjectKeyIdentifierExtension,
  X509CertificateGenerator,
  type X509Certificate,
} from "@peculiar/x509";

const ALGORITHM = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" } as const;
const DAY_MS = 24 * 60 * 60 * 1000;

export interface TestChain {
  readonly rootPem: string;
  /** Leaf then intermediate, as the signer returns it. */
  readonly chainPem: string;
  readonly leafPem: string;
}

export interface TestChainOptions {
  readonly uris?: readonly string[];
  readonly leafIsCa?: boolean;
  /** Leaf validity, default: from a day ago to a day ahead. */
  readonly leafNotBefore?: Date;
  readonly leafNotAfter?: Date;
}

async function ca(name: string, signer?: { cert: X509Certificate; key: webcrypto.CryptoKey }) {
  const crypto = webcrypto;
  const keys = await crypto.subtle.generateKey(ALGORITHM, false, ["sign", "verify"]);
  const now = Date.now();
  const extensions = [
    new BasicConstraintsExtension(true, signer === undefined ? undefined : 0, true),
    new KeyUsagesExtension(KeyUsageFlags.keyCertSign | KeyUsageFlags.cRLSign, true),
    await SubjectKeyIdentifierExtension.create(keys.publicKey, false, crypto),
  ];
  const window = { notBefore: new Date(now - 2 * DAY_MS), notAfter: new Date(now + 30 * DAY_MS) };
  const cert =
    signer === undefined
      ? await X509CertificateGenerator.createSelfSigned({ name, keys, ...window, signingAlgorithm: ALGORITHM, extensions }, crypto)
      : await X509CertificateGenerator.create(
          {
            subject: name,
            issuer: signer.cert.subject,
            publicKey: keys.publicKey,
            signingKey: signer.key,
            ...window,
            signingAlgorithm: ALGORITHM,
            extensions: [...extensions, await AuthorityKeyIdentifierExtension.create(signer.cert, false, crypto)],
          },
          crypto,
        );
  return { cert, key: keys.privateKey, publicKey: keys.publicKey };
}

/** A fresh root, an intermediate and a workload leaf with the given URI SANs (critical, empty subject). */
export async function createTestChain(options: TestChainOptions = {}): Promise<TestChain> {
  const crypto = webcrypto;
  const root = await ca("CN=test root,O=edgeca tests");
  const intermediate = await ca("CN=test issuing CA,O=edgeca tests", root);
  const keys = await crypto.subtle.generateKey(ALGORITHM, false, ["sign", "verify"]);
  const now = Date.now();
  const leaf = await X509CertificateGenerator.create(
    {
      subject: "",
      issuer: intermediate.cert.subject,
      publicKey: keys.publicKey,
      signingKey: intermediate.key,
      notBefore: options.leafNotBefore ?? new Date(now - DAY_MS),
      notAfter: options.leafNotAfter ?? new Date(now + DAY_MS),
      signingAlgorithm: ALGORITHM,
      extensions: [
        new SubjectAlternativeNameExtension(
          (options.uris ?? ["spiffe://cluster.local/ns/default/sa/sleep"]).map((value) => ({ type: "url" as const, value })),
          true,
        ),
        new BasicConstraintsExtension(options.leafIsCa ?? false, undefined, true),
        new KeyUsagesExtension(KeyUsageFlags.digitalSignature | KeyUsageFlags.keyEncipherment, true),
        await SubjectKeyIdentifierExtension.create(keys.publicKey, false, crypto),
        await AuthorityKeyIdentifierExtension.create(intermediate.cert, false, crypto),
      ],
    },
    crypto,
  );
  const leafPem = leaf.toString("pem");
  return { rootPem: root.cert.toString("pem"), leafPem, chainPem: `${leafPem}\n${intermediate.cert.toString("pem")}\n` };
}
