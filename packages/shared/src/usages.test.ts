import { describe, expect, it } from "vitest";
import { toHex } from "./bytes.ts";
import { encodeKeyUsage, toX509Usages } from "./usages.ts";

describe("toX509Usages", () => {
  it("maps Istio's usages to KeyUsage bits and EKU OIDs", () => {
    const u = toX509Usages(["digital signature", "key encipherment", "server auth", "client auth"]);
    expect([...u.keyUsage]).toEqual(["digitalSignature", "keyEncipherment"]);
    expect(u.extKeyUsage).toEqual(["1.3.6.1.5.5.7.3.1", "1.3.6.1.5.5.7.3.2"]);
    expect(u.unknown).toEqual([]);
  });
  it("reports unknown strings and ignores prototype names", () => {
    expect(toX509Usages(["toString", "bogus"]).unknown).toEqual(["toString", "bogus"]);
  });
});

describe("encodeKeyUsage", () => {
  it("writes the DER Go's x509 writes for digitalSignature + keyEncipherment", () => {
    expect(toHex(encodeKeyUsage(new Set(["digitalSignature", "keyEncipherment"])))).toBe("030205a0");
  });
  it("writes digitalSignature alone with seven unused bits", () => {
    expect(toHex(encodeKeyUsage(new Set(["digitalSignature"])))).toBe("03020780");
  });
  it("uses a second octet for decipherOnly", () => {
    expect(toHex(encodeKeyUsage(new Set(["digitalSignature", "decipherOnly"])))).toBe("0303078080");
  });
});
