/**
 * A part that runs once in every cluster of a multi-cluster stack (the shim): each copy gets that
 * cluster's control plane, state directory and trust domain, as if it were the only cluster.
 */
import type { PartStarter, StackContext, StackPart } from "./local-stack.ts";
import type { PartExit } from "./part-exit.ts";

/** `start` in each cluster of the context (or once, in a one-cluster stack), as one part named `name`. */
export function inEachCluster(name: string, start: PartStarter): PartStarter {
  return async (context) => {
    const { clusters, ...single } = context;
    if (clusters === undefined) return await start(context);
    const started: StackPart[] = [];
    const stopAll = async (): Promise<void> => {
      for (const part of [...started].reverse()) await part.stop();
    };
    try {
      for (const cluster of clusters) {
        const own: StackContext = { ...single, controlPlane: cluster.controlPlane, stateDir: cluster.stateDir, trustDomain: cluster.trustDomain };
        const part = await start(own);
        started.push({
          name: `${part.name} of ${cluster.name}`,
          died: part.died.then((exit): PartExit => ({ ...exit, name: `${exit.name} of ${cluster.name}` })),
          stop: () => part.stop(),
        });
      }
    } catch (error) {
      await stopAll();
      throw error;
    }
    return { name, died: Promise.race(started.map((p) => p.died)), stop: stopAll };
  };
}
