import { describe, expect, it } from "vitest";
import { toHex } from "./bytes.ts";
import { DerReader, valueOf } from "./der.ts";
import { readTime, writeTime } from "./der-time.ts";

const ascii = (bytes: Uint8Array) => String.fromCharCode(...bytes);

function roundTrip(date: Date): { tag: number; text: string; back: Date } {
  const der = writeTime(date);
  const tlv = new DerReader(der).next("time");
  return { tag: tlv.tag, text: ascii(valueOf(der, tlv)), back: readTime(tlv.tag, valueOf(der, tlv)) };
}

describe("X.509 Time (RFC 5280 §4.1.2.5)", () => {
  it("uses UTCTime through 2049 and GeneralizedTime from 2050", () => {
    expect(roundTrip(new Date("2049-12-31T23:59:59Z"))).toMatchObject({ tag: 0x17, text: "491231235959Z" });
    expect(roundTrip(new Date("2050-01-01T00:00:00Z"))).toMatchObject({ tag: 0x18, text: "20500101000000Z" });
  });

  it("drops milliseconds and reads back the same second", () => {
    const { back } = roundTrip(new Date("2026-11-28T07:30:00.999Z"));
    expect(back.toISOString()).toBe("2026-11-28T07:30:00.000Z");
  });

  it("reads a two-digit year below 50 as 20YY and from 50 as 19YY", () => {
    expect(readTime(0x17, new TextEncoder().encode("491231235959Z")).getUTCFullYear()).toBe(2049);
    expect(readTime(0x17, new TextEncoder().encode("500101000000Z")).getUTCFullYear()).toBe(1950);
  });

  it("refuses times outside the profile: local time, fractions, impossible dates", () => {
    for (const t of ["2611280730Z", "261128073000", "261128073000+0100", "261131073000Z"]) {
      expect(() => readTime(0x17, new TextEncoder().encode(t)), t).toThrow(/Time/);
    }
    expect(() => readTime(0x18, new TextEncoder().encode("20261128073000.5Z"))).toThrow(/Time/);
  });

  it("encodes the length and tag exactly", () => {
    expect(toHex(writeTime(new Date("2026-01-02T03:04:05Z")))).toBe(`170d${toHex(new TextEncoder().encode("260102030405Z"))}`);
  });
});
