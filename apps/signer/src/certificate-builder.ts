/**
 * Builds and signs a leaf certificate (RFC 5280 §4.1) straight in DER: the pieces every leaf of an
 * issuer repeats are encoded once (issuer Name, algorithm, AuthorityKeyIdentifier, BasicConstraints),
 * the rest per request. A general X.509 library spends ≈ 4 ms per issuance in ASN.1 handling here
 * (FIELD-NOTES); this spends microseconds, leaving WebCrypto's signature as the cost.
 *
 * The profile is DESIGN.md "Certificate profile": empty subject; critical SAN; critical KeyUsage;
 * ExtendedKeyUsage from the usages; critical BasicConstraints CA:false; SKI; AKI = issuer's SKI.
 */
import {
  concatBytes,
  der,
  ecdsaP1363ToDer,
  encodeExtKeyUsage,
  encodeKeyUsage,
  encodePem,
  fromHex,
  OID,
  sha1,
  Tag,
  toHex,
  writeGeneralNames,
  writeTime,
  type KeyUsageName,
} from "@edgeca/shared";
import type { Issuer } from "./issuer.ts";

/** What goes into one leaf; everything was validated by policy before. */
export interface LeafTemplate {
  /** The CSR's SubjectPublicKeyInfo element, verbatim. */
  readonly spki: Uint8Array;
  /** The subjectPublicKey bits (for the SubjectKeyIdentifier). */
  readonly publicKey: Uint8Array;
  readonly dnsNames: readonly string[];
  readonly uris: readonly string[];
  readonly keyUsage: ReadonlySet<KeyUsageName>;
  /** EKU OIDs, dotted. */
  readonly extKeyUsage: readonly string[];
  readonly notBefore: Date;
  readonly notAfter: Date;
}

/** A signed leaf. */
export interface SignedLeaf {
  readonly der: Uint8Array;
  readonly pem: string;
  /** Serial number as lowercase hex (32 digits). */
  readonly serialNumber: string;
}

const VERSION_3 = der(0xa0, der(Tag.INTEGER, Uint8Array.of(2)));
const EMPTY_NAME = der(Tag.SEQUENCE);
const TRUE = der(Tag.BOOLEAN, Uint8Array.of(0xff));

function extension(oid: string, critical: boolean, value: Uint8Array): Uint8Array {
  const id = der(Tag.OID, fromHex(oid));
  return critical ? der(Tag.SEQUENCE, id, TRUE, der(Tag.OCTET_STRING, value)) : der(Tag.SEQUENCE, id, der(Tag.OCTET_STRING, value));
}

// RFC 5280 §4.2.1.9: CA:false is the DEFAULT, so DER encodes it as an empty SEQUENCE.
const BASIC_CONSTRAINTS_LEAF = extension(OID.basicConstraints, true, der(Tag.SEQUENCE));

const keyUsageCache = new Map<string, Uint8Array>();
function keyUsageExtension(names: ReadonlySet<KeyUsageName>): Uint8Array {
  const key = [...names].sort().join(",");
  let ext = keyUsageCache.get(key);
  if (ext === undefined) {
    ext = extension(OID.keyUsage, true, encodeKeyUsage(names));
    keyUsageCache.set(key, ext);
  }
  return ext;
}

const ekuCache = new Map<string, Uint8Array>();
function extKeyUsageExtension(oids: readonly string[]): Uint8Array {
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
const SERIAL_BYTES = 16;
let randomPool = new Uint8Array(0);
let randomAt = 0;

/** 16 random bytes, positive and without a leading zero octet, so the DER INTEGER is always 16 octets. */
function randomSerial(): Uint8Array {
  if (randomAt + SERIAL_BYTES > randomPool.length) {
    randomPool = crypto.getRandomValues(new Uint8Array(SERIAL_BYTES * 256));
    randomAt = 0;
  }
  const serial = randomPool.slice(randomAt, randomAt + SERIAL_BYTES);
  randomAt += SERIAL_BYTES;
  serial[0] = ((serial[0] ?? 0) & 0x7f) | 0x01;
  return serial;
}

/** Builds, signs and encodes one leaf under `issuer`. */
export async function buildLeaf(issuer: Issuer, leaf: LeafTemplate): Promise<SignedLeaf> {
  const serial = randomSerial();
  // RFC 5280 §4.2.1.2 method (1): SHA-1 of the subjectPublicKey bits.
  const ski = sha1(leaf.publicKey);
  const extensions: Uint8Array[] = [keyUsageExtension(leaf.keyUsage)];
  if (leaf.extKeyUsage.length > 0) extensions.push(extKeyUsageExtension(leaf.extKeyUsage));
  extensions.push(
    BASIC_CONSTRAINTS_LEAF,
    extension(OID.subjectKeyIdentifier, false, der(Tag.OCTET_STRING, ski)),
    issuer.authorityKeyIdExtension,
    // RFC 5280 §4.2.1.6: with an empty subject the SAN extension MUST be critical.
    extension(OID.subjectAltName, true, writeGeneralNames({ dns: leaf.dnsNames, uri: leaf.uris })),
  );
  const tbs = der(
    Tag.SEQUENCE,
    VERSION_3,
    der(Tag.INTEGER, serial),
    issuer.algorithm.identifier,
    issuer.name,
    der(Tag.SEQUENCE, writeTime(leaf.notBefore), writeTime(leaf.notAfter)),
    EMPTY_NAME,
    leaf.spki,
    der(0xa3, der(Tag.SEQUENCE, ...extensions)),
  );
  const raw = new Uint8Array(await crypto.subtle.sign(issuer.algorithm.signParams, issuer.key, tbs));
  const signature = issuer.algorithm.ecdsaSize > 0 ? ecdsaP1363ToDer(raw) : raw;
  const cert = der(Tag.SEQUENCE, tbs, issuer.algorithm.identifier, der(Tag.BIT_STRING, concatBytes(Uint8Array.of(0), signature)));
  return { der: cert, pem: encodePem(cert, "CERTIFICATE"), serialNumber: toHex(serial) };
}
