/**
 * The roots as the shim publishes them, read back as the admin: the Secret istiod mounts
 * (istio-system/external-ca-cert, key root-cert.pem) and the ClusterTrustBundle of the signer name.
 */
import { X509Certificate } from "node:crypto";
import type { KubeApiClient } from "@edgeca/testenv";
import { z } from "zod";

const SecretData = z.object({ data: z.record(z.string(), z.string()).optional(), metadata: z.object({ resourceVersion: z.string() }).loose() }).loose();
const TrustBundleObject = z.object({ spec: z.object({ signerName: z.string(), trustBundle: z.string() }), metadata: z.object({ resourceVersion: z.string() }).loose() }).loose();

/** The Secret's root-cert.pem ("" until the shim first wrote it) and its resourceVersion. */
export async function publishedSecret(admin: KubeApiClient): Promise<{ pem: string; resourceVersion: string }> {
  const secret = SecretData.parse(await admin.request("GET", "/api/v1/namespaces/istio-system/secrets/external-ca-cert"));
  return { pem: Buffer.from(secret.data?.["root-cert.pem"] ?? "", "base64").toString("utf8"), resourceVersion: secret.metadata.resourceVersion };
}

/** The ClusterTrustBundle example.com:foo:edgeca, or undefined before the shim created it. */
export async function publishedTrustBundle(admin: KubeApiClient): Promise<{ pem: string; signerName: string; resourceVersion: string } | undefined> {
  const res = await admin.send("GET", "/apis/certificates.k8s.io/v1beta1/clustertrustbundles/example.com:foo:edgeca");
  if (res.status === 404) return undefined;
  const ctb = TrustBundleObject.parse(res.json);
  return { pem: ctb.spec.trustBundle, signerName: ctb.spec.signerName, resourceVersion: ctb.metadata.resourceVersion };
}

/** The certificates of a PEM bundle. */
export function certificates(pem: string): X509Certificate[] {
  return (pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? []).map((b) => new X509Certificate(b));
}

/** The SHA-256 fingerprints of a PEM bundle's certificates, sorted (bundles compare as sets). */
export const fingerprints = (pem: string): string[] => certificates(pem).map((c) => c.fingerprint256).sort();
