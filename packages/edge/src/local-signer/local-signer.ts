/**
 * The signer as it runs on Cloudflare, on this machine: the real Worker bundle in workerd (Miniflare)
 * behind the edge emulator, which terminates mTLS and forwards plain HTTP/1.1 over pooled loopback
 * connections straight to workerd's own socket for the Worker, the verdict in workerd's cf-blob header.
 * Also the self-hosted deployment mode (`edgeca signer serve`, README "Self-hosted signer").
 */
import type { Readable } from "node:stream";
import type { AuditRecord } from "@edgeca/shared";
import { startEdgeEmulator, startEdgeThreads, type EdgeEmulatorOptions, type EdgeOrigin } from "../edge/index.ts";
import { Miniflare } from "miniflare";
import { join } from "node:path";
import { auditTap, openAuditFile, type AuditSinks } from "./audit-tap.ts";
import { edgeIdentityPaths, loadOrCreateEdgeIdentity } from "./edge-identity.ts";
import { readLocalMaterial, type LocalMaterial } from "./local-material.ts";
import { sharedWorkerBundle, type WorkerBundle } from "./worker-bundle.ts";

export interface LocalSignerOptions {
  /** The directory `edgeca init --out` wrote. */
  readonly dir: string;
  /** 0 or absent: a free port. */
  readonly port?: number;
  /** A bundle made earlier (e.g. by the benchmark); absent: this process's shared bundle (wrangler runs once). */
  readonly bundle?: WorkerBundle;
  /** Added by the edge before every answer (default 0): production's round trip to Cloudflare, emulated. */
  readonly answerDelayMs?: number;
  /**
   * workerd processes the edge balances between (default 1). For measurement only: each process keeps its
   * own issuance budgets (a Durable Object per process), so N allow N times every budget; `signer serve`
   * refuses more than one (README "Self-hosted signer").
   */
  readonly workerdInstances?: number;
  /** Worker threads for the edge (default 0: on the caller's thread); see README "Self-hosted signer". */
  readonly edgeThreads?: number;
  /**
   * Where the Worker's console output (one audit record per decision) goes, as raw bytes; default this
   * process's stdout and stderr. The benchmark passes a sink so its table stays readable.
   */
  readonly workerOutput?: WorkerOutput;
  /** Called with each audit record the Worker writes (the output still goes to `workerOutput`). */
  readonly onAuditRecord?: (record: AuditRecord) => void;
  /**
   * Where the audit records are appended as JSON lines; false: nowhere. Default `DIR/audit.jsonl`, except
   * when `workerOutput` is given (the benchmarks): reading every line would cost the measured process.
   */
  readonly auditFile?: string | false;
}

export interface WorkerOutput {
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
}

export interface LocalSigner {
  /** `https://127.0.0.1:PORT` */
  readonly url: string;
  readonly port: number;
  /** PEM of the CA behind the edge's serving certificate; also written to `serverCaPath`. */
  readonly serverCaPem: string;
  /** `DIR/edge-ca-cert.pem`; the same across restarts on the same DIR (the identity is kept in DIR/edge/). */
  readonly serverCaPath: string;
  /** Where the audit records go (`DIR/audit.jsonl` by default), or undefined. */
  readonly auditPath: string | undefined;
  /** Stops the edge and workerd; resolves when the port is free and workerd has exited. */
  stop(): Promise<void>;
}

/**
 * The header workerd's direct sockets read `request.cf` from: Miniflare configures them with
 * `cfBlobHeader: CoreHeaders.CF_BLOB` (miniflare 4 `dist/src/index.js`), and workerd removes it from
 * the request the Worker sees.
 */
const WORKERD_CF_BLOB_HEADER = "MF-CF-Blob";

