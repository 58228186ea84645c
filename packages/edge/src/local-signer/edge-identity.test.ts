import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { X509Certificate } from "node:crypto";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { edgeIdentityPaths, loadOrCreateEdgeIdentity } from "./edge-identity.ts";

describe("loadOrCreateEdgeIdentity", () => {
  it("keeps the serving identity in DIR so a restart presents a certificate clients already trust", async () => {
    const dir = mkdtempSync(join(tmpdir(), "edgeca-edge-id-"));
    const first = await loadOrCreateEdgeIdentity(dir);
    const again = await loadOrCreateEdgeIdentity(dir);
    expect(again).toEqual(first);
    const { keyPath, caPath } = edgeIdentityPaths(dir);
    expect(statSync(keyPath).mode & 0o077).toBe(0);
    expect(new X509Certificate(first.certPem).checkIssued(new X509Certificate(first.caPem))).toBe(true);
    expect(readFileSync(caPath, "utf8")).toBe(first.caPem);
  });

  it("makes a new identity when the kept one is damaged", async () => {
    const dir = mkdtempSync(join(tmpdir(), "edgeca-edge-id-"));
    const first = await loadOrCreateEdgeIdentity(dir);
    writeFileSync(edgeIdentityPaths(dir).certPath, "not a certificate");
    const second = await loadOrCreateEdgeIdentity(dir);
    expect(second.caPem).not.toBe(first.caPem);
    rmSync(dir, { recursive: true, force: true });
  });
});
