/**
 * A node as the kubelet is one to kube-apiserver, without a kubelet: a Node object, and a client
 * certificate `CN=system:node:<name>, O=system:nodes` from the cluster CA (the testenv writes its key to
 * pki/ca.key), so the Node authorizer and the NodeRestriction admission plugin apply to its requests.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { issueClientCertificate } from "../pki/index.ts";
import type { ControlPlaneClient } from "./control-plane-client.ts";
import { KubeApiClient } from "./kube-api-client.ts";

export interface TestNode {
  readonly name: string;
  readonly uid: string;
  /** A client acting as the node. */
  readonly api: KubeApiClient;
}

/** Creates the Node `name` (as admin) and a client with the node's credentials. */
export async function createTestNode(cp: ControlPlaneClient, name: string): Promise<TestNode> {
  const created = await cp.admin.send("POST", "/api/v1/nodes", { apiVersion: "v1", kind: "Node", metadata: { name } });
  if (created.status !== 201) throw new Error(`creating Node ${name}: ${created.status} ${created.text}`);
  const uid = (created.json as { metadata: { uid: string } }).metadata.uid;
  const caKey = await readFile(join(cp.dataDir, "pki", "ca.key"), "utf8");
  const cert = await issueClientCertificate({ caCertPem: cp.caPem, caKey, subject: `CN=system:node:${name}, O=system:nodes` });
  const api = new KubeApiClient({ server: cp.server, caPem: cp.caPem, credentials: { clientCertPem: cert.certPem, clientKeyPem: cert.keyPem }, timeoutMs: 10_000 });
  return { name, uid, api };
}
