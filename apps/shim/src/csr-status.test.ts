import type { V1CertificateSigningRequest } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { needsSigning, setCertificate, setFailed, writeStatus } from "./csr-status.ts";
import { certificateOf, csrObject } from "../test/support/csr-object.ts";
import { FakeCertificatesApi } from "../test/support/fake-certificates-api.ts";
import { apiError } from "../test/support/kube-errors.ts";

const CHAIN = "-----BEGIN CERTIFICATE-----\nMAA=\n-----END CERTIFICATE-----\n";

/** A fake apiserver holding `csr`, and the copy the cache would hold. */
function stored(csr: V1CertificateSigningRequest): { fake: FakeCertificatesApi; cached: V1CertificateSigningRequest } {
  const fake = new FakeCertificatesApi();
  return { fake, cached: fake.put(csr) };
}

/** Someone else writes the CSR: the cached copy's resourceVersion is stale now. */
function touch(fake: FakeCertificatesApi, name: string, change: (csr: V1CertificateSigningRequest) => void = () => undefined): void {
  const current = fake.get(name);
  if (current === undefined) throw new Error(`${name} is not stored`);
  change(current);
  fake.put(current);
}

describe("writeStatus", () => {
  it("writes the change and resolves the object the apiserver returned", async () => {
    const { fake, cached } = stored(csrObject("a"));
    const result = await writeStatus(fake.api, cached, setCertificate(CHAIN));
    expect(result.outcome).toBe("written");
    expect(certificateOf(result.csr)).toBe(CHAIN);
    expect(result.csr?.metadata?.resourceVersion).toBe(fake.get("a")?.metadata?.resourceVersion);
    expect(certificateOf(fake.get("a"))).toBe(CHAIN);
    // The caller's object is not changed: the change works on a copy.
    expect(cached.status?.certificate).toBeUndefined();
  });

  it("on 409 re-reads the object and re-applies the change to the fresh copy", async () => {
    const { fake, cached } = stored(csrObject("a"));
    touch(fake, "a", (csr) => { (csr.metadata ??= {}).labels = { touched: "yes" }; });
    const seen: (string | undefined)[] = [];
    const result = await writeStatus(fake.api, cached, (fresh) => {
      seen.push(fresh.metadata?.resourceVersion);
      return setCertificate(CHAIN)(fresh);
    });
    expect(result.outcome).toBe("written");
    expect(fake.calls).toEqual(["replace a", "read a", "replace a"]);
    expect(seen).toEqual([cached.metadata?.resourceVersion, String(Number(cached.metadata?.resourceVersion) + 1)]);
    expect(certificateOf(fake.get("a"))).toBe(CHAIN);
    expect(fake.get("a")?.metadata?.labels).toEqual({ touched: "yes" });
  });

  it("throws the 409 after 5 conflicting tries", async () => {
    const { fake, cached } = stored(csrObject("a"));
    fake.fail("replace", apiError(409), { times: 5 });
    await expect(writeStatus(fake.api, cached, setCertificate(CHAIN))).rejects.toMatchObject({ code: 409 });
    expect(fake.calls.filter((c) => c.startsWith("replace"))).toHaveLength(5);
    expect(fake.calls.filter((c) => c.startsWith("read"))).toHaveLength(4);
    expect(fake.get("a")?.status?.certificate).toBeUndefined();
  });

  it("succeeds on the 5th try after 4 conflicts", async () => {
    const { fake, cached } = stored(csrObject("a"));
    fake.fail("replace", apiError(409), { times: 4 });
    await expect(writeStatus(fake.api, cached, setCertificate(CHAIN))).resolves.toMatchObject({ outcome: "written" });
  });
});

