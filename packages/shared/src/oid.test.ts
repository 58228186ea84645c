import { describe, expect, it } from "vitest";
import { fromHex, toHex } from "./bytes.ts";
import { encodeOid, OID, oidHex } from "./oid.ts";

describe("oidHex", () => {
  it("gives every known OID's content octets as that OID's constant", () => {
    for (const [name, hex] of Object.entries(OID)) expect(oidHex(fromHex(hex)), name).toBe(hex);
  });

  it("gives the hex of any other OID, including a known one's prefix or extension", () => {
    for (const dotted of ["1.2.840.10045.3.1.8", "2.5.29.1", "1.2.840.10045.2", "1.2.840.10045.2.1.1", "1.3.6.1.4.1.11129.2.4.2"]) {
      const content = encodeOid(dotted);
      expect(oidHex(content), dotted).toBe(toHex(content));
      expect(Object.values(OID)).not.toContain(oidHex(content));
    }
  });

  it("reads known OIDs from a view inside a larger array", () => {
    const p256 = encodeOid("1.2.840.10045.3.1.7");
    const around = new Uint8Array(p256.length + 4);
    around.set(p256, 2);
    expect(oidHex(around.subarray(2, 2 + p256.length))).toBe(OID.p256);
  });
});
