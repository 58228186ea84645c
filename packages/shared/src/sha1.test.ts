import { describe, expect, it } from "vitest";
import { toHex } from "./bytes.ts";
import { sha1 } from "./sha1.ts";

const enc = (s: string) => new TextEncoder().encode(s);

describe("sha1", () => {
  it.each([
    ["", "da39a3ee5e6b4b0d3255bfef95601890afd80709"],
    ["abc", "a9993e364706816aba3e25717850c26c9cd0d89d"],
    ["abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", "84983e441c3bd26ebaae4aa1f95129e5e54670f1"],
  ])("matches the FIPS 180 test vector for %j", (input, digest) => {
    expect(toHex(sha1(enc(input)))).toBe(digest);
  });

  it("agrees with WebCrypto on every length around the block boundaries", async () => {
    for (let n = 0; n < 200; n++) {
      const data = crypto.getRandomValues(new Uint8Array(n));
      const expected = new Uint8Array(await crypto.subtle.digest("SHA-1", data));
      expect(toHex(sha1(data))).toBe(toHex(expected));
    }
  });
});