describe("writeStatus when the CSR is gone or finished", () => {
  it("resolves gone on 404 from the write", async () => {
    const { fake, cached } = stored(csrObject("a"));
    fake.delete("a");
    await expect(writeStatus(fake.api, cached, setCertificate(CHAIN))).resolves.toEqual({ outcome: "gone" });
    expect(fake.calls).toEqual(["replace a"]);
  });

  it("resolves gone on 404 from the re-read after a conflict", async () => {
    const { fake, cached } = stored(csrObject("a"));
    fake.fail("replace", apiError(409));
    fake.fail("read", apiError(404));
    await expect(writeStatus(fake.api, cached, setCertificate(CHAIN))).resolves.toEqual({ outcome: "gone" });
    expect(fake.calls).toEqual(["replace a", "read a"]);
  });

  it("throws other faults of the write and of the re-read as they come", async () => {
    const { fake, cached } = stored(csrObject("a"));
    fake.fail("replace", apiError(500));
    await expect(writeStatus(fake.api, cached, setCertificate(CHAIN))).rejects.toMatchObject({ code: 500 });
    fake.fail("replace", apiError(409));
    fake.fail("read", apiError(503));
    await expect(writeStatus(fake.api, cached, setCertificate(CHAIN))).rejects.toMatchObject({ code: 503 });
  });

  it("skips, with the fresh object, when the re-read copy is finished meanwhile", async () => {
    const { fake, cached } = stored(csrObject("a"));
    touch(fake, "a", (csr) => { (csr.status ??= {}).certificate = Buffer.from("someone else's", "utf8").toString("base64"); });
    const result = await writeStatus(fake.api, cached, setCertificate(CHAIN));
    expect(result.outcome).toBe("skipped");
    expect(certificateOf(result.csr)).toBe("someone else's");
    expect(result.csr?.metadata?.resourceVersion).toBe(fake.get("a")?.metadata?.resourceVersion);
    expect(fake.calls).toEqual(["replace a", "read a"]);
  });

  it("skips without a call when the change declines at once", async () => {
    const { fake, cached } = stored(csrObject("a", { conditions: ["Approved", "Failed"] }));
    const result = await writeStatus(fake.api, cached, setFailed("PolicyDenied", "no", new Date(0)));
    expect(result).toEqual({ outcome: "skipped", csr: cached });
    expect(fake.calls).toEqual([]);
  });

  it("appends one Failed condition with reason and message", async () => {
    const { fake, cached } = stored(csrObject("a"));
    const at = new Date(1_700_000_000_000);
    await writeStatus(fake.api, cached, setFailed("PolicyDenied", "not allowed", at));
    expect(fake.get("a")?.status?.conditions?.map((c) => [c.type, c.status, c.reason, c.message, c.lastTransitionTime])).toEqual([
      ["Approved", "True", "TestApproved", undefined, undefined],
      ["Failed", "True", "PolicyDenied", "not allowed", at],
    ]);
  });
});

describe("needsSigning", () => {
  it("is true only for approved CSRs with no certificate and no Failed or Denied condition", () => {
    expect(needsSigning(csrObject("a"))).toBe(true);
    expect(needsSigning(csrObject("a", { conditions: [] }))).toBe(false);
    expect(needsSigning(csrObject("a", { certificatePem: CHAIN }))).toBe(false);
    expect(needsSigning(csrObject("a", { conditions: ["Approved", "Failed"] }))).toBe(false);
    expect(needsSigning(csrObject("a", { conditions: ["Approved", "Denied"] }))).toBe(false);
    expect(needsSigning(csrObject("a", { conditions: ["Denied"] }))).toBe(false);
  });

  it("counts a condition only when its status is True", () => {
    const approvedFalse = csrObject("a");
    const condition = approvedFalse.status?.conditions?.[0];
    if (condition === undefined) throw new Error("csrObject made no condition");
    condition.status = "False";
    expect(needsSigning(approvedFalse)).toBe(false);
    const failedUnknown = csrObject("b", { conditions: ["Approved", "Failed"] });
    const failed = failedUnknown.status?.conditions?.[1];
    if (failed === undefined) throw new Error("csrObject made no condition");
    failed.status = "Unknown";
    expect(needsSigning(failedUnknown)).toBe(true);
  });
});
