/**
 * Builds and signs a leaf certificate (RFC 5280 §4.1) straight in DER. The whole certificate is sized
 * first and written into one array: the pieces every leaf of an issuer repeats were encoded once
 * (signature algorithm and issuer Name, AuthorityKeyIdentifier, BasicConstraints, KeyUsage and EKU for
 * each usage set), the rest (serial, validity, SubjectPublicKeyInfo, SKI, SAN) is written in place. A
 * general X.509 library spends ≈ 4 ms per issuance in ASN.1 handling here (docs/facts.md "Speed and known pitfalls"), and even
 * element-by-element encoding cost ≈ 45 µs, mostly in allocating arrays; this leaves WebCrypto's
 * signature as the cost.
 *
 * The profile is docs/certificate-profile.md "The certificate": empty subject; critical SAN; critical KeyUsage;
 * ExtendedKeyUsage from the usages; critical BasicConstraints CA:false; SKI; AKI = issuer's SKI.
 */
import {
  concatBytes,
  der,
  ecdsaDerSize,
  encodeExtKeyUsage,
  encodeKeyUsage,
  encodePem,
  fromHex,
  headerSize,
  KEY_USAGE_BIT,
  OID,
  sha1,
  Tag,
  timeSize,
  toHex,
  writeEcdsaDer,
  writeHeader,
  writeTimeAt,
  type KeyUsageName,
} from "@edgeca/shared";
import type { Issuer } from "./issuer.ts";

/** What goes into one leaf; everything was validated by policy before. */
export interface LeafTemplate {
  /** The CSR's SubjectPublicKeyInfo element, verbatim. */
  readonly spki: Uint8Array;
  /** The subjectPublicKey bits (for the SubjectKeyIdentifier). */
  readonly publicKey: Uint8Array;
  /** DNS names and URIs, IA5 (ASCII) as policy admitted them. */
  readonly dnsNames: readonly string[];
  readonly uris: readonly string[];
  readonly keyUsage: ReadonlySet<KeyUsageName>;
  /** EKU OIDs, dotted. */
  readonly extKeyUsage: readonly string[];
  readonly notBefore: Date;
  readonly notAfter: Date;
}

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

const TRUE = der(Tag.BOOLEAN, Uint8Array.of(0xff));

function extension(oid: string, critical: boolean, value: Uint8Array): Uint8Array {
  const id = der(Tag.OID, fromHex(oid));
  return critical ? der(Tag.SEQUENCE, id, TRUE, der(Tag.OCTET_STRING, value)) : der(Tag.SEQUENCE, id, der(Tag.OCTET_STRING, value));
}

const SERIAL_BYTES = 16;
/** version [0] EXPLICIT v3, then the serial number's INTEGER header: 16 octets always (see `writeSerial`). */
const VERSION_3_AND_SERIAL_HEADER = concatBytes(der(0xa0, der(Tag.INTEGER, Uint8Array.of(2))), Uint8Array.of(Tag.INTEGER, SERIAL_BYTES));
/** The empty subject Name (docs/certificate-profile.md: the identity is in the SAN). */
const EMPTY_NAME = der(Tag.SEQUENCE);

// RFC 5280 §4.2.1.9: CA:false is the DEFAULT, so DER encodes it as an empty SEQUENCE.
const BASIC_CONSTRAINTS_LEAF = extension(OID.basicConstraints, true, der(Tag.SEQUENCE));
const SKI_BYTES = 20;
/** BasicConstraints, then the SubjectKeyIdentifier extension up to its 20-byte key identifier. */
const BASIC_CONSTRAINTS_AND_SKI_HEAD = ((): Uint8Array => {
  const ski = extension(OID.subjectKeyIdentifier, false, der(Tag.OCTET_STRING, new Uint8Array(SKI_BYTES)));
  return concatBytes(BASIC_CONSTRAINTS_LEAF, ski.subarray(0, ski.length - SKI_BYTES));
})();
/** The SAN extension's extnID and critical flag (RFC 5280 §4.2.1.6: critical when the subject is empty). */
const SAN_ID_CRITICAL = concatBytes(der(Tag.OID, fromHex(OID.subjectAltName)), TRUE);
const CTX_DNS = 0x82;
const CTX_URI = 0x86;

const keyUsageCache = new Map<number, Uint8Array>();
function keyUsageExtension(names: ReadonlySet<KeyUsageName>): Uint8Array {
  let bits = 0;
  for (const n of names) bits |= 1 << KEY_USAGE_BIT[n];
  let ext = keyUsageCache.get(bits);
  if (ext === undefined) {
    ext = extension(OID.keyUsage, true, encodeKeyUsage(names));
    keyUsageCache.set(bits, ext);
  }
  return ext;
}

const NO_EXTENSION = new Uint8Array(0);
const ekuCache = new Map<string, Uint8Array>();
function extKeyUsageExtension(oids: readonly string[]): Uint8Array {
  if (oids.length === 0) return NO_EXTENSION;
  const key = oids.join(",");
  let ext = ekuCache.get(key);
  if (ext === undefined) {
    // Non-critical, as Go's x509 (kube-controller-manager) and Istio's CA write it.
    ext = extension(OID.extKeyUsage, false, encodeExtKeyUsage(oids));
    ekuCache.set(key, ext);
  }
  return ext;
}

