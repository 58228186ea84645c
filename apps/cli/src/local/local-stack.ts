/**
 * The local stack behind `edgeca local up`: a real control plane, optionally the local signer (the Worker
 * in workerd behind the mTLS edge emulator) and the shim, each stopped in reverse order.
 */
import { copyFile, mkdir } from "node:fs/promises";
import { join } from "node:path";
import { startControlPlane } from "@edgeca/testenv";
import type { ControlPlane } from "@edgeca/testenv";
import type { PartExit } from "./part-exit.ts";

/** A started part of the stack (signer, shim) that can be stopped. */
export interface StackPart {
  readonly name: string;
  /** Resolves if the part ends on its own, before stop(); stays pending otherwise. */
  readonly died: Promise<PartExit>;
  stop(): Promise<void>;
}

/** What a part's starter gets: the running control plane and the stack's settings. */
export interface StackContext {
  readonly controlPlane: ControlPlane;
  readonly stateDir: string;
  readonly signerName: string;
  readonly trustDomain: string;
  readonly allowedRequestors: readonly string[];
  readonly log: (line: string) => void;
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
  /** Progress lines (stderr in the CLI). */
  readonly log: (line: string) => void;
}

export interface LocalStack {
  readonly controlPlane: ControlPlane;
  /** `<stateDir>/kubeconfig`: the admin kubeconfig. */
  readonly kubeconfigPath: string;
  readonly parts: readonly StackPart[];
  /**
   * Resolves with the first process (etcd, kube-apiserver) or part that ended on its own while the stack
   * was not being stopped; stays pending otherwise. Nothing restarts it: the caller reports and stops.
   */
  readonly failed: Promise<PartExit>;
  /** Stops the parts in reverse order, then the control plane. Idempotent. */
  stop(): Promise<void>;
}

/** Starts the control plane (its data under `stateDir`), writes the admin kubeconfig, then the parts. */
export async function startLocalStack(options: LocalStackOptions): Promise<LocalStack> {
  await mkdir(options.stateDir, { recursive: true });
  const started = Date.now();
  options.log(`starting etcd and kube-apiserver (data under ${options.stateDir})`);
  const controlPlane = await startControlPlane({ tmpDir: options.stateDir, log: options.log });
  options.log(`control plane ready at ${controlPlane.server} in ${Date.now() - started} ms`);
  const kubeconfigPath = join(options.stateDir, "kubeconfig");
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
  watch(controlPlane.died);
  const stop = async (): Promise<void> => {
    stopping ??= (async () => {
      for (const part of [...parts].reverse()) {
        try {
          await part.stop();
        } catch (error) {
          options.log(`stopping ${part.name} failed: ${String(error)}`);
        }
      }
      await controlPlane.stop();
    })();
    await stopping;
  };
  try {
    await copyFile(controlPlane.kubeconfigPath, kubeconfigPath);
    const context: StackContext = {
      controlPlane,
      stateDir: options.stateDir,
      signerName: options.signerName,
      trustDomain: options.trustDomain,
      allowedRequestors: options.allowedRequestors,
      log: options.log,
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
  return { controlPlane, kubeconfigPath, parts, failed, stop };
}
