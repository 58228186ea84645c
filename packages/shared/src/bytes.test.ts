import { describe, expect, it } from "vitest";
import { base64Size, fromBase64, toBase64 } from "./bytes.ts";

describe("base64", () => {
  it("agrees with btoa/atob for every length up to 100", () => {
    for (let n = 0; n <= 100; n++) {
      const data = crypto.getRandomValues(new Uint8Array(n));
      const text = toBase64(data);
      expect(text).toBe(btoa(String.fromCharCode(...data)));
      expect(fromBase64(text)).toEqual(data);
    }
  });
  it("breaks lines after every lineLength characters and after the last, as PEM bodies are laid out", () => {
    for (let n = 1; n <= 200; n++) {
      const data = crypto.getRandomValues(new Uint8Array(n));
      const lines = btoa(String.fromCharCode(...data)).match(/.{1,64}/g) ?? [];
      const text = toBase64(data, 64);
      expect(text).toBe(lines.map((l) => `${l}\n`).join(""));
      expect(text.length).toBe(base64Size(n, 64));
    }
  });
  it("refuses non-canonical input", () => {
    expect(() => fromBase64("QQ")).toThrow(/multiple of 4/);
    expect(() => fromBase64("QR==")).toThrow(/padding bits/);
    expect(() => fromBase64("QUJ=")).toThrow(/padding bits/);
    expect(() => fromBase64("Q===")).toThrow(/invalid character/);
    expect(() => fromBase64("QU=B")).toThrow(/invalid character/);
    expect(() => fromBase64("QUJD\n")).toThrow();
    expect(() => fromBase64("QUJ\u00e9")).toThrow(/invalid character/);
  });
});
