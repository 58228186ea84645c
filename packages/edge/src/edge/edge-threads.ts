/**
 * The edge on worker threads of its own: the TLS, HTTP and forwarding work of every request off the
 * caller's thread (which may be a benchmark's client, or `local up`'s other parts), on as many threads as
 * asked, all listening on one port with SO_REUSEPORT so the kernel spreads connections between them.
 */
import { Worker } from "node:worker_threads";
import type { EdgeEmulator, EdgeEmulatorOptions } from "./edge-emulator.ts";
import type { EdgeThreadMessage } from "./edge-thread.ts";
import { createServerCertificate } from "./server-certificate.ts";

const ENTRY = new URL("./edge-thread.ts", import.meta.url);

/** `--import tsx`, `--require=/…/tsx/…` and the like: a TypeScript loader named in the process's options. */
const LOADER_FLAGS = new Set(["--import", "--require", "-r", "--loader", "--experimental-loader"]);
const isTsx = (value: string): boolean => /(^|[\\/])tsx([\\/]|$)/.test(value);

/**
 * The thread's Node options: the process's, less a tsx loader when this Node strips types itself. The edge
 * is erasable TypeScript (edge-thread.ts), and tsx's transform wraps every function a request creates in a
 * naming helper, a cost per request on the thread.
 */
export function edgeThreadExecArgv(execArgv: readonly string[], stripsTypes: boolean): string[] {
  if (!stripsTypes) return [...execArgv];
  const out: string[] = [];
  for (let i = 0; i < execArgv.length; i += 1) {
    const arg = execArgv[i] ?? "";
    const eq = arg.indexOf("=");
    if (eq > 0 && LOADER_FLAGS.has(arg.slice(0, eq)) && isTsx(arg.slice(eq + 1))) continue;
    if (LOADER_FLAGS.has(arg) && isTsx(execArgv[i + 1] ?? "")) {
      i += 1;
      continue;
    }
    out.push(arg);
  }
  return out;
}

const EXEC_ARGV = edgeThreadExecArgv(process.execArgv, Boolean(process.features.typescript));

function nextMessage(worker: Worker): Promise<EdgeThreadMessage> {
  return new Promise((resolve, reject) => {
    const onExit = (code: number): void => {
      reject(new Error(`edge thread exited with ${code} before answering`));
    };
    worker.once("error", reject).once("exit", onExit);
    worker.once("message", (m: EdgeThreadMessage) => {
      worker.off("error", reject).off("exit", onExit);
      resolve(m);
    });
  });
}

interface EdgeThread {
  readonly worker: Worker;
  readonly port: number;
  /** Settles when the thread has exited, also when that happened before `close()` (a thread that failed). */
  readonly exited: Promise<void>;
}

/** The edge threads' name, as the kernel shows it (/proc/<pid>/task/<tid>/comm keeps 15 bytes): benchmarks find their CPU by it. */
export const EDGE_THREAD_NAME = "edgeca-edge";

async function startThread(options: EdgeEmulatorOptions): Promise<EdgeThread> {
  const worker = new Worker(ENTRY, { name: EDGE_THREAD_NAME, workerData: options, execArgv: EXEC_ARGV });
  const exited = new Promise<void>((resolve) => worker.once("exit", () => { resolve(); }));
  // A thread that fails later must not take the caller's process with it (an unheard "error" would):
  // it is reported, and the threads left keep serving the port.
  worker.on("error", (error: unknown) => {
    process.stderr.write(`edge thread ${worker.threadId} failed: ${error instanceof Error ? error.message : String(error)}\n`);
  });
  const first = await nextMessage(worker);
  if (first.kind !== "listening") {
    await worker.terminate();
    throw new Error(`edge thread: ${first.kind === "failed" ? first.message : "closed at start"}`);
  }
  return { worker, port: first.port, exited };
}

/** Starts `threads` edges (≥ 1) on one port; the same interface as `startEdgeEmulator`. */
export async function startEdgeThreads(options: EdgeEmulatorOptions, threads: number): Promise<EdgeEmulator> {
  if (!Number.isInteger(threads) || threads < 1 || threads > 16) throw new RangeError(`edge threads must be an integer from 1 to 16, got ${threads}`);
  const identity = options.identity ?? (await createServerCertificate());
  // Only data crosses to a thread: origins may be richer objects (a test's origin has methods).
  const upstream = { origins: options.upstream.origins.map((o) => ({ host: o.host, port: o.port })), cfBlobHeader: options.upstream.cfBlobHeader };
  const shared: EdgeEmulatorOptions = { ...options, upstream, identity: { caPem: identity.caPem, certPem: identity.certPem, keyPem: identity.keyPem }, reusePort: true };
  // The first picks the port (0: a free one); the others join it.
  const first = await startThread(shared);
  const all = [first];
  try {
    for (let i = 1; i < threads; i += 1) all.push(await startThread({ ...shared, port: first.port }));
  } catch (error) {
    await Promise.all(all.map((t) => t.worker.terminate()));
    throw error;
  }
  const url = `https://127.0.0.1:${first.port}`;
  return {
    url,
    port: first.port,
    serverCaPem: identity.caPem,
    async close() {
      await Promise.all(
        all.map(async ({ worker, exited }) => {
          // A thread that already exited ignores the message; its exit was recorded at start.
          worker.postMessage("close");
          await exited;
        }),
      );
    },
  };
}
