/**
 * What `bench e2e` runs on: one fresh control plane; istiod's ServiceAccount with the CSR permissions of
 * Istio's chart (approve on both signers); kube-controller-manager's csrsigning controller with its client
 * limits raised; and edgeca as `local up` runs it — the local signer (the Worker in workerd behind the
 * edge emulator, optionally adding a round-trip delay to every answer) and the shim with the RBAC of
 * infra/k8s (shim-part.ts). Everything is stopped by stop(), also after a failed start.
 */
import { createWriteStream } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { istiodRbac, ISTIOD_NAMESPACE, ISTIOD_SERVICE_ACCOUNT, startControllerManager, startControlPlane } from "@edgeca/testenv";
import type { ControllerManager, ControlPlane } from "@edgeca/testenv";
import { createMaterial, writeMaterial } from "../init/index.ts";
import type { StackContext } from "../local/local-stack.ts";
import { LOCAL_TOKEN_AUDIENCE, startShimPart } from "../local/shim-part.ts";
import { startLocalSigner } from "@edgeca/edge";
import { BenchKubeClient } from "./bench-kube-client.ts";
import { cpuSecondsOf, cpuSecondsOfAll, CpuMeter, descendantsMentioning, ownCpuSeconds } from "./proc-cpu.ts";

export const EDGECA_SIGNER = "example.com/foo";
export const KCM_SIGNER = "kubernetes.io/kube-apiserver-client";
export const TRUST_DOMAIN = "cluster.local";
const ISTIOD_USER = `system:serviceaccount:${ISTIOD_NAMESPACE}:${ISTIOD_SERVICE_ACCOUNT}`;

export interface E2eStackOptions {
  readonly inFlight: number;
  /** Delay the edge adds to every signer answer (production's round trip to Cloudflare). */
  readonly signerRttMs: number;
  /** kube-controller-manager's --kube-api-qps and --kube-api-burst. */
  readonly kcmQps: number;
  /** Start kube-controller-manager (false: edgeca alone, e.g. while it is not built yet). */
  readonly withKcm: boolean;
  readonly log: (line: string) => void;
}

export interface E2eStack {
  readonly controlPlane: ControlPlane;
  readonly kcm: ControllerManager | undefined;
  /** The edgeca signer's trust anchor (root-cert.pem of its material). */
  readonly edgecaRootPem: string;
  /** istio-system/istiod, with a connection pool for the burst. */
  readonly istiod: BenchKubeClient;
  /** The admin, for the watches and the clean-up between bursts. */
  readonly admin: BenchKubeClient;
  /** CPU of every part: kube-apiserver, etcd, kube-controller-manager, shim, workerd, and this process. */
  readonly cpu: CpuMeter;
  /** The shim's Prometheus endpoint (its batches are read from it). */
  readonly shimMetricsUrl: string;
  readonly stateDir: string;
  /** Stops every part; removes the state directory unless `keepState` (a failed run keeps its logs). */
  stop(keepState?: boolean): Promise<void>;
}

