/** The real Worker bundle: `wrangler deploy --dry-run` must succeed, and the bundle must stay small. */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";

const appDir = join(import.meta.dirname, "..");
/** Issue 2's bundle target. */
const MAX_GZIP_BYTES = 150 * 1024;

describe("wrangler deploy --dry-run", () => {
  it("bundles the Worker, within 150 KiB gzipped", () => {
    const out = mkdtempSync(join(tmpdir(), "edgeca-bundle-"));
    try {
      execFileSync(join(appDir, "node_modules/.bin/wrangler"), ["deploy", "--dry-run", "--outdir", out], {
        cwd: appDir,
        encoding: "utf8",
        env: { ...process.env, WRANGLER_SEND_METRICS: "false", CI: "1" },
        stdio: ["ignore", "pipe", "pipe"],
      });
      const files = readdirSync(out).filter((f) => f.endsWith(".js"));
      expect(files).toEqual(["index.js"]);
      const bundle = readFileSync(join(out, "index.js"));
      const gzipped = gzipSync(bundle, { level: 9 }).length;
      console.log(`signer bundle: ${bundle.length} bytes, ${gzipped} bytes gzipped`);
      expect(gzipped).toBeLessThan(MAX_GZIP_BYTES);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});
