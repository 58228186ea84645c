/**
 * The leaf certificate profile (docs/certificate-profile.md "The certificate"), each fact in one place:
 * the TBSCertificate as one description (der-layout.ts) that both sizes and writes a leaf, and the DER
 * every leaf of an issuer repeats, made once when the issuer loads. A change to the profile (an extension,
 * a field's size) is a change here only; certificate-builder.ts sizes, writes and signs from it.
 *
 * Empty subject; critical SAN; critical KeyUsage; ExtendedKeyUsage from the usages (non-critical);
 * critical BasicConstraints CA:false; SKI = SHA-1 of the subjectPublicKey; AKI = the issuer's key id.
 */
import {
  der,
  encodeExtKeyUsage,
  encodeKeyUsage,
  fromHex,
  headerSize,
  KEY_USAGE_BIT,
  OID,
  sha1,
  Tag,
  timeSize,
  writeHeader,
  writeTimeAt,
  type KeyUsageName,
} from "@edgeca/shared";
import type { SigningAlgorithm } from "./certificate-signature.ts";
import { bytes, constant, element, field, type Part } from "./der-layout.ts";

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

/** The DER an issuer contributes to each leaf (see `issuerProfile`). */
export interface IssuerProfile {
  /** The signature AlgorithmIdentifier then the issuer Name: consecutive in every leaf's TBSCertificate. */
  readonly tbsSignatureAndIssuer: Uint8Array;
  /** DER of the AuthorityKeyIdentifier extension every leaf carries (RFC 5280 §4.2.1.1). */
  readonly authorityKeyIdExtension: Uint8Array;
  /** Most bytes the signatureAlgorithm and signatureValue elements after a leaf's TBSCertificate take. */
  readonly signatureRoom: number;
}

/** One leaf being written: the issuer's part, the request's part, and where the serial number went. */
export interface LeafContext {
  readonly issuer: IssuerProfile;
  readonly leaf: LeafTemplate;
  readonly keyUsage: Uint8Array;
  readonly extKeyUsage: Uint8Array;
  serialAt: number;
}

const TRUE = der(Tag.BOOLEAN, Uint8Array.of(0xff));

function extension(oid: string, critical: boolean, value: Uint8Array): Uint8Array {
  const id = der(Tag.OID, fromHex(oid));
  return critical ? der(Tag.SEQUENCE, id, TRUE, der(Tag.OCTET_STRING, value)) : der(Tag.SEQUENCE, id, der(Tag.OCTET_STRING, value));
}

/** Serial numbers: 16 random octets, positive and without a leading zero, so the INTEGER is always 16 octets. */
export const SERIAL_BYTES = 16;
const SKI_BYTES = 20;
const CTX_DNS = 0x82;
const CTX_URI = 0x86;

const keyUsageCache = new Map<number, Uint8Array>();
// Policy grants one of two sets (policy.ts): found by identity before the bits are counted.
const keyUsageBySet = new WeakMap<ReadonlySet<KeyUsageName>, Uint8Array>();
/** The critical KeyUsage extension for a usage set (encoded once per set). */
export function keyUsageExtension(names: ReadonlySet<KeyUsageName>): Uint8Array {
  const known = keyUsageBySet.get(names);
  if (known !== undefined) return known;
  let bits = 0;
  for (const n of names) bits |= 1 << KEY_USAGE_BIT[n];
  let ext = keyUsageCache.get(bits);
  if (ext === undefined) {
    ext = extension(OID.keyUsage, true, encodeKeyUsage(names));
    keyUsageCache.set(bits, ext);
  }
  keyUsageBySet.set(names, ext);
  return ext;
}

const NO_EXTENSION = new Uint8Array(0);
const ekuCache = new Map<string, Uint8Array>();
// Policy hands out one array per list of usages (policy.ts `checkUsages`): found by identity first.
const ekuByList = new WeakMap<readonly string[], Uint8Array>();
/** The ExtendedKeyUsage extension for EKU OIDs, or nothing when there are none (encoded once per list). */
export function extKeyUsageExtension(oids: readonly string[]): Uint8Array {
  if (oids.length === 0) return NO_EXTENSION;
  let ext = ekuByList.get(oids);
  if (ext !== undefined) return ext;
  const key = oids.join(",");
  ext = ekuCache.get(key);
  if (ext === undefined) {
    // Non-critical, as Go's x509 (kube-controller-manager) and Istio's CA write it.
    ext = extension(OID.extKeyUsage, false, encodeExtKeyUsage(oids));
    ekuCache.set(key, ext);
  }
  ekuByList.set(oids, ext);
  return ext;
}

// Random bytes are drawn from the CSPRNG in batches: one `getRandomValues` call costs ≈ 10 µs in Node
// whatever its size, so a batch serves 256 serial numbers.
let randomPool = new Uint8Array(0);
let randomAt = 0;

function writeSerialNumber(out: Uint8Array, at: number, c: LeafContext): number {
  at = writeHeader(out, at, Tag.INTEGER, SERIAL_BYTES);
  if (randomAt + SERIAL_BYTES > randomPool.length) {
    randomPool = crypto.getRandomValues(new Uint8Array(SERIAL_BYTES * 256));
    randomAt = 0;
  }
  // Copied octet by octet: a view of the pool per serial number costs more than the copy.
  for (let i = 0; i < SERIAL_BYTES; i++) out[at + i] = randomPool[randomAt + i] ?? 0;
  randomAt += SERIAL_BYTES;
  out[at] = ((out[at] ?? 0) & 0x7f) | 0x01;
  c.serialAt = at;
  return at + SERIAL_BYTES;
}

