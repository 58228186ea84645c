/**
 * The local stack behind `edgeca local up`: a real control plane (or one per cluster with `clusters`),
 * optionally the local signer (the Worker in workerd behind the mTLS edge emulator; one for all clusters)
 * and the shim (one per cluster), each stopped in reverse order.
 */
import { copyFile, mkdir } from "node:fs/promises";
import { join } from "node:path";
import { startControlPlane } from "@edgeca/testenv";
import type { ControlPlane } from "@edgeca/testenv";
import type { BudgetsInput } from "../signer/index.ts";
import type { PartExit } from "./part-exit.ts";

/** A started part of the stack (signer, shim) that can be stopped. */
export interface StackPart {
  readonly name: string;
  /** Resolves if the part ends on its own, before stop(); stays pending otherwise. */
  readonly died: Promise<PartExit>;
  stop(): Promise<void>;
}

/** One cluster of a multi-cluster stack: its control plane and its own files under `<stateDir>/<name>/`. */
export interface LocalCluster {
  readonly name: string;
  /** The trust domain of its workloads (its policy's `trustDomain`). */
  readonly trustDomain: string;
  readonly controlPlane: ControlPlane;
  /** `<stateDir>/<name>`: its kubeconfig, its shim's files, `signer-url` and `signer/` (its client certificate). */
  readonly stateDir: string;
  /** `<stateDir>/<name>/kubeconfig`: the admin kubeconfig. */
  readonly kubeconfigPath: string;
}

/** A cluster the stack should run. */
export interface LocalClusterSpec {
  /** A DNS label; also the directory under the state dir. */
  readonly name: string;
  readonly trustDomain: string;
}

/** What a part's starter gets: the running control plane and the stack's settings. */
export interface StackContext {
  /** The control plane (the first cluster's in a multi-cluster stack). */
  readonly controlPlane: ControlPlane;
  readonly stateDir: string;
  readonly signerName: string;
  readonly trustDomain: string;
  readonly allowedRequestors: readonly string[];
  readonly log: (line: string) => void;
  /** Present in a multi-cluster stack: every cluster, in order (per-cluster.ts starts a part in each). */
  readonly clusters?: readonly LocalCluster[];
  /** Issuance budgets for every cluster of the signer's configuration (default: the schema's). */
  readonly budgets?: BudgetsInput;
}

/** Starts one optional part once the control plane is up (and after the parts before it). */
export type PartStarter = (context: StackContext) => Promise<StackPart>;

export interface LocalStackOptions {
  /** Created if missing; receives `kubeconfig` (admin) and the parts' files (e.g. `root-cert.pem`). */
  readonly stateDir: string;
  readonly signerName: string;
  readonly trustDomain: string;
  readonly allowedRequestors: readonly string[];
  /** Started in this order after the control plane, stopped in reverse; e.g. [signer, shim]. */
  readonly parts: readonly PartStarter[];
  /**
   * Present: a control plane per cluster, each with its files under `<stateDir>/<name>/`; absent: one
   * control plane with its kubeconfig at `<stateDir>/kubeconfig`.
   */
  readonly clusters?: readonly LocalClusterSpec[];
  /** Issuance budgets for every cluster of the signer's configuration (the demo's greedy identity). */
  readonly budgets?: BudgetsInput;
  /** Progress lines (stderr in the CLI). */
  readonly log: (line: string) => void;
}

export interface LocalStack {
  /** The control plane (the first cluster's in a multi-cluster stack). */
  readonly controlPlane: ControlPlane;
  /** `<stateDir>/kubeconfig` (multi-cluster: the first cluster's): the admin kubeconfig. */
  readonly kubeconfigPath: string;
  /** Multi-cluster: every cluster; otherwise empty. */
  readonly clusters: readonly LocalCluster[];
  readonly parts: readonly StackPart[];
  /**
   * Resolves with the first process (etcd, kube-apiserver) or part that ended on its own while the stack
   * was not being stopped; stays pending otherwise. Nothing restarts it: the caller reports and stops.
   */
  readonly failed: Promise<PartExit>;
  /** Stops the parts in reverse order, then the control plane. Idempotent. */
  stop(): Promise<void>;
}

/** Starts a control plane with its data under `dir` and copies its admin kubeconfig to `dir/kubeconfig`. */
async function startPlane(dir: string, what: string, log: (line: string) => void): Promise<{ controlPlane: ControlPlane; kubeconfigPath: string }> {
  await mkdir(dir, { recursive: true });
  const started = Date.now();
  log(`starting etcd and kube-apiserver${what} (data under ${dir})`);
  const controlPlane = await startControlPlane({ tmpDir: dir, log });
  log(`control plane${what} ready at ${controlPlane.server} in ${Date.now() - started} ms`);
  const kubeconfigPath = join(dir, "kubeconfig");
  try {
    await copyFile(controlPlane.kubeconfigPath, kubeconfigPath);
  } catch (error) {
    await controlPlane.stop();
    throw error;
  }
  return { controlPlane, kubeconfigPath };
}

/** Starts the control plane(s) (data under `stateDir`), writes the admin kubeconfig(s), then the parts. */
export async function startLocalStack(options: LocalStackOptions): Promise<LocalStack> {
  await mkdir(options.stateDir, { recursive: true });
  const planes: ControlPlane[] = [];
  const clusters: LocalCluster[] = [];
  const parts: StackPart[] = [];
  let stopping: Promise<void> | undefined;
  let reportDeath: (exit: PartExit) => void = () => undefined;
  const failed = new Promise<PartExit>((resolve) => {
    reportDeath = (exit) => {
      if (stopping === undefined) resolve(exit);
    };
  });
  const watch = (died: Promise<PartExit>): void => {
    void died.then(reportDeath);
  };
  const stop = async (): Promise<void> => {
    stopping ??= (async () => {
      for (const part of [...parts].reverse()) {
        try {
          await part.stop();
        } catch (error) {
          options.log(`stopping ${part.name} failed: ${String(error)}`);
        }
      }
      for (const plane of [...planes].reverse()) await plane.stop();
    })();
    await stopping;
  };
  let first: { controlPlane: ControlPlane; kubeconfigPath: string } | undefined;
  try {
    // One after the other: two control planes starting at once on a small machine only slow each other.
    for (const spec of options.clusters ?? [undefined]) {
      const dir = spec === undefined ? options.stateDir : join(options.stateDir, spec.name);
      const plane = await startPlane(dir, spec === undefined ? "" : ` of ${spec.name}`, options.log);
      planes.push(plane.controlPlane);
      watch(plane.controlPlane.died);
      first ??= plane;
      if (spec !== undefined) clusters.push({ ...spec, ...plane, stateDir: dir });
    }
    if (first === undefined) throw new Error("no cluster to start");
    const context: StackContext = {
      controlPlane: first.controlPlane,
      stateDir: options.stateDir,
      signerName: options.signerName,
      trustDomain: options.trustDomain,
      allowedRequestors: options.allowedRequestors,
      log: options.log,
      ...(options.clusters === undefined ? {} : { clusters }),
      ...(options.budgets === undefined ? {} : { budgets: options.budgets }),
    };
    for (const start of options.parts) {
      const part = await start(context);
      parts.push(part);
      watch(part.died);
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return { controlPlane: first.controlPlane, kubeconfigPath: first.kubeconfigPath, clusters, parts, failed, stop };
}
