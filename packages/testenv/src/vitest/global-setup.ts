/**
 * vitest global setup: one real control plane per `vitest run`, shared by every project that lists this
 * file in `test.globalSetup`. Test files get it with `useControlPlane()` from `@edgeca/testenv/vitest`
 * (or `inject("edgecaControlPlane")` for the plain data).
 *
 * Global setups of all projects run in the one vitest main process, so a process-wide slot (a global
 * variable) lets the second project reuse the first one's control plane; a reference
 * count stops it after the last project's teardown.
 */
import type { TestProject } from "vitest/node";
import { startControlPlane } from "../control-plane/index.ts";
import type { ControlPlane } from "../control-plane/index.ts";
import { CONTROL_PLANE_KEY } from "./provided-context.ts";

interface Shared {
  users: number;
  started: Promise<ControlPlane>;
}

declare global {
  var edgecaSharedControlPlane: Shared | undefined;
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  let entry = globalThis.edgecaSharedControlPlane;
  if (entry === undefined) {
    const started = Date.now();
    entry = {
      users: 0,
      started: startControlPlane().then((cp) => {
        process.stderr.write(`[edgeca testenv] control plane ready at ${cp.server} in ${Date.now() - started} ms (data: ${cp.dataDir})\n`);
        return cp;
      }),
    };
    globalThis.edgecaSharedControlPlane = entry;
  }
  entry.users++;
  const controlPlane = await entry.started;
  project.provide(CONTROL_PLANE_KEY, controlPlane.info());
  const mine = entry;
  return async () => {
    mine.users--;
    if (mine.users === 0) {
      globalThis.edgecaSharedControlPlane = undefined;
      await controlPlane.stop();
    }
  };
}
