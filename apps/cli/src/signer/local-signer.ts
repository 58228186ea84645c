/**
 * The signer as it runs on Cloudflare, on this machine: the real Worker bundle in workerd (Miniflare)
 * behind the edge emulator, which terminates mTLS and hands the verdict over as `cf.tlsClientAuth`.
 */
import { startEdgeEmulator, type EdgeUpstream } from "@edgeca/testenv";
import { Miniflare } from "miniflare";
import { edgeIdentityPaths, loadOrCreateEdgeIdentity } from "./edge-identity.ts";
import { readLocalMaterial } from "./local-material.ts";
import { sharedWorkerBundle, type WorkerBundle } from "./worker-bundle.ts";

export interface LocalSignerOptions {
  /** The directory `edgeca init --out` wrote. */
  readonly dir: string;
  /** 0 or absent: a free port. */
  readonly port?: number;
  /** A bundle made earlier (e.g. by the benchmark); absent: this process's shared bundle (wrangler runs once). */
  readonly bundle?: WorkerBundle;
}

export interface LocalSigner {
  /** `https://127.0.0.1:PORT` */
  readonly url: string;
  readonly port: number;
  /** PEM of the CA behind the edge's serving certificate; also written to `serverCaPath`. */
  readonly serverCaPem: string;
  /** `DIR/edge-ca-cert.pem`; the same across restarts on the same DIR (the identity is kept in DIR/edge/). */
  readonly serverCaPath: string;
  /** Stops the edge and workerd; resolves when the port is free and workerd has exited. */
  stop(): Promise<void>;
}

/** Starts the Worker in workerd with the Worker config and secrets of `dir`, behind the edge emulator. */
export async function startLocalSigner(options: LocalSignerOptions): Promise<LocalSigner> {
  const material = await readLocalMaterial(options.dir);
  const bundle = options.bundle ?? (await sharedWorkerBundle());
  const mf = new Miniflare({
    modules: true,
    scriptPath: bundle.scriptPath,
    // Module names are paths relative to this root; the bundle lives in its own (temporary) directory.
    modulesRoot: bundle.outDir,
    compatibilityDate: bundle.config.compatibility_date,
    compatibilityFlags: bundle.config.compatibility_flags,
    bindings: { EDGECA_CONFIG: material.configText, ...material.secrets },
  });
  const upstream: EdgeUpstream = async (request, cf) => {
    // The body is read whole first (the emulator caps it at 1 MiB): streamed, undici fails the whole
    // exchange ("fetch failed") when the Worker answers 413 before reading all of a large body.
    const body = request.body === null ? undefined : new Uint8Array(await request.arrayBuffer());
    const answer = await mf.dispatchFetch(request.url, {
      method: request.method,
      headers: [...request.headers],
      ...(body === undefined ? {} : { body }),
      cf: cf as never,
      redirect: "manual",
    });
    return new Response(answer.body as ReadableStream<Uint8Array> | null, { status: answer.status, headers: [...answer.headers] });
  };
  try {
    await mf.ready;
    const identity = await loadOrCreateEdgeIdentity(options.dir);
    const edge = await startEdgeEmulator({
      clientCaPem: material.clientCaPem,
      upstream,
      identity,
      ...(options.port === undefined ? {} : { port: options.port }),
    });
    const serverCaPath = edgeIdentityPaths(options.dir).caPath;
    return {
      url: edge.url,
      port: edge.port,
      serverCaPem: edge.serverCaPem,
      serverCaPath,
      async stop() {
        await edge.close();
        await mf.dispose();
      },
    };
  } catch (error) {
    await mf.dispose();
    throw error;
  }
}