function namesSize(names: readonly string[]): number {
  let n = 0;
  for (const name of names) n += headerSize(name.length) + name.length;
  return n;
}

/** Writes IA5String-content GeneralNames (`tag` [2] dNSName or [6] uniformResourceIdentifier). */
function writeNames(out: Uint8Array, at: number, tag: number, names: readonly string[]): number {
  for (const name of names) {
    at = writeHeader(out, at, tag, name.length);
    for (let i = 0; i < name.length; i++) {
      const code = name.charCodeAt(i);
      // Policy admits only printable ASCII names; anything else here is a bug, not bad input.
      if (code < 0x20 || code > 0x7e) throw new Error(`certificate builder: name is not IA5: ${JSON.stringify(name)}`);
      out[at++] = code;
    }
  }
  return at;
}

type P = Part<LeafContext>;

const validity: P = element("validity", Tag.SEQUENCE, [
  field("notBefore", (c) => timeSize(c.leaf.notBefore), (out, at, c) => writeTimeAt(out, at, c.leaf.notBefore)),
  field("notAfter", (c) => timeSize(c.leaf.notAfter), (out, at, c) => writeTimeAt(out, at, c.leaf.notAfter)),
]);

// RFC 5280 §4.2.1.9: CA:false is the DEFAULT, so DER encodes it as an empty SEQUENCE.
const basicConstraints: P = constant("basicConstraints", extension(OID.basicConstraints, true, der(Tag.SEQUENCE)));

// RFC 5280 §4.2.1.2 method (1): SHA-1 of the subjectPublicKey bits.
const subjectKeyIdentifier: P = element("subjectKeyIdentifier", Tag.SEQUENCE, [
  constant("subjectKeyIdentifier extnID", der(Tag.OID, fromHex(OID.subjectKeyIdentifier))),
  element("subjectKeyIdentifier extnValue", Tag.OCTET_STRING, [
    element("keyIdentifier", Tag.OCTET_STRING, [
      field("keyIdentifier octets", () => SKI_BYTES, (out, at, c) => {
        out.set(sha1(c.leaf.publicKey), at);
        return at + SKI_BYTES;
      }),
    ]),
  ]),
]);

// RFC 5280 §4.2.1.6: critical when the subject is empty.
const subjectAltName: P = element("subjectAltName", Tag.SEQUENCE, [
  constant("subjectAltName extnID", der(Tag.OID, fromHex(OID.subjectAltName))),
  constant("subjectAltName critical", TRUE),
  element("subjectAltName extnValue", Tag.OCTET_STRING, [
    element("GeneralNames", Tag.SEQUENCE, [
      field("dNSName", (c) => namesSize(c.leaf.dnsNames), (out, at, c) => writeNames(out, at, CTX_DNS, c.leaf.dnsNames)),
      field("uniformResourceIdentifier", (c) => namesSize(c.leaf.uris), (out, at, c) => writeNames(out, at, CTX_URI, c.leaf.uris)),
    ]),
  ]),
]);

/** The leaf's TBSCertificate (RFC 5280 §4.1), in order. */
export const LEAF_TBS: P = element("TBSCertificate", Tag.SEQUENCE, [
  constant("version", der(0xa0, der(Tag.INTEGER, Uint8Array.of(2)))),
  field("serialNumber", () => 2 + SERIAL_BYTES, writeSerialNumber),
  bytes("signature and issuer", (c) => c.issuer.tbsSignatureAndIssuer),
  validity,
  // The identity is in the SAN (docs/certificate-profile.md).
  constant("subject", der(Tag.SEQUENCE)),
  bytes("subjectPublicKeyInfo", (c) => c.leaf.spki),
  element("extensions", 0xa3, [
    element("Extensions", Tag.SEQUENCE, [
      bytes("keyUsage", (c) => c.keyUsage),
      bytes("extKeyUsage", (c) => c.extKeyUsage),
      basicConstraints,
      subjectKeyIdentifier,
      bytes("authorityKeyIdentifier", (c) => c.issuer.authorityKeyIdExtension),
      subjectAltName,
    ]),
  ]),
]);

/**
 * The DER an issuer contributes to every leaf: its signature algorithm and Name, the AKI with its key
 * identifier `keyId`, and the room after the TBSCertificate for the signatureAlgorithm and a signature
 * of at most `maxSignature` bytes (a BIT STRING: tag, up to 3 length octets, the unused-bits octet).
 */
export function issuerProfile(algorithm: SigningAlgorithm, issuerName: Uint8Array, keyId: Uint8Array, maxSignature: number): IssuerProfile {
  const authorityKeyIdExtension = der(
    Tag.SEQUENCE,
    der(Tag.OID, fromHex(OID.authorityKeyIdentifier)),
    der(Tag.OCTET_STRING, der(Tag.SEQUENCE, der(0x80, keyId))),
  );
  const tbsSignatureAndIssuer = new Uint8Array(algorithm.identifier.length + issuerName.length);
  tbsSignatureAndIssuer.set(algorithm.identifier, 0);
  tbsSignatureAndIssuer.set(issuerName, algorithm.identifier.length);
  return { tbsSignatureAndIssuer, authorityKeyIdExtension, signatureRoom: algorithm.identifier.length + 5 + maxSignature };
}
