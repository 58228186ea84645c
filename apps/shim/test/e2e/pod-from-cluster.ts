/**
 * What the kubelet would give the chart's shim pod, read back from the cluster after `helm install`: the
 * container's environment (envFrom ConfigMap, then env, fieldRefs resolved, plus the variables every pod
 * gets) and its volumes as files with their modes (Secrets, projected ServiceAccount tokens minted for the
 * ServiceAccount and audience the Deployment names, the API CA and namespace), and the pod's user and
 * groups. Nothing here is taken from the chart's values: only from the objects the apiserver holds.
 */
import type { ControlPlaneClient } from "@edgeca/testenv";
import { z } from "zod";
import type { PodFile } from "./pod-sandbox.ts";

const FieldRef = z.object({ fieldRef: z.object({ fieldPath: z.string() }) });
const Deployment = z.object({
  spec: z.object({
    template: z.object({
      spec: z.object({
        serviceAccountName: z.string(),
        automountServiceAccountToken: z.boolean(),
        securityContext: z.object({ runAsUser: z.number(), runAsGroup: z.number(), fsGroup: z.number() }).loose(),
        containers: z.array(z.object({
          envFrom: z.array(z.object({ configMapRef: z.object({ name: z.string() }) })),
          env: z.array(z.object({ name: z.string(), value: z.string().optional(), valueFrom: FieldRef.optional() })),
          volumeMounts: z.array(z.object({ name: z.string(), mountPath: z.string() }).loose()),
          securityContext: z.object({ readOnlyRootFilesystem: z.boolean() }).loose(),
        }).loose()).length(1),
        volumes: z.array(z.object({
          name: z.string(),
          secret: z.object({ secretName: z.string(), defaultMode: z.number(), items: z.array(z.object({ key: z.string(), path: z.string() })).optional() }).optional(),
          projected: z.object({
            defaultMode: z.number(),
            sources: z.array(z.object({
              serviceAccountToken: z.object({ path: z.string(), audience: z.string().optional(), expirationSeconds: z.number() }).optional(),
              configMap: z.object({ name: z.string(), items: z.array(z.object({ key: z.string(), path: z.string() })) }).optional(),
              downwardAPI: z.object({ items: z.array(z.object({ path: z.string() }).extend(FieldRef.shape)) }).optional(),
            })),
          }).optional(),
          emptyDir: z.object({ medium: z.string().optional(), sizeLimit: z.string().optional() }).optional(),
        })),
      }).loose(),
    }).loose(),
  }).loose(),
}).loose();
const Data = z.object({ data: z.record(z.string(), z.string()) }).loose();

export interface ClusterPod {
  readonly serviceAccount: string;
  readonly env: Record<string, string>;
  readonly files: PodFile[];
  readonly runAsUser: number;
  readonly runAsGroup: number;
  readonly fsGroup: number;
  readonly readOnlyRootFilesystem: boolean;
  readonly tmpSize: string;
}

/** The pod `podName` of Deployment `namespace/name` would be, as the kubelet would set it up. */
export async function podFromCluster(cp: ControlPlaneClient, namespace: string, name: string, podName: string): Promise<ClusterPod> {
  const get = (path: string): Promise<unknown> => cp.admin.request("GET", path);
  const pod = Deployment.parse(await get(`/apis/apps/v1/namespaces/${namespace}/deployments/${name}`)).spec.template.spec;
  const [container] = pod.containers;
  if (container === undefined) throw new Error(`${name}: no container`);
  const field = (path: string): string => {
    if (path === "metadata.name") return podName;
    if (path === "metadata.namespace") return namespace;
    throw new Error(`fieldRef ${path} is not one this test resolves`);
  };
  const server = new URL(cp.server);
  // Every pod gets these (even with enableServiceLinks: false); envFrom first, env entries override.
  const env: Record<string, string> = { HOSTNAME: podName, KUBERNETES_SERVICE_HOST: server.hostname, KUBERNETES_SERVICE_PORT: server.port };
  for (const from of container.envFrom) Object.assign(env, Data.parse(await get(`/api/v1/namespaces/${namespace}/configmaps/${from.configMapRef.name}`)).data);
  for (const e of container.env) env[e.name] = e.valueFrom === undefined ? (e.value ?? "") : field(e.valueFrom.fieldRef.fieldPath);

  const files: PodFile[] = [];
  let tmpSize = "";
  for (const mount of container.volumeMounts) {
    const volume = pod.volumes.find((v) => v.name === mount.name);
    if (volume === undefined) throw new Error(`volumeMount ${mount.name} names no volume`);
    const at = (path: string): string => `${mount.mountPath}/${path}`;
    if (volume.secret !== undefined) {
      const { secretName, defaultMode, items } = volume.secret;
      const data = Data.parse(await get(`/api/v1/namespaces/${namespace}/secrets/${secretName}`)).data;
      for (const { key, path } of items ?? Object.keys(data).map((k) => ({ key: k, path: k }))) {
        files.push({ path: at(path), content: Buffer.from(data[key] ?? "", "base64").toString("utf8"), mode: defaultMode });
      }
    } else if (volume.projected !== undefined) {
      const mode = volume.projected.defaultMode;
      for (const source of volume.projected.sources) {
        if (source.serviceAccountToken !== undefined) {
          const { audience, expirationSeconds, path } = source.serviceAccountToken;
          const token = await cp.mintToken({ namespace, serviceAccount: pod.serviceAccountName, expirationSeconds, ...(audience === undefined ? {} : { audiences: [audience] }) });
          files.push({ path: at(path), content: token, mode });
        }
        if (source.configMap !== undefined) {
          const data = Data.parse(await get(`/api/v1/namespaces/${namespace}/configmaps/${source.configMap.name}`)).data;
          for (const { key, path } of source.configMap.items) files.push({ path: at(path), content: data[key] ?? "", mode });
        }
        for (const item of source.downwardAPI?.items ?? []) files.push({ path: at(item.path), content: field(item.fieldRef.fieldPath), mode });
      }
    } else if (volume.emptyDir !== undefined) {
      if (mount.mountPath !== "/tmp" || volume.emptyDir.medium !== "Memory") throw new Error(`emptyDir ${mount.name} at ${mount.mountPath}: only a memory /tmp is emulated`);
      tmpSize = volume.emptyDir.sizeLimit?.replace(/Mi$/, "m") ?? "16m";
    } else {
      throw new Error(`volume ${volume.name}: a kind this test does not emulate`);
    }
  }
  const { runAsUser, runAsGroup, fsGroup } = pod.securityContext;
  return { serviceAccount: pod.serviceAccountName, env, files, runAsUser, runAsGroup, fsGroup, readOnlyRootFilesystem: container.securityContext.readOnlyRootFilesystem, tmpSize };
}
