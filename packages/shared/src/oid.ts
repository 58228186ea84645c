/**
 * Object identifiers edgeca reads or writes, as the hex of their DER content octets (X.690 §8.19), so a
 * parsed OID is compared as a string without decoding it. `oidHex` returns these very strings for a
 * parsed OID by comparing its content octets with each one's bytes, so reading a known OID builds no string.
 */
import { toHex } from "./bytes.ts";

/** DER content octets of a dotted OID. */
export function encodeOid(dotted: string): Uint8Array {
  const arcs = dotted.split(".").map((a) => BigInt(a));
  const [a0, a1, ...rest] = arcs;
  if (a0 === undefined || a1 === undefined) throw new Error(`bad OID ${dotted}`);
  const out: number[] = [];
  for (const arc of [a0 * 40n + a1, ...rest]) {
    const groups: number[] = [];
    let v = arc;
    do {
      groups.unshift(Number(v & 0x7fn));
      v >>= 7n;
    } while (v > 0n);
    groups.forEach((g, i) => out.push(i < groups.length - 1 ? g | 0x80 : g));
  }
  return Uint8Array.from(out);
}

const hex = (dotted: string): string => toHex(encodeOid(dotted));

/** OIDs by name, as content-octet hex. */
export const OID = {
  // RFC 5480 / RFC 3279 key algorithms and curves
  ecPublicKey: hex("1.2.840.10045.2.1"),
  rsaEncryption: hex("1.2.840.113549.1.1.1"),
  rsaPss: hex("1.2.840.113549.1.1.10"),
  p256: hex("1.2.840.10045.3.1.7"),
  p384: hex("1.3.132.0.34"),
  p521: hex("1.3.132.0.35"),
  // signature algorithms (RFC 5758 §3.2, RFC 4055 §5)
  ecdsaWithSha1: hex("1.2.840.10045.4.1"),
  ecdsaWithSha256: hex("1.2.840.10045.4.3.2"),
  ecdsaWithSha384: hex("1.2.840.10045.4.3.3"),
  ecdsaWithSha512: hex("1.2.840.10045.4.3.4"),
  sha1WithRsa: hex("1.2.840.113549.1.1.5"),
  sha256WithRsa: hex("1.2.840.113549.1.1.11"),
  sha384WithRsa: hex("1.2.840.113549.1.1.12"),
  sha512WithRsa: hex("1.2.840.113549.1.1.13"),
  // PKCS #9 extensionRequest attribute (RFC 2985 §5.4.2)
  extensionRequest: hex("1.2.840.113549.1.9.14"),
  // RFC 5280 §4.2.1 extensions
  subjectKeyIdentifier: hex("2.5.29.14"),
  keyUsage: hex("2.5.29.15"),
  subjectAltName: hex("2.5.29.17"),
  basicConstraints: hex("2.5.29.19"),
  authorityKeyIdentifier: hex("2.5.29.35"),
  extKeyUsage: hex("2.5.29.37"),
} as const;

/** Each `OID` constant's content octets beside its hex, for `oidHex`. */
const KNOWN: readonly { readonly bytes: Uint8Array; readonly hex: string }[] = Object.values(OID).map((h) => ({
  bytes: Uint8Array.from(h.match(/../g) ?? [], (pair) => Number.parseInt(pair, 16)),
  hex: h,
}));

/**
 * The hex of an OID's content octets: the `OID` constant itself when the octets are one of them (compared
 * as bytes, no string built: a CSR's OIDs are nearly always known ones), `toHex` of them otherwise.
 */
export function oidHex(content: Uint8Array): string {
  return oidHexAt(content, 0, content.length);
}

/** `oidHex` of the content octets `bytes[start, end)`, compared where they are (no view made for a known OID). */
export function oidHexAt(bytes: Uint8Array, start: number, end: number): string {
  for (const known of KNOWN) if (known.bytes.length === end - start && startsAt(bytes, start, known.bytes)) return known.hex;
  return toHex(bytes.subarray(start, end));
}

function startsAt(bytes: Uint8Array, at: number, part: Uint8Array): boolean {
  for (let i = 0; i < part.length; i++) if (bytes[at + i] !== part[i]) return false;
  return true;
}
