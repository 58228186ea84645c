/**
 * Entry of one edge worker thread (edge-threads.ts): runs `startEdgeEmulator` with the options it was
 * given, reports its port, and closes when told. Loaded by Node itself (type stripping), so this file and
 * what it imports use erasable TypeScript only.
 */
import { parentPort, workerData } from "node:worker_threads";
import { startEdgeEmulator, type EdgeEmulatorOptions } from "./edge-emulator.ts";

/** What the thread tells its host. */
export type EdgeThreadMessage =
  | { readonly kind: "listening"; readonly port: number }
  | { readonly kind: "failed"; readonly message: string }
  | { readonly kind: "closed" };

const port = parentPort;
if (port === null) throw new Error("edge-thread.ts runs as a worker thread only");
const post = (message: EdgeThreadMessage): void => {
  port.postMessage(message);
};

try {
  const edge = await startEdgeEmulator(workerData as EdgeEmulatorOptions);
  port.on("message", (message: unknown) => {
    if (message !== "close") return;
    edge.close().then(
      () => {
        post({ kind: "closed" });
        port.close();
      },
      (error: unknown) => {
        post({ kind: "failed", message: String(error) });
      },
    );
  });
  post({ kind: "listening", port: edge.port });
} catch (error) {
  post({ kind: "failed", message: error instanceof Error ? error.message : String(error) });
}