// Random bytes are drawn from the CSPRNG in batches: one `getRandomValues` call costs ≈ 10 µs in Node
// whatever its size, so a batch serves 256 serial numbers.
let randomPool = new Uint8Array(0);
let randomAt = 0;

/** Writes 16 random bytes at `at`, positive and without a leading zero octet, so the DER INTEGER is always 16 octets. */
function writeSerial(out: Uint8Array, at: number): void {
  if (randomAt + SERIAL_BYTES > randomPool.length) {
    randomPool = crypto.getRandomValues(new Uint8Array(SERIAL_BYTES * 256));
    randomAt = 0;
  }
  out.set(randomPool.subarray(randomAt, randomAt + SERIAL_BYTES), at);
  randomAt += SERIAL_BYTES;
  out[at] = ((out[at] ?? 0) & 0x7f) | 0x01;
}

/** Writes an IA5String-content GeneralName (`tag` [2] dNSName or [6] uniformResourceIdentifier). */
function writeIa5Name(out: Uint8Array, at: number, tag: number, name: string): number {
  at = writeHeader(out, at, tag, name.length);
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    // Policy admits only printable ASCII names; anything else here is a bug, not bad input.
    if (c < 0x20 || c > 0x7e) throw new Error(`certificate builder: name is not IA5: ${JSON.stringify(name)}`);
    out[at++] = c;
  }
  return at;
}

/** Copies `bytes` into `out` at `at`; returns the offset after them. */
function put(out: Uint8Array, bytes: Uint8Array, at: number): number {
  out.set(bytes, at);
  return at + bytes.length;
}

/** Largest space the outer Certificate SEQUENCE header takes (tag, 0x83 and 3 length octets). */
const OUTER_HEADER_ROOM = 5;

/** Writes the TBSCertificate of one leaf under `issuer`, with room for the rest of the certificate around it. */
export function writeTbs(issuer: Issuer, leaf: LeafTemplate): UnsignedLeaf {
  const ku = keyUsageExtension(leaf.keyUsage);
  const eku = extKeyUsageExtension(leaf.extKeyUsage);
  let namesSize = 0;
  for (const d of leaf.dnsNames) namesSize += headerSize(d.length) + d.length;
  for (const u of leaf.uris) namesSize += headerSize(u.length) + u.length;
  const generalNames = headerSize(namesSize) + namesSize;
  const sanContent = SAN_ID_CRITICAL.length + headerSize(generalNames) + generalNames;
  const extensionsContent =
    ku.length + eku.length + BASIC_CONSTRAINTS_AND_SKI_HEAD.length + SKI_BYTES + issuer.authorityKeyIdExtension.length + headerSize(sanContent) + sanContent;
  const extensions = headerSize(extensionsContent) + extensionsContent;
  const validityContent = timeSize(leaf.notBefore) + timeSize(leaf.notAfter);
  const tbsContent =
    VERSION_3_AND_SERIAL_HEADER.length + SERIAL_BYTES + issuer.tbsSignatureAndIssuer.length + headerSize(validityContent) + validityContent +
    EMPTY_NAME.length + leaf.spki.length + headerSize(extensions) + extensions;
  const tbsSize = headerSize(tbsContent) + tbsContent;

  const out = new Uint8Array(OUTER_HEADER_ROOM + tbsSize + issuer.signatureRoom);
  let at = writeHeader(out, OUTER_HEADER_ROOM, Tag.SEQUENCE, tbsContent);
  at = put(out, VERSION_3_AND_SERIAL_HEADER, at);
  const serialAt = at;
  writeSerial(out, serialAt);
  at = put(out, issuer.tbsSignatureAndIssuer, at + SERIAL_BYTES);
  at = writeHeader(out, at, Tag.SEQUENCE, validityContent);
  at = writeTimeAt(out, at, leaf.notBefore);
  at = writeTimeAt(out, at, leaf.notAfter);
  at = put(out, EMPTY_NAME, at);
  at = put(out, leaf.spki, at);
  at = writeHeader(out, at, 0xa3, extensions);
  at = writeHeader(out, at, Tag.SEQUENCE, extensionsContent);
  at = put(out, ku, at);
  at = put(out, eku, at);
  at = put(out, BASIC_CONSTRAINTS_AND_SKI_HEAD, at);
  // RFC 5280 §4.2.1.2 method (1): SHA-1 of the subjectPublicKey bits.
  at = put(out, sha1(leaf.publicKey), at);
  at = put(out, issuer.authorityKeyIdExtension, at);
  at = writeHeader(out, at, Tag.SEQUENCE, sanContent);
  at = put(out, SAN_ID_CRITICAL, at);
  at = writeHeader(out, at, Tag.OCTET_STRING, generalNames);
  at = writeHeader(out, at, Tag.SEQUENCE, namesSize);
  for (const d of leaf.dnsNames) at = writeIa5Name(out, at, CTX_DNS, d);
  for (const u of leaf.uris) at = writeIa5Name(out, at, CTX_URI, u);
  if (at !== OUTER_HEADER_ROOM + tbsSize) throw new Error(`certificate builder: wrote ${at - OUTER_HEADER_ROOM} TBS bytes, sized ${tbsSize}`);
  return {
    buffer: out,
    tbs: out.subarray(OUTER_HEADER_ROOM, at),
    serialNumber: toHex(out.subarray(serialAt, serialAt + SERIAL_BYTES)),
  };
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
