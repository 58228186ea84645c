import { describe, expect, it } from "vitest";
import { decodePem, decodePemBlocks, encodePem, encodePemChain, PemError } from "./pem.ts";

const der = Uint8Array.of(0x30, 0x03, 0x02, 0x01, 0x05); // SEQUENCE { INTEGER 5 }
const pem = encodePem(der, "CERTIFICATE");

describe("decodePem", () => {
  it("round-trips what encodePem writes", () => {
    expect(decodePem(pem, "CERTIFICATE")).toEqual(der);
  });
  it("accepts surrounding whitespace and CRLF line endings", () => {
    expect(decodePem(`\r\n  ${pem.replaceAll("\n", "\r\n")}\n\n`, "CERTIFICATE")).toEqual(der);
  });
  it("refuses text before the block", () => {
    expect(() => decodePem(`junk\n${pem}`, "CERTIFICATE")).toThrow(PemError);
  });
  it("refuses text after the block", () => {
    expect(() => decodePem(`${pem}trailer`, "CERTIFICATE")).toThrow(/unexpected text after/);
  });
  it("refuses a second block", () => {
    expect(() => decodePem(pem + pem, "CERTIFICATE")).toThrow(/exactly one CERTIFICATE PEM block, found more/);
  });
  it("refuses another label", () => {
    expect(() => decodePem(encodePem(der, "CERTIFICATE REQUEST"), "CERTIFICATE")).toThrow(/found CERTIFICATE REQUEST/);
  });
  it("refuses mismatched BEGIN and END labels", () => {
    expect(() => decodePem(pem.replace("END CERTIFICATE", "END PRIVATE KEY"), "CERTIFICATE")).toThrow(PemError);
  });
  it("refuses trailing bytes after the DER element", () => {
    const padded = encodePem(Uint8Array.of(...der, 0x00), "CERTIFICATE");
    expect(() => decodePem(padded, "CERTIFICATE")).toThrow(/trailing bytes/);
  });
  it("refuses a truncated DER element", () => {
    expect(() => decodePem(encodePem(der.subarray(0, 4), "CERTIFICATE"), "CERTIFICATE")).toThrow(/past its container/);
  });
  it("refuses invalid base64 characters and RFC 1421 headers", () => {
    expect(() => decodePem("-----BEGIN CERTIFICATE-----\nMAMC*QU=\n-----END CERTIFICATE-----\n", "CERTIFICATE")).toThrow(PemError);
    expect(() => decodePem("-----BEGIN CERTIFICATE-----\nProc-Type: 4,ENCRYPTED\n\nMAMCAQU=\n-----END CERTIFICATE-----\n", "CERTIFICATE")).toThrow(PemError);
  });
  it("refuses non-canonical base64 (non-zero padding bits)", () => {
    // "MAMCAQU=" is canonical for 30 03 02 01 05; "MAMCAQV=" decodes to the same bytes with stray bits.
    expect(() => decodePem("-----BEGIN CERTIFICATE-----\nMAMCAQV=\n-----END CERTIFICATE-----\n", "CERTIFICATE")).toThrow(/base64/);
  });
  it("decodes bodies split into lines of any length from 1 to 76", () => {
    for (let n = 1; n <= 120; n++) {
      const value = crypto.getRandomValues(new Uint8Array(n));
      const element = Uint8Array.of(0x04, n, ...value);
      const text = btoa(String.fromCharCode(...element));
      const width = 1 + (n % 76);
      const body = (text.match(new RegExp(`.{1,${width}}`, "g")) ?? []).join(n % 2 === 0 ? "\n" : "\r\n");
      expect(decodePem(`-----BEGIN CERTIFICATE-----\n${body}\n-----END CERTIFICATE-----\n`, "CERTIFICATE")).toEqual(element);
    }
  });
  it("refuses a body with any one character replaced by one outside base64, wherever it is", () => {
    // Lines of 64 and 76 characters (the fast path reads whole groups of four) and a short last line.
    const element = Uint8Array.of(0x04, 100, ...crypto.getRandomValues(new Uint8Array(100)));
    const text = btoa(String.fromCharCode(...element));
    for (const width of [64, 76]) {
      const lines = text.match(new RegExp(`.{1,${width}}`, "g")) ?? [];
      const body = lines.join("\n");
      expect(decodePem(`-----BEGIN CERTIFICATE-----\n${body}\n-----END CERTIFICATE-----\n`, "CERTIFICATE")).toEqual(element);
      for (let at = 0; at < body.length; at++) {
        if (body[at] === "\n") continue;
        for (const bad of ["*", " ", "-", "\u00e9", "\u0141"]) {
          const corrupt = body.slice(0, at) + bad + body.slice(at + 1);
          expect(() => decodePem(`-----BEGIN CERTIFICATE-----\n${corrupt}\n-----END CERTIFICATE-----\n`, "CERTIFICATE"), `${width} ${at} ${bad}`).toThrow(PemError);
        }
      }
    }
  });
  it("refuses padding anywhere but at the end, and bodies whose length is not a multiple of 4", () => {
    const block = (body: string) => `-----BEGIN CERTIFICATE-----\n${body}\n-----END CERTIFICATE-----\n`;
    for (const body of ["MAMC=QU=", "MAMCAQU=\nMA==", "MAMCAQU\n=A==", "MAMCAQ===", "MAMCAQU", "MAMCAQ", "MAMCA===", "===="]) {
      expect(() => decodePem(block(body), "CERTIFICATE"), body).toThrow(/invalid base64/);
    }
    // The canonical text with its padding on a line of its own is fine.
    expect(decodePem(block("MAMCAQU\n="), "CERTIFICATE")).toEqual(der);
  });
  it("refuses text over the size limit before matching", () => {
    expect(() => decodePem(pem + " ".repeat(100), "CERTIFICATE", 50)).toThrow(/over the limit/);
  });
  it("refuses an empty body", () => {
    expect(() => decodePem("-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n", "CERTIFICATE")).toThrow(PemError);
  });
});

describe("decodePemBlocks", () => {
  it("reads a chain in order", () => {
    const other = Uint8Array.of(0x30, 0x00);
    expect(decodePemBlocks(encodePemChain([der, other]))).toEqual([der, other]);
  });
  it("accepts blank lines between blocks", () => {
    expect(decodePemBlocks(`${pem}\n\n${pem}`)).toHaveLength(2);
  });
  it("refuses a non-CERTIFICATE block in a chain", () => {
    expect(() => decodePemBlocks(pem + encodePem(der, "PRIVATE KEY"))).toThrow(/block 2: expected CERTIFICATE, found PRIVATE KEY/);
  });
  it("refuses text between or after blocks", () => {
    expect(() => decodePemBlocks(`${pem}subject=foo\n${pem}`)).toThrow(/unexpected text after 1/);
    expect(() => decodePemBlocks(`${pem}x`)).toThrow(/unexpected text/);
  });
  it("refuses input without blocks", () => {
    expect(() => decodePemBlocks("  \n")).toThrow(/no CERTIFICATE/);
  });
});
