/**
 * An issuing CA ready to sign: its certificate and chain (parsed once), its private key imported once
 * per isolate as a non-extractable `CryptoKey`, and the DER pieces every certificate it issues repeats.
 */
import {
  bytesEqual,
  ConfigurationError,
  decodePem,
  decodePemBlocks,
  encodePemChain,
  headerSize,
  parseCertificateDer,
  sha1,
  toArrayBuffer,
  type IssuerConfig,
  type ParsedCertificate,
} from "@edgeca/shared";
import { issuerProfile, type IssuerProfile } from "./certificate-profile.ts";
import { isSignedBy, signingAlgorithmFor, type SigningAlgorithm } from "./certificate-signature.ts";

/** A loaded issuing CA. */
export interface Issuer extends IssuerProfile {
  readonly id: string;
  readonly certificate: ParsedCertificate;
  /** Intermediates above the issuing CA, in order (may be empty). */
  readonly chain: readonly ParsedCertificate[];
  /** PEM of the issuing CA and the intermediates: what follows the leaf in an answer. */
  readonly chainPem: string;
  readonly key: CryptoKey;
  readonly algorithm: SigningAlgorithm;
  /** The earliest NotAfter in the chain: no leaf may outlive it. */
  readonly notAfter: Date;
  readonly notBefore: Date;
  /** DER of the issuer Name (the CA's subject), copied into every leaf. */
  readonly name: Uint8Array;
}

function keyIdentifier(cert: ParsedCertificate): Uint8Array {
  // RFC 5280 §4.2.1.2 method (1) when the CA certificate has no SKI extension.
  return cert.subjectKeyId ?? sha1(cert.publicKey);
}

/** Loads one issuer: parses its chain, checks it leads to one of `roots`, imports and checks its key. */
export async function loadIssuer(config: IssuerConfig, keyPem: unknown, roots: readonly ParsedCertificate[]): Promise<Issuer> {
  const where = `issuer "${config.id}"`;
  const certs = decodePemBlocks(config.chain).map((d) => parseCertificateDer(d));
  const [certificate, ...chain] = certs;
  if (certificate === undefined) throw new ConfigurationError(`${where}: empty chain`);
  if (!certificate.isCa) throw new ConfigurationError(`${where}: the first certificate of the chain is not a CA (basicConstraints cA)`);
  for (const [i, c] of certs.entries()) {
    if (roots.some((r) => bytesEqual(r.der, c.der))) {
      throw new ConfigurationError(`${where}: chain certificate ${i + 1} is a root; the chain must stop below the root`);
    }
  }
  for (let i = 0; i + 1 < certs.length; i++) {
    const [child, parent] = [certs[i], certs[i + 1]];
    if (child === undefined || parent === undefined || !(await isSignedBy(child, parent))) {
      throw new ConfigurationError(`${where}: chain certificate ${i + 1} is not signed by certificate ${i + 2}`);
    }
  }
  const top = certs[certs.length - 1] ?? certificate;
  let anchored = false;
  for (const root of roots) if (await isSignedBy(top, root)) anchored = true;
  if (!anchored) throw new ConfigurationError(`${where}: the chain does not lead to any configured root`);

  const algorithm = signingAlgorithmFor(certificate);
  if (algorithm === undefined) throw new ConfigurationError(`${where}: CA key must be ECDSA P-256/P-384 or RSA`);
  if (typeof keyPem !== "string") throw new ConfigurationError(`${where}: secret ${config.keySecret} is not set`);
  let key: CryptoKey;
  try {
    const pkcs8 = decodePem(keyPem, "PRIVATE KEY");
    // Non-extractable: the key can sign, never leave the isolate (docs/architecture.md "Where the keys are").
    key = await crypto.subtle.importKey("pkcs8", toArrayBuffer(pkcs8), algorithm.importParams, false, ["sign"]);
  } catch (error) {
    throw new ConfigurationError(`${where}: secret ${config.keySecret} is not a PKCS#8 PEM key for the CA's algorithm (${error instanceof Error ? error.message : "import failed"})`);
  }
  // The key must belong to the certificate: sign a probe and verify it with the certificate's key.
  const probe = new TextEncoder().encode(`edgeca key check ${config.id}`);
  const sig = await crypto.subtle.sign(algorithm.signParams, key, probe);
  const pub = await crypto.subtle.importKey("spki", toArrayBuffer(certificate.spki), algorithm.importParams, false, ["verify"]);
  if (!(await crypto.subtle.verify(algorithm.signParams, pub, sig, probe))) {
    throw new ConfigurationError(`${where}: secret ${config.keySecret} does not match the CA certificate's public key`);
  }

  // The longest signature this key makes: an RSA signature is as long as the modulus (the probe's length);
  // a DER Ecdsa-Sig-Value holds two INTEGERs of at most size + 1 octets (X.690 §8.3, RFC 3279 §2.2.3).
  const ecdsaContent = 2 * (2 + algorithm.ecdsaSize + 1);
  const maxSignature = algorithm.ecdsaSize > 0 ? headerSize(ecdsaContent) + ecdsaContent : sig.byteLength;
  return {
    ...issuerProfile(algorithm, certificate.subject, keyIdentifier(certificate), maxSignature),
    id: config.id,
    certificate,
    chain,
    chainPem: encodePemChain(certs.map((c) => c.der)),
    key,
    algorithm,
    notAfter: new Date(Math.min(...certs.map((c) => c.notAfter.getTime()))),
    notBefore: new Date(Math.max(...certs.map((c) => c.notBefore.getTime()))),
    name: certificate.subject,
  };
}
