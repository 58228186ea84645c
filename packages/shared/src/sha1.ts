/**
 * SHA-1, synchronous, for key identifiers only: RFC 5280 §4.2.1.2 method (1) names SHA-1 of the
 * subjectPublicKey bits, which is what Go's x509 and Istio write. It is not used for any security
 * decision. WebCrypto's digest is asynchronous (a thread-pool round trip in Node, ≈ 90 µs per call, a
 * sixth of an issuance, for 65 input bytes), so the maintained synchronous implementation of
 * @noble/hashes is used instead; it runs in workerd and Node alike. Started beside the proof's verify
 * the round trip's wait would be hidden, but not its main-thread work: 16 digests of a 65-byte key in
 * flight cost 25–29 µs of main thread each against noble's 4.5–6 µs (three runs, load 5.5),
 * and with 16 requests in flight the main thread is the limit, so noble stays.
 */
import { sha1 as nobleSha1 } from "@noble/hashes/legacy.js";

/** SHA-1 of `data` (20 bytes). */
export function sha1(data: Uint8Array): Uint8Array {
  return nobleSha1(data);
}
