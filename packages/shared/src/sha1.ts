/**
 * SHA-1 (FIPS 180-4 §6.1), synchronous, for key identifiers only: RFC 5280 §4.2.1.2 method (1) names
 * SHA-1 of the subjectPublicKey bits, which is what Go's x509 and Istio write. It is not used for any
 * security decision. WebCrypto's digest is asynchronous and was measured at ≈ 90 µs per call in Node
 * (a thread-pool round trip), a sixth of an issuance, for 65 input bytes.
 */

// Scratch space reused across calls: the function is synchronous, so no two calls share it at once.
const W = new Int32Array(80);
const TAIL = new Uint8Array(128);

/** Compresses one 64-byte block of `bytes` at `at` into the state `h` (FIPS 180-4 §6.1.2). */
function compress(h: Int32Array, bytes: Uint8Array, at: number): void {
  for (let t = 0; t < 16; t++) {
    const i = at + 4 * t;
    W[t] = ((bytes[i] ?? 0) << 24) | ((bytes[i + 1] ?? 0) << 16) | ((bytes[i + 2] ?? 0) << 8) | (bytes[i + 3] ?? 0);
  }
  for (let t = 16; t < 80; t++) {
    const x = (W[t - 3] ?? 0) ^ (W[t - 8] ?? 0) ^ (W[t - 14] ?? 0) ^ (W[t - 16] ?? 0);
    W[t] = (x << 1) | (x >>> 31);
  }
  let a = h[0] ?? 0;
  let b = h[1] ?? 0;
  let c = h[2] ?? 0;
  let d = h[3] ?? 0;
  let e = h[4] ?? 0;
  for (let t = 0; t < 80; t++) {
    let f: number;
    let k: number;
    if (t < 20) {
      f = (b & c) | (~b & d);
      k = 0x5a827999;
    } else if (t < 40) {
      f = b ^ c ^ d;
      k = 0x6ed9eba1;
    } else if (t < 60) {
      f = (b & c) | (b & d) | (c & d);
      k = 0x8f1bbcdc;
    } else {
      f = b ^ c ^ d;
      k = 0xca62c1d6;
    }
    const temp = (((a << 5) | (a >>> 27)) + f + e + k + (W[t] ?? 0)) | 0;
    e = d;
    d = c;
    c = (b << 30) | (b >>> 2);
    b = a;
    a = temp;
  }
  h[0] = (h[0] ?? 0) + a;
  h[1] = (h[1] ?? 0) + b;
  h[2] = (h[2] ?? 0) + c;
  h[3] = (h[3] ?? 0) + d;
  h[4] = (h[4] ?? 0) + e;
}

/** The 20-byte SHA-1 digest of `data`. */
export function sha1(data: Uint8Array): Uint8Array {
  const h = Int32Array.of(0x67452301, 0xefcdab89 | 0, 0x98badcfe | 0, 0x10325476, 0xc3d2e1f0 | 0);
  const full = data.length - (data.length % 64);
  for (let at = 0; at < full; at += 64) compress(h, data, at);
  // §5.1.1 padding: 0x80, zeros, the bit length in the last 8 bytes (one or two blocks).
  const rest = data.length - full;
  const tail = rest < 56 ? 64 : 128;
  TAIL.fill(0);
  TAIL.set(data.subarray(full), 0);
  TAIL[rest] = 0x80;
  const bits = data.length * 8;
  const high = Math.floor(bits / 0x100000000);
  for (let i = 0; i < 4; i++) {
    TAIL[tail - 8 + i] = (high >>> (24 - 8 * i)) & 0xff;
    TAIL[tail - 4 + i] = (bits >>> (24 - 8 * i)) & 0xff;
  }
  for (let at = 0; at < tail; at += 64) compress(h, TAIL, at);
  const out = new Uint8Array(20);
  for (let i = 0; i < 20; i++) out[i] = ((h[i >> 2] ?? 0) >>> (24 - 8 * (i & 3))) & 0xff;
  return out;
}