/** Starts everything; on failure stops what started and rethrows. */
export async function startE2eStack(options: E2eStackOptions): Promise<E2eStack> {
  const { log } = options;
  const stateDir = await mkdtemp(join(tmpdir(), "edgeca-bench-e2e-"));
  const stops: (() => Promise<void>)[] = [];
  const stop = async (): Promise<void> => {
    for (const step of stops.splice(0).reverse()) {
      await step().catch((error: unknown) => {
        log(`stopping failed: ${String(error)}`);
      });
    }
  };
  try {
    log(`starting etcd and kube-apiserver (state under ${stateDir})`);
    // Data kept by each part: the whole state directory goes at the end, or stays when the run failed.
    const controlPlane = await startControlPlane({ tmpDir: stateDir, keepDataDir: true, log });
    stops.push(() => controlPlane.stop());
    await grantIstiod(controlPlane);
    let kcm: ControllerManager | undefined;
    if (options.withKcm) {
      log(`starting kube-controller-manager --controllers=csrsigning --kube-api-qps=${options.kcmQps} --kube-api-burst=${options.kcmQps}`);
      const started = await startControllerManager({ kubeconfigPath: controlPlane.kubeconfigPath, kubeApiQps: options.kcmQps, kubeApiBurst: options.kcmQps, tmpDir: stateDir, keepDataDir: true, log });
      stops.push(() => started.stop());
      kcm = started;
    }
    const context: StackContext = { controlPlane, stateDir, signerName: EDGECA_SIGNER, trustDomain: TRUST_DOMAIN, allowedRequestors: [ISTIOD_USER], log };
    const signer = await startSigner(context, options.signerRttMs);
    stops.push(() => signer.stop());
    const shim = await startShimPart(context);
    stops.push(() => shim.stop());
    const token = await controlPlane.mintToken({ namespace: ISTIOD_NAMESPACE, serviceAccount: ISTIOD_SERVICE_ACCOUNT, expirationSeconds: 3600 });
    const istiod = new BenchKubeClient(controlPlane.server, controlPlane.caPem, { token }, options.inFlight * 2);
    const admin = new BenchKubeClient(controlPlane.server, controlPlane.caPem, { clientCertPem: controlPlane.adminCertPem, clientKeyPem: controlPlane.adminKeyPem }, 8);
    stops.push(() => {
      istiod.close();
      admin.close();
      return Promise.resolve();
    });
    const [etcdPid, apiserverPid] = controlPlane.pids;
    const shimPids = descendantsMentioning("apps/shim/src/main.ts");
    const workerdPids = descendantsMentioning("workerd");
    log(`CPU meters: kube-apiserver ${apiserverPid}, etcd ${etcdPid}, kube-controller-manager ${kcm?.pid ?? "not started"}, shim ${shimPids.join(",") || "not found"}, workerd ${workerdPids.join(",") || "not found"}`);
    const cpu = new CpuMeter(
      new Map<string, () => number | undefined>([
        ["kube-apiserver", () => (apiserverPid === undefined ? undefined : cpuSecondsOf(apiserverPid))],
        ["etcd", () => (etcdPid === undefined ? undefined : cpuSecondsOf(etcdPid))],
        ["kube-controller-manager", () => (kcm === undefined ? undefined : cpuSecondsOf(kcm.pid))],
        ["shim", () => (shimPids.length === 0 ? undefined : cpuSecondsOfAll(shimPids))],
        ["workerd", () => (workerdPids.length === 0 ? undefined : cpuSecondsOfAll(workerdPids))],
        ["bench process", ownCpuSeconds],
      ]),
    );
    const edgecaRootPem = await readFile(join(stateDir, "signer", "root-cert.pem"), "utf8");
    return {
      controlPlane,
      kcm,
      edgecaRootPem,
      istiod,
      admin,
      cpu,
      shimMetricsUrl: shim.metricsUrl,
      stateDir,
      async stop(keepState = false) {
        await stop();
        if (keepState) log(`logs kept in ${stateDir}`);
        else await rm(stateDir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await stop();
    log(`start failed; logs kept in ${stateDir}`);
    throw error;
  }
}

/**
 * Fresh `edgeca init` material made for this control plane's tokens, and the local signer on it. Writes
 * what the shim part reads: the material in `<stateDir>/signer/` and `<stateDir>/signer-url`.
 */
async function startSigner(context: StackContext, answerDelayMs: number): Promise<{ stop(): Promise<void> }> {
  const { controlPlane, stateDir } = context;
  const dir = join(stateDir, "signer");
  const material = await createMaterial({
    signerName: context.signerName,
    trustDomain: context.trustDomain,
    allowedRequestors: context.allowedRequestors,
    token: { jwks: { keys: controlPlane.jwks.keys.map((key) => ({ ...key })) }, audience: LOCAL_TOKEN_AUDIENCE, issuer: controlPlane.serviceAccountIssuer },
  });
  await writeMaterial(dir, material, { force: true });
  // The Worker's audit records (one per decision) go to a file, not into the table.
  const workerLog = createWriteStream(join(stateDir, "worker.log"), { flags: "a" });
  context.log(`starting the signer (workerd behind the edge emulator, ${answerDelayMs} ms added to every answer; Worker output in ${join(stateDir, "worker.log")})`);
  const signer = await startLocalSigner({ dir, answerDelayMs, workerOutput: { stdout: workerLog, stderr: workerLog } });
  const stop = async (): Promise<void> => {
    await signer.stop();
    workerLog.end();
  };
  await writeFile(join(stateDir, "signer-url"), `${signer.url}\n`).catch(async (error: unknown) => {
    await stop();
    throw error;
  });
  return { stop };
}

/** istiod's chart permissions for edgeca's signer, plus approve on the peer's signer for its run. */
async function grantIstiod(cp: ControlPlane): Promise<void> {
  await cp.ensureServiceAccount(ISTIOD_NAMESPACE, ISTIOD_SERVICE_ACCOUNT);
  const peerApprove = [
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRole",
      metadata: { name: "bench-istiod-approve-kube-apiserver-client" },
      rules: [{ apiGroups: ["certificates.k8s.io"], resources: ["signers"], resourceNames: [KCM_SIGNER], verbs: ["approve"] }],
    },
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRoleBinding",
      metadata: { name: "bench-istiod-approve-kube-apiserver-client" },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "bench-istiod-approve-kube-apiserver-client" },
      subjects: [{ kind: "ServiceAccount", name: ISTIOD_SERVICE_ACCOUNT, namespace: ISTIOD_NAMESPACE }],
    },
  ];
  const list = { apiVersion: "v1", kind: "List", items: [...istiodRbac(EDGECA_SIGNER), ...peerApprove] };
  const applied = await cp.kubectl(["apply", "-f", "-"], { input: JSON.stringify(list) });
  if (applied.code !== 0) throw new Error(`kubectl apply of istiod's RBAC failed: ${applied.stderr}`);
}
