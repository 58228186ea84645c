/**
 * The bundle `signer serve` runs is the one `wrangler deploy` ships, and it needs no Node.js API: wrangler.jsonc
 * turns on no Node compatibility, and the bundle imports nothing but workerd's own `cloudflare:` modules.
 * (Without the flag wrangler only warns about a `node:` or Node built-in import and leaves it in the bundle,
 * to fail at run time; hence the check of the bundle's imports.)
 */
import { readFile, rm } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bundleWorker, readWranglerConfig, type WorkerBundle } from "./worker-bundle.ts";

let bundle: WorkerBundle;

beforeAll(async () => {
  bundle = await bundleWorker();
});

afterAll(async () => {
  await rm(bundle.outDir, { recursive: true, force: true });
});

describe("the Worker bundle", () => {
  it("is configured without Node.js compatibility", async () => {
    const config = await readWranglerConfig();
    expect(config.compatibility_flags.filter((flag) => flag.startsWith("nodejs_"))).toEqual([]);
    // From this date on, nodejs_compat is on unless "no_nodejs_compat" says otherwise.
    if (config.compatibility_date >= "2026-08-04") expect(config.compatibility_flags).toContain("no_nodejs_compat");
  });

  it("bundles without it and imports no node: module or Node built-in, only cloudflare: modules", async () => {
    const code = await readFile(bundle.scriptPath, "utf8");
    expect(code.length).toBeGreaterThan(10_000);
    // Not after a dot: `Uint8Array.from("0123…")` is a call, not an import.
    const imported = [...code.matchAll(/(?<![.\w$])(?:from|import|require)\s*\(?\s*["']([^"']+)["']/g)].map((m) => m[1]);
    expect(imported).toContain("cloudflare:workers");
    expect(imported.filter((specifier) => specifier?.startsWith("cloudflare:") !== true)).toEqual([]);
  });
});
