/**
 * The signer Worker as Cloudflare would receive it: bundled by wrangler itself
 * (`wrangler deploy --dry-run --outdir`), so local runs and the benchmark use exactly the code and the
 * bundling (conditions, format, compatibility handling) that `wrangler deploy` ships.
 */
import { execFile } from "node:child_process";
import { rmSync } from "node:fs";
import { mkdtemp, readdir, readFile, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { gzipSync } from "node:zlib";
import { z } from "zod";
import { parseJsonc } from "./jsonc.ts";

/** apps/signer, where wrangler.jsonc and the Worker live. */
export const SIGNER_APP_DIR = fileURLToPath(new URL("../../../../apps/signer/", import.meta.url));
const WRANGLER = join(SIGNER_APP_DIR, "node_modules", "wrangler", "bin", "wrangler.js");

/** The part of wrangler.jsonc the local runtime needs. */
export const WranglerConfig = z.object({
  name: z.string(),
  main: z.string(),
  compatibility_date: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
  compatibility_flags: z.array(z.string()).default([]),
});
export type WranglerConfig = z.infer<typeof WranglerConfig>;

export interface WorkerBundle {
  /** The ES module wrangler wrote (other modules, if any, sit beside it). */
  readonly scriptPath: string;
  readonly outDir: string;
  readonly bytes: number;
  readonly gzipBytes: number;
  readonly config: WranglerConfig;
}

/** A failed bundling step; the message carries wrangler's own output. */
export class WorkerBundleError extends Error {
  override readonly name = "WorkerBundleError";
}

/** Reads and checks apps/signer/wrangler.jsonc. */
export async function readWranglerConfig(): Promise<WranglerConfig> {
  const path = join(SIGNER_APP_DIR, "wrangler.jsonc");
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    throw new WorkerBundleError(`${path}: cannot read (${(error as NodeJS.ErrnoException).code ?? String(error)})`, { cause: error });
  }
  const parsed = WranglerConfig.safeParse(parseJsonc(text));
  if (!parsed.success) throw new WorkerBundleError(`${path}: ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`);
  return parsed.data;
}

/** Bundles the Worker with `wrangler deploy --dry-run --outdir` into a fresh directory (or `outDir`). */
export async function bundleWorker(options: { outDir?: string } = {}): Promise<WorkerBundle> {
  const config = await readWranglerConfig();
  const outDir = options.outDir ?? (await mkdtemp(join(tmpdir(), "edgeca-worker-")));
  try {
    await promisify(execFile)(process.execPath, [WRANGLER, "deploy", "--dry-run", "--outdir", outDir], {
      cwd: SIGNER_APP_DIR,
      env: { ...process.env, WRANGLER_SEND_METRICS: "false", NO_COLOR: "1", CI: "1" },
      maxBuffer: 16 * 1024 * 1024,
    });
  } catch (error) {
    const { stdout = "", stderr = "" } = error as { stdout?: string; stderr?: string };
    throw new WorkerBundleError(`wrangler deploy --dry-run failed in ${SIGNER_APP_DIR}:\n${stderr}${stdout}`, { cause: error });
  }
  const files = await readdir(outDir);
  const script = files.find((f) => f.endsWith(".js") && !f.endsWith(".map.js"));
  if (script === undefined) throw new WorkerBundleError(`wrangler wrote no .js file into ${outDir} (found: ${files.join(", ") || "nothing"})`);
  const scriptPath = join(outDir, script);
  const contents = await readFile(scriptPath);
  return { scriptPath, outDir, bytes: (await stat(scriptPath)).size, gzipBytes: gzipSync(contents).length, config };
}

let shared: Promise<WorkerBundle> | undefined;

/**
 * One bundle per process, made on first use and removed when the process exits: a signer restarted
 * by a test (or several local signers) does not pay for wrangler again.
 */
export function sharedWorkerBundle(): Promise<WorkerBundle> {
  if (shared === undefined) {
    const pending = bundleWorker();
    shared = pending;
    pending.then(
      (bundle) => {
        process.once("exit", () => {
          rmSync(bundle.outDir, { recursive: true, force: true });
        });
      },
      () => {
        // A failed bundling is not cached: the next caller tries again.
        if (shared === pending) shared = undefined;
      },
    );
  }
  return shared;
}