function startWorkerd(bundle: WorkerBundle, material: LocalMaterial, output: WorkerOutput, audit: AuditSinks): Miniflare {
  return new Miniflare({
    modules: true,
    scriptPath: bundle.scriptPath,
    // Module names are paths relative to this root; the bundle lives in its own (temporary) directory.
    modulesRoot: bundle.outDir,
    compatibilityDate: bundle.config.compatibility_date,
    compatibilityFlags: bundle.config.compatibility_flags,
    bindings: { EDGECA_CONFIG: material.configText, ...material.secrets },
    // The issuance budgets' Durable Object, as wrangler.jsonc binds it (in memory: one count per workerd process).
    durableObjects: { EDGECA_BUDGETS: { className: "IssuanceBudgets", useSQLite: true } },
    // A socket of workerd's own that serves the Worker itself, not Miniflare's entry worker: client
    // `MF-*` headers cannot steer anything, and answers carry nothing Miniflare adds.
    unsafeDirectSockets: [{ host: "127.0.0.1", port: 0 }],
    // Piped as bytes: Miniflare's default splits workerd's output into lines and console.logs each one,
    // a cost on every request now that each decision writes an audit line.
    handleRuntimeStdio(stdout: Readable, stderr: Readable) {
      const asked = audit.onRecord !== undefined || audit.onRecordLine !== undefined;
      stdout.pipe(asked ? auditTap(audit, output.stdout) : output.stdout, { end: false });
      stderr.pipe(output.stderr, { end: false });
    },
  });
}

async function originOf(mf: Miniflare): Promise<EdgeOrigin> {
  const url = await mf.unsafeGetDirectURL();
  return { host: url.hostname, port: Number(url.port) };
}

/** Starts the Worker in workerd with the Worker config and secrets of `dir`, behind the edge emulator. */
export async function startLocalSigner(options: LocalSignerOptions): Promise<LocalSigner> {
  const material = await readLocalMaterial(options.dir);
  const bundle = options.bundle ?? (await sharedWorkerBundle());
  const instances = options.workerdInstances ?? 1;
  if (!Number.isInteger(instances) || instances < 1 || instances > 16) throw new RangeError(`workerdInstances must be an integer from 1 to 16, got ${instances}`);
  const output = options.workerOutput ?? { stdout: process.stdout, stderr: process.stderr };
  const auditPath = options.auditFile ?? (options.workerOutput === undefined ? join(options.dir, "audit.jsonl") : false);
  const auditFile = auditPath === false ? undefined : openAuditFile(auditPath);
  const audit: AuditSinks = {
    ...(auditFile === undefined ? {} : { onRecordLine: auditFile.writeLine }),
    ...(options.onAuditRecord === undefined ? {} : { onRecord: options.onAuditRecord }),
  };
  const runtimes = Array.from({ length: instances }, () => startWorkerd(bundle, material, output, audit));
  const disposeAll = async (): Promise<void> => {
    await Promise.all(runtimes.map((mf) => mf.dispose()));
    await auditFile?.close();
  };
  try {
    const origins = await Promise.all(runtimes.map(originOf));
    const identity = await loadOrCreateEdgeIdentity(options.dir);
    const edgeOptions: EdgeEmulatorOptions = {
      clientCaPem: material.clientCaPem,
      upstream: { origins, cfBlobHeader: WORKERD_CF_BLOB_HEADER },
      identity,
      ...(options.port === undefined ? {} : { port: options.port }),
      ...(options.answerDelayMs === undefined ? {} : { answerDelayMs: options.answerDelayMs }),
    };
    const threads = options.edgeThreads ?? 0;
    const edge = threads > 0 ? await startEdgeThreads(edgeOptions, threads) : await startEdgeEmulator(edgeOptions);
    const serverCaPath = edgeIdentityPaths(options.dir).caPath;
    return {
      url: edge.url,
      port: edge.port,
      serverCaPem: edge.serverCaPem,
      serverCaPath,
      auditPath: auditFile?.path,
      async stop() {
        await edge.close();
        await disposeAll();
      },
    };
  } catch (error) {
    await disposeAll();
    throw error;
  }
}
