import "reflect-metadata";
import { webcrypto } from "node:crypto";
import * as x509 from "@peculiar/x509";

/** A self-signed CA for kube-controller-manager's `--cluster-signing-cert-file` / `--cluster-signing-key-file`. */
export interface SigningCa {
  readonly certPem: string;
  /** PKCS#8 ("PRIVATE KEY"), which kube-controller-manager's key reader accepts. */
  readonly keyPem: string;
}

export type SigningCaKeyType = "P-256" | "RSA-2048";

const ALGORITHMS = {
  "P-256": { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" },
  "RSA-2048": { name: "RSASSA-PKCS1-v1_5", modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" },
} as const;

/**
 * Generates a fresh CA (10 years, path length 0): the key exists only for the run that made it, like the
 * rest of the control plane's PKI.
 */
export async function createSigningCa(keyType: SigningCaKeyType = "P-256", commonName = "edgeca-testenv-kcm-signer"): Promise<SigningCa> {
  const algorithm = ALGORITHMS[keyType];
  const keys = await webcrypto.subtle.generateKey(algorithm, true, ["sign", "verify"]);
  const now = Date.now();
  const cert = await x509.X509CertificateGenerator.createSelfSigned(
    {
      name: `CN=${commonName}`,
      keys,
      notBefore: new Date(now - 5 * 60_000),
      notAfter: new Date(now + 3650 * 86_400_000),
      signingAlgorithm: algorithm,
      extensions: [
        new x509.BasicConstraintsExtension(true, 0, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature, true),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey, false, webcrypto),
      ],
    },
    webcrypto,
  );
  const pkcs8 = await webcrypto.subtle.exportKey("pkcs8", keys.privateKey);
  return { certPem: cert.toString("pem"), keyPem: x509.PemConverter.encode(pkcs8, "PRIVATE KEY") };
}
