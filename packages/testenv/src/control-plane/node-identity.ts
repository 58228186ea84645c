/**
 * A node as the kubelet is one to kube-apiserver, without a kubelet: a Node object, and a client
 * certificate `CN=system:node:<name>, O=system:nodes` from the cluster CA (the testenv writes its key to
 * pki/ca.key), so the Node authorizer and the NodeRestriction admission plugin apply to its requests.
 */
import "reflect-metadata";
import { webcrypto } from "node:crypto";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { ControlPlaneClient } from "./control-plane-client.ts";
import { KubeApiClient } from "./kube-api-client.ts";
import * as x509 from "@peculiar/x509";

const EC = { name: "ECDSA", namedCurve: "P-256" } as const;
const SIGN = { name: "ECDSA", hash: "SHA-256" } as const;

export interface TestNode {
  readonly name: string;
  readonly uid: string;
  /** A client acting as the node. */
  readonly api: KubeApiClient;
}

async function importCaKey(pem: string): Promise<webcrypto.CryptoKey> {
  return await webcrypto.subtle.importKey("pkcs8", x509.PemConverter.decodeFirst(pem), EC, false, ["sign"]);
}

/** Creates the Node `name` (as admin) and a client with the node's credentials. */
export async function createTestNode(cp: ControlPlaneClient, name: string): Promise<TestNode> {
  const created = await cp.admin.send("POST", "/api/v1/nodes", { apiVersion: "v1", kind: "Node", metadata: { name } });
  if (created.status !== 201) throw new Error(`creating Node ${name}: ${created.status} ${created.text}`);
  const uid = (created.json as { metadata: { uid: string } }).metadata.uid;
  const caCert = new x509.X509Certificate(cp.caPem);
  const caKey = await importCaKey(await readFile(join(cp.dataDir, "pki", "ca.key"), "utf8"));
  const keys = await webcrypto.subtle.generateKey(EC, true, ["sign", "verify"]);
  const cert = await x509.X509CertificateGenerator.create({
    subject: `CN=system:node:${name}, O=system:nodes`,
    issuer: caCert.subject,
    publicKey: keys.publicKey,
    signingKey: caKey,
    notBefore: new Date(Date.now() - 60_000),
    notAfter: new Date(Date.now() + 3_600_000),
    signingAlgorithm: SIGN,
    extensions: [new x509.BasicConstraintsExtension(false, undefined, true), new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth])],
  });
  const keyPem = x509.PemConverter.encode(await webcrypto.subtle.exportKey("pkcs8", keys.privateKey), "PRIVATE KEY");
  const api = new KubeApiClient({ server: cp.server, caPem: cp.caPem, credentials: { clientCertPem: cert.toString("pem"), clientKeyPem: keyPem }, timeoutMs: 10_000 });
  return { name, uid, api };
}
