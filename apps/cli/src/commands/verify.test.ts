import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../signer/cli-process.ts";
import { createTestChain } from "../verify/test-chain.ts";

const ID = "spiffe://cluster.local/ns/default/sa/bookinfo-productpage";

describe("edgeca verify (as a process)", () => {
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "edgeca-verify-cli-"));
    const good = await createTestChain({ uris: [ID] });
    const other = await createTestChain({ uris: [ID] });
    writeFileSync(join(dir, "chain.pem"), good.chainPem);
    writeFileSync(join(dir, "root.pem"), good.rootPem);
    writeFileSync(join(dir, "other-root.pem"), other.rootPem);
    writeFileSync(join(dir, "junk.pem"), "not a certificate\n");
  });

  it("exits 0 and prints the leaf and every check for a good chain", async () => {
    const r = await runCli(["verify", "--chain", join(dir, "chain.pem"), "--root", join(dir, "root.pem"), "--spiffe-id", ID]);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(`SANs       URI:${ID} (critical)`);
    expect(r.stdout).toContain("key        EC P-256");
    expect(r.stdout).toContain("result: OK");
  });

  it("exits 1 naming the failed check for the wrong root and for the wrong SPIFFE ID", async () => {
    const wrongRoot = await runCli(["verify", "--chain", join(dir, "chain.pem"), "--root", join(dir, "other-root.pem")]);
    expect(wrongRoot.status).toBe(1);
    expect(wrongRoot.stdout).toMatch(/FAIL {2}chains to the root/);
    const wrongId = await runCli(["verify", "--chain", join(dir, "chain.pem"), "--root", join(dir, "root.pem"), "--spiffe-id", "spiffe://cluster.local/ns/x/sa/y"]);
    expect(wrongId.status).toBe(1);
    expect(wrongId.stdout).toMatch(/FAIL {2}SPIFFE ID: expected spiffe:\/\/cluster.local\/ns\/x\/sa\/y/);
  });

  it("exits 2 naming the file for a junk file, a missing file and a missing flag", async () => {
    const junk = await runCli(["verify", "--chain", join(dir, "junk.pem"), "--root", join(dir, "root.pem")]);
    expect(junk.status).toBe(2);
    expect(junk.stderr).toContain(`${join(dir, "junk.pem")}: no PEM CERTIFICATE block found`);
    const missing = await runCli(["verify", "--chain", join(dir, "nope.pem"), "--root", join(dir, "root.pem")]);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toContain(`${join(dir, "nope.pem")}: cannot read (ENOENT)`);
    const noRoot = await runCli(["verify", "--chain", join(dir, "chain.pem")]);
    expect(noRoot.status).toBe(2);
    expect(noRoot.stderr).toContain("--root FILE is required");
  });
});
