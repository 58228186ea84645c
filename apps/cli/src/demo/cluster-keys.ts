/** Finds the Secrets and ConfigMaps, in every namespace, whose data holds a PEM private key. */
import type { ControlPlane } from "@edgeca/testenv";

/** One object holding a private key, e.g. `Secret istio-system/istio-ca-secret`. */
export interface KeyHolder {
  readonly kind: "Secret" | "ConfigMap";
  readonly namespace: string;
  readonly name: string;
}

const MARKER = /-----BEGIN [A-Z ]*PRIVATE KEY-----/;

export async function findPrivateKeysInCluster(cp: ControlPlane): Promise<readonly KeyHolder[]> {
  const found: KeyHolder[] = [];
  for (const [kind, path, decode] of [
    ["Secret", "/api/v1/secrets", true],
    ["ConfigMap", "/api/v1/configmaps", false],
  ] as const) {
    const list = (await cp.admin.request("GET", path)) as { items?: { metadata?: { namespace?: string; name?: string }; data?: Record<string, string> }[] };
    for (const item of list.items ?? []) {
      const values = Object.values(item.data ?? {}).map((v) => (decode ? Buffer.from(v, "base64").toString("utf8") : v));
      if (values.some((v) => MARKER.test(v))) found.push({ kind, namespace: item.metadata?.namespace ?? "", name: item.metadata?.name ?? "" });
    }
  }
  return found;
}
