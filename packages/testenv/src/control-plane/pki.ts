import "reflect-metadata";
import { generateKeyPair, webcrypto } from "node:crypto";
import { promisify } from "node:util";
import * as x509 from "@peculiar/x509";

/** A certificate and its private key, both PEM (the key PKCS#8). */
export interface KeyPairPem {
  readonly certPem: string;
  readonly keyPem: string;
}

/** Everything the control plane's TLS and token issuing need, generated fresh per start. */
export interface ClusterPki {
  /** The cluster CA: issues the serving and client certificates, and is the kubeconfig's CA. */
  readonly ca: KeyPairPem;
  readonly serving: KeyPairPem;
  /** Client certificate in group system:masters (CN=edgeca-admin, O=system:masters). */
  readonly admin: KeyPairPem;
  /** RSA key pair that signs ServiceAccount tokens (PKCS#8 private, SPKI public). */
  readonly serviceAccount: { readonly privateKeyPem: string; readonly publicKeyPem: string };
}

const ec = { name: "ECDSA", namedCurve: "P-256" } as const;
const ecSign = { name: "ECDSA", hash: "SHA-256" } as const;
const day = 24 * 60 * 60 * 1000;

async function keyPem(key: webcrypto.CryptoKey): Promise<string> {
  return x509.PemConverter.encode(await webcrypto.subtle.exportKey("pkcs8", key), "PRIVATE KEY");
}

async function generateKeys(): Promise<webcrypto.CryptoKeyPair> {
  return await webcrypto.subtle.generateKey(ec, true, ["sign", "verify"]);
}

/**
 * Generates the cluster CA, the apiserver's serving certificate (127.0.0.1, localhost and the in-cluster
 * names of the `kubernetes` Service), an admin client certificate and the ServiceAccount signing key.
 * The admin identity is in `system:masters`, the group RBAC's bootstrap policy binds to cluster-admin.
 */
export async function createClusterPki(): Promise<ClusterPki> {
  const now = Date.now();
  const notBefore = new Date(now - 5 * 60 * 1000);
  const caKeys = await generateKeys();
  const caCert = await x509.X509CertificateGenerator.createSelfSigned({
    name: "CN=edgeca-testenv-ca",
    keys: caKeys,
    notBefore,
    notAfter: new Date(now + 3650 * day),
    signingAlgorithm: ecSign,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(caKeys.publicKey),
    ],
  });

  async function leaf(subject: string, usage: x509.ExtendedKeyUsage, names: x509.JsonGeneralNames): Promise<KeyPairPem> {
    const keys = await generateKeys();
    const extensions: x509.Extension[] = [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([usage]),
      await x509.AuthorityKeyIdentifierExtension.create(caKeys.publicKey),
    ];
    if (names.length > 0) extensions.push(new x509.SubjectAlternativeNameExtension(names));
    const cert = await x509.X509CertificateGenerator.create({
      subject,
      issuer: caCert.subject,
      publicKey: keys.publicKey,
      signingKey: caKeys.privateKey,
      notBefore,
      notAfter: new Date(now + 365 * day),
      signingAlgorithm: ecSign,
      extensions,
    });
    return { certPem: cert.toString("pem"), keyPem: await keyPem(keys.privateKey) };
  }

  const serving = await leaf("CN=kube-apiserver", x509.ExtendedKeyUsage.serverAuth, [
    { type: "dns", value: "localhost" },
    { type: "dns", value: "kubernetes" },
    { type: "dns", value: "kubernetes.default" },
    { type: "dns", value: "kubernetes.default.svc" },
    { type: "dns", value: "kubernetes.default.svc.cluster.local" },
    { type: "ip", value: "127.0.0.1" },
  ]);
  const admin = await leaf("CN=edgeca-admin, O=system:masters", x509.ExtendedKeyUsage.clientAuth, []);

  // RSA like most clusters' token keys, so tokens are RS256 (the JWS default verifiers expect).
  const sa = await promisify(generateKeyPair)("rsa", {
    modulusLength: 2048,
    publicKeyEncoding: { type: "spki", format: "pem" },
    privateKeyEncoding: { type: "pkcs8", format: "pem" },
  });

  return {
    ca: { certPem: caCert.toString("pem"), keyPem: await keyPem(caKeys.privateKey) },
    serving,
    admin,
    serviceAccount: { privateKeyPem: sa.privateKey, publicKeyPem: sa.publicKey },
  };
}
