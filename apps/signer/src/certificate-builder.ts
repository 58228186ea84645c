/**
 * Builds and signs a leaf certificate (RFC 5280 §4.1) straight in DER, from the one description of the
 * profile in certificate-profile.ts: the TBSCertificate is sized from it, written from it into one array
 * with room for the outer header and the signature, then signed. A general X.509 library spends ≈ 4 ms per
 * issuance in ASN.1 handling here (docs/facts.md "Speed and known pitfalls"), and even element-by-element
 * encoding cost ≈ 45 µs, mostly in allocating arrays; this leaves WebCrypto's signature as the cost.
 */
import { asciiScratch, asciiString, ecdsaDerSize, encodePem, headerSize, Tag, writeEcdsaDer, writeHeader } from "@edgeca/shared";
import { extKeyUsageExtension, keyUsageExtension, LEAF_TBS, SERIAL_BYTES, type LeafContext, type LeafTemplate } from "./certificate-profile.ts";
import type { Issuer } from "./issuer.ts";

export type { LeafTemplate } from "./certificate-profile.ts";

/** A leaf written up to its signature. */
export interface UnsignedLeaf {
  /** The whole certificate's array: the TBSCertificate, room before it for the outer header, after it for the signature. */
  readonly buffer: Uint8Array<ArrayBuffer>;
  /** The TBSCertificate (a view into `buffer`): the bytes the CA signs. */
  readonly tbs: Uint8Array<ArrayBuffer>;
  /** Serial number as lowercase hex (32 digits). */
  readonly serialNumber: string;
}

/** A signed leaf. */
export interface SignedLeaf {
  /** The certificate's DER (a view). */
  readonly der: Uint8Array;
  readonly pem: string;
  /** Serial number as lowercase hex (32 digits). */
  readonly serialNumber: string;
}

/** Largest space the outer Certificate SEQUENCE header takes (tag, 0x83 and 3 length octets). */
const OUTER_HEADER_ROOM = 5;

const HEX_CODES = Uint8Array.from("0123456789abcdef", (ch) => ch.charCodeAt(0));

/** Lowercase hex of the serial number's octets, as one string. */
function serialHex(out: Uint8Array, at: number): string {
  const codes = asciiScratch(2 * SERIAL_BYTES);
  for (let i = 0; i < SERIAL_BYTES; i++) {
    const b = out[at + i] ?? 0;
    codes[2 * i] = HEX_CODES[b >> 4] ?? 0;
    codes[2 * i + 1] = HEX_CODES[b & 0x0f] ?? 0;
  }
  return asciiString(codes, 2 * SERIAL_BYTES);
}

function contextOf(issuer: Issuer, leaf: LeafTemplate): LeafContext {
  return { issuer, leaf, keyUsage: keyUsageExtension(leaf.keyUsage), extKeyUsage: extKeyUsageExtension(leaf.extKeyUsage), serialAt: 0 };
}

/** Bytes of the TBSCertificate `writeTbs` writes for this leaf (sized from the profile, nothing written). */
export function tbsSize(issuer: Issuer, leaf: LeafTemplate): number {
  return LEAF_TBS.size(contextOf(issuer, leaf));
}

/** Writes the TBSCertificate of one leaf under `issuer`, with room for the rest of the certificate around it. */
export function writeTbs(issuer: Issuer, leaf: LeafTemplate): UnsignedLeaf {
  const c = contextOf(issuer, leaf);
  const size = LEAF_TBS.size(c);
  const out = new Uint8Array(OUTER_HEADER_ROOM + size + issuer.signatureRoom);
  const at = LEAF_TBS.write(out, OUTER_HEADER_ROOM, c);
  if (at !== OUTER_HEADER_ROOM + size) throw new Error(`certificate builder: wrote ${at - OUTER_HEADER_ROOM} TBS bytes, sized ${size}`);
  return { buffer: out, tbs: out.subarray(OUTER_HEADER_ROOM, at), serialNumber: serialHex(out, c.serialAt) };
}

/** Signs a written TBSCertificate with the issuer's key and completes the certificate in the same array. */
export async function signTbs(issuer: Issuer, leaf: UnsignedLeaf): Promise<SignedLeaf> {
  const { algorithm } = issuer;
  const signature = new Uint8Array(await crypto.subtle.sign(algorithm.signParams, issuer.key, leaf.tbs));
  const out = leaf.buffer;
  let at = OUTER_HEADER_ROOM + leaf.tbs.length;
  out.set(algorithm.identifier, at);
  at += algorithm.identifier.length;
  // WebCrypto's ECDSA signature is r‖s; X.509 carries the DER Ecdsa-Sig-Value (RFC 5480 §2.2).
  const ecdsa = algorithm.ecdsaSize > 0;
  const signatureSize = ecdsa ? ecdsaDerSize(signature) : signature.length;
  if (at + 5 + signatureSize > out.length) throw new Error(`certificate builder: a ${signatureSize}-byte signature exceeds the room sized at load`);
  at = writeHeader(out, at, Tag.BIT_STRING, 1 + signatureSize);
  out[at++] = 0; // no unused bits
  if (ecdsa) {
    at = writeEcdsaDer(out, at, signature);
  } else {
    out.set(signature, at);
    at += signature.length;
  }
  const content = at - OUTER_HEADER_ROOM;
  const start = OUTER_HEADER_ROOM - headerSize(content);
  writeHeader(out, start, Tag.SEQUENCE, content);
  const certificate = out.subarray(start, at);
  return { der: certificate, pem: encodePem(certificate, "CERTIFICATE"), serialNumber: leaf.serialNumber };
}
