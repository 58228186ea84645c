import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { CertificateFileError, parseCertificates } from "./certificate-file.ts";
import { verifyChain } from "./chain-verification.ts";
import { createTestChain } from "./test-chain.ts";

const ID = "spiffe://cluster.local/ns/default/sa/sleep";
const DAY_MS = 24 * 60 * 60 * 1000;

function run(chainPem: string, rootPem: string, spiffeId?: string) {
  return verifyChain({
    chain: parseCertificates(chainPem, "chain.pem"),
    roots: parseCertificates(rootPem, "root.pem"),
    ...(spiffeId === undefined ? {} : { spiffeId }),
  });
}

const resultOf = (v: ReturnType<typeof run>, name: string) => v.checks.find((c) => c.name === name)?.result;

describe("verifyChain", () => {
  it("passes a good chain with the right SPIFFE ID, and openssl agrees", async () => {
    const good = await createTestChain({ uris: [ID] });
    const v = run(good.chainPem, good.rootPem, ID);
    expect(v.ok).toBe(true);
    expect(v.checks.map((c) => c.result)).toEqual(["pass", "pass", "pass", "pass", "pass"]);
    expect(v.leaf.subject).toBe("(empty)");
    expect(v.leaf.sans).toEqual([`URI:${ID}`]);
    expect(v.leaf.sanCritical).toBe(true);
    expect(v.leaf.keyType).toBe("EC P-256");
    const dir = mkdtempSync(join(tmpdir(), "edgeca-verify-"));
    writeFileSync(join(dir, "root.pem"), good.rootPem);
    writeFileSync(join(dir, "chain.pem"), good.chainPem);
    writeFileSync(join(dir, "leaf.pem"), good.leafPem);
    const out = execFileSync("openssl", ["verify", "-CAfile", join(dir, "root.pem"), "-untrusted", join(dir, "chain.pem"), join(dir, "leaf.pem")]);
    expect(out.toString()).toContain(": OK");
  });

  it("tolerates the root appended to the chain", async () => {
    const good = await createTestChain();
    expect(run(good.chainPem + good.rootPem, good.rootPem).ok).toBe(true);
  });

  it("accepts a root bundle holding several roots (a rotation)", async () => {
    const [a, b] = await Promise.all([createTestChain(), createTestChain()]);
    expect(run(b.chainPem, a.rootPem + b.rootPem).ok).toBe(true);
  });

  it("fails the chain check against a different root", async () => {
    const [a, b] = await Promise.all([createTestChain(), createTestChain()]);
    const v = run(a.chainPem, b.rootPem);
    expect(v.ok).toBe(false);
    expect(resultOf(v, "chains to the root")).toBe("fail");
    expect(v.checks.find((c) => c.name === "chains to the root")?.detail).toContain("was not issued by any of the 1 given root");
  });

  it("fails when an intermediate is missing", async () => {
    const good = await createTestChain();
    const v = run(good.leafPem, good.rootPem);
    expect(resultOf(v, "chains to the root")).toBe("fail");
  });

  it("fails the validity check for an expired leaf", async () => {
    const expired = await createTestChain({ leafNotBefore: new Date(Date.now() - 3 * DAY_MS), leafNotAfter: new Date(Date.now() - DAY_MS) });
    const v = run(expired.chainPem, expired.rootPem);
    expect(v.ok).toBe(false);
    expect(resultOf(v, "valid now")).toBe("fail");
    expect(resultOf(v, "chains to the root")).toBe("pass");
  });

  it("fails the validity check for a leaf not yet valid", async () => {
    const future = await createTestChain({ leafNotBefore: new Date(Date.now() + DAY_MS), leafNotAfter: new Date(Date.now() + 2 * DAY_MS) });
    expect(resultOf(run(future.chainPem, future.rootPem), "valid now")).toBe("fail");
  });

  it("fails the SPIFFE check for a different ID, and for two URI SANs", async () => {
    const other = await createTestChain({ uris: ["spiffe://cluster.local/ns/default/sa/other"] });
    const v = run(other.chainPem, other.rootPem, ID);
    expect(resultOf(v, "SPIFFE ID")).toBe("fail");
    expect(v.checks.find((c) => c.name === "SPIFFE ID")?.detail).toBe(`expected ${ID}, found spiffe://cluster.local/ns/default/sa/other`);
    const two = await createTestChain({ uris: [ID, "spiffe://cluster.local/ns/x/sa/y"] });
    expect(resultOf(run(two.chainPem, two.rootPem, ID), "SPIFFE ID")).toBe("fail");
  });

  it("skips the SPIFFE check when no ID is asked for, without failing", async () => {
    const good = await createTestChain();
    const v = run(good.chainPem, good.rootPem);
    expect(resultOf(v, "SPIFFE ID")).toBe("skip");
    expect(v.ok).toBe(true);
  });

  it("fails a leaf that is a CA", async () => {
    const caLeaf = await createTestChain({ leafIsCa: true });
    const v = run(caLeaf.chainPem, caLeaf.rootPem);
    expect(resultOf(v, "leaf is not a CA")).toBe("fail");
    expect(v.ok).toBe(false);
  });
});

describe("parseCertificates", () => {
  it("refuses a file without a certificate, naming the file", () => {
    expect(() => parseCertificates("hello\n", "junk.pem")).toThrow(new CertificateFileError("junk.pem: no PEM CERTIFICATE block found"));
  });

  it("refuses a block of another kind and a block that does not parse", () => {
    expect(() => parseCertificates("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", "k.pem")).toThrow(/k.pem: PEM block 1 is "PRIVATE KEY"/);
    expect(() => parseCertificates("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", "c.pem")).toThrow(/c.pem: PEM block 1 does not parse as X.509/);
    expect(() => parseCertificates("-----BEGIN CERTIFICATE-----\n*!*\n-----END CERTIFICATE-----\n", "b.pem")).toThrow(/b.pem: PEM block 1 is not valid base64/);
  });
});
