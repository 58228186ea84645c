import { describe, expect, it } from "vitest";
import { checkDerLimits, der, DerError, DerReader, derUnsignedInteger, headerSize, Tag, writeHeader } from "./der.ts";

function nested(depth: number): Uint8Array {
  let inner: Uint8Array = Uint8Array.of(0x05, 0x00);
  for (let i = 0; i < depth; i++) inner = der(Tag.SEQUENCE, inner);
  return inner;
}

describe("checkDerLimits", () => {
  it("accepts nesting up to the depth limit", () => {
    expect(() => { checkDerLimits(nested(16), { maxBytes: 1024, maxDepth: 16 }, "x"); }).not.toThrow();
  });
  it("refuses nesting beyond the depth limit without recursing", () => {
    expect(() => { checkDerLimits(nested(17), { maxBytes: 1024, maxDepth: 16 }, "x"); }).toThrow(/nesting deeper than 16/);
    // Far deeper than any stack-based parser survives; the iterative walk just reports it.
    expect(() => { checkDerLimits(nested(5000), { maxBytes: 1 << 20, maxDepth: 16 }, "x"); }).toThrow(DerError);
  });
  it("refuses input over the size limit", () => {
    expect(() => { checkDerLimits(new Uint8Array(2000), { maxBytes: 1024, maxDepth: 4 }, "CSR"); }).toThrow(/CSR: 2000 bytes, over the limit of 1024/);
  });
  it("refuses trailing bytes after the element", () => {
    expect(() => { checkDerLimits(Uint8Array.of(0x30, 0x00, 0x00), { maxBytes: 64, maxDepth: 4 }, "x"); }).toThrow(/trailing/);
  });
  it("refuses a child that overruns its parent", () => {
    expect(() => { checkDerLimits(Uint8Array.of(0x30, 0x05, 0x04, 0x05, 0x00, 0x00, 0x00), { maxBytes: 64, maxDepth: 4 }, "x"); }).toThrow(/past its container/);
  });
});

describe("DerReader", () => {
  it("refuses the indefinite length form", () => {
    expect(() => new DerReader(Uint8Array.of(0x30, 0x80, 0x00, 0x00)).next("x")).toThrow(/indefinite/);
  });
  it("refuses non-minimal lengths", () => {
    expect(() => new DerReader(Uint8Array.of(0x04, 0x81, 0x01, 0x00)).next("x")).toThrow(/non-minimal/);
    expect(() => new DerReader(Uint8Array.of(0x04, 0x82, 0x00, 0x81, ...new Uint8Array(0x81))).next("x")).toThrow(/non-minimal/);
  });
  it("refuses high tag numbers", () => {
    expect(() => new DerReader(Uint8Array.of(0x1f, 0x81, 0x00)).next("x")).toThrow(/high tag/);
  });
  it("reads long-form lengths", () => {
    const big = der(Tag.OCTET_STRING, new Uint8Array(300));
    const tlv = new DerReader(big).next("x");
    expect(tlv.end - tlv.valueStart).toBe(300);
  });
});

describe("derUnsignedInteger", () => {
  it("adds a sign octet only when the high bit is set and strips leading zeros", () => {
    expect(derUnsignedInteger(Uint8Array.of(0x80))).toEqual(Uint8Array.of(0x02, 0x02, 0x00, 0x80));
    expect(derUnsignedInteger(Uint8Array.of(0x00, 0x00, 0x7f))).toEqual(Uint8Array.of(0x02, 0x01, 0x7f));
  });
});

describe("writeHeader", () => {
  it("writes the minimal length form at each boundary, as the reader expects", () => {
    for (const length of [0, 0x7f, 0x80, 0xff, 0x100, 0xffff, 0x10000]) {
      const out = new Uint8Array(headerSize(length) + length);
      const valueStart = writeHeader(out, 0, Tag.OCTET_STRING, length);
      expect(valueStart).toBe(headerSize(length));
      const tlv = new DerReader(out).next("x");
      expect(tlv).toEqual({ tag: Tag.OCTET_STRING, start: 0, valueStart, end: out.length });
    }
  });
});
