/**
 * Reads an X.509 certificate (RFC 5280 §4.1) with the strict DER reader: the fields the signer needs to
 * issue under a CA (subject, key, validity, key identifier) and the shim needs to check a chain.
 */
import { bytesEqual, toHex } from "./bytes.ts";
import { CERTIFICATE_LIMITS, checkDerLimits, DerError, DerReader, elementOf, Tag, valueOf, type Tlv } from "./der.ts";
import { readTime } from "./der-time.ts";
import { booleanOf } from "./der-values.ts";
import { OID } from "./oid.ts";

/** A parsed certificate. Byte fields are views into `der`. */
export interface ParsedCertificate {
  readonly der: Uint8Array;
  readonly tbs: Uint8Array;
  /** Serial number magnitude as lowercase hex. */
  readonly serialNumber: string;
  /** The issuer Name element (DER, header included). */
  readonly issuer: Uint8Array;
  /** The subject Name element (DER, header included). */
  readonly subject: Uint8Array;
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** The SubjectPublicKeyInfo element. */
  readonly spki: Uint8Array;
  readonly keyAlgorithm: string;
  readonly curve: string | undefined;
  readonly publicKey: Uint8Array;
  readonly signatureAlgorithm: string;
  readonly signature: Uint8Array;
  /** Extensions by OID (content hex). */
  readonly extensions: ReadonlyMap<string, { readonly critical: boolean; readonly value: Uint8Array }>;
  /** keyIdentifier of the SubjectKeyIdentifier extension, when present. */
  readonly subjectKeyId: Uint8Array | undefined;
  /** basicConstraints cA. */
  readonly isCa: boolean;
}

function bits(bytes: Uint8Array, tlv: Tlv, what: string): Uint8Array {
  const v = valueOf(bytes, tlv);
  if (v.length < 1 || v[0] !== 0) throw new DerError(`${what}: BIT STRING with unused bits`);
  return v.subarray(1);
}

/**
 * Parses certificate DER after the size and depth limits; throws `DerError` naming the fault. BOOLEANs
 * must be one octet, 0x00 or 0xFF, as for Go's crypto/x509 (a CA certificate Istio could not read is no
 * use); an encoded DEFAULT FALSE is tolerated here, unlike in a CSR, because Go's reader tolerates it too
 * and a root made by another tool should not stop the signer for a value that changes nothing.
 */
export function parseCertificateDer(der: Uint8Array): ParsedCertificate {
  checkDerLimits(der, CERTIFICATE_LIMITS, "certificate");
  const top = new DerReader(der);
  const cert = DerReader.inside(der, top.expect(Tag.SEQUENCE, "Certificate"));
  const tbsTlv = cert.expect(Tag.SEQUENCE, "tbsCertificate");
  const sigAlgTlv = cert.expect(Tag.SEQUENCE, "signatureAlgorithm");
  const sigAlg = DerReader.inside(der, sigAlgTlv);
  const signatureAlgorithm = toHex(valueOf(der, sigAlg.expect(Tag.OID, "signatureAlgorithm OID")));
  const signature = bits(der, cert.expect(Tag.BIT_STRING, "signatureValue"), "signatureValue");
  cert.finish("Certificate");

  const tbs = DerReader.inside(der, tbsTlv);
  const version = tbs.optional(0xa0, "version");
  if (version === undefined) throw new DerError("certificate: only v3 certificates are supported");
  const serial = valueOf(der, tbs.expect(Tag.INTEGER, "serialNumber"));
  // RFC 5280 §4.1.1.2: the signature algorithm inside the signed part MUST be the one outside it.
  if (!bytesEqual(elementOf(der, tbs.expect(Tag.SEQUENCE, "signature")), elementOf(der, sigAlgTlv))) {
    throw new DerError("certificate: the tbsCertificate's signature algorithm is not the certificate's signatureAlgorithm");
  }
  const issuer = tbs.expect(Tag.SEQUENCE, "issuer");
  const validity = DerReader.inside(der, tbs.expect(Tag.SEQUENCE, "validity"));
  const nb = validity.next("notBefore");
  const na = validity.next("notAfter");
  validity.finish("validity");
  const subject = tbs.expect(Tag.SEQUENCE, "subject");
  const spkiTlv = tbs.expect(Tag.SEQUENCE, "subjectPublicKeyInfo");
  tbs.optional(0x81, "issuerUniqueID");
  tbs.optional(0x82, "subjectUniqueID");
  const extsTlv = tbs.optional(0xa3, "extensions");
  tbs.finish("tbsCertificate");

  const { keyAlgorithm, curve, publicKey } = readSubjectPublicKeyInfo(der, spkiTlv);
  const extensions = readExtensions(der, extsTlv);
  const subjectKeyId = readSubjectKeyId(extensions.get(OID.subjectKeyIdentifier));
  const isCa = readIsCa(extensions.get(OID.basicConstraints));
  return {
    der,
    tbs: elementOf(der, tbsTlv),
    serialNumber: toHex(magnitude(serial)),
    issuer: elementOf(der, issuer),
    subject: elementOf(der, subject),
    notBefore: readTime(nb.tag, valueOf(der, nb)),
    notAfter: readTime(na.tag, valueOf(der, na)),
    spki: elementOf(der, spkiTlv),
    keyAlgorithm,
    curve,
    publicKey,
    signatureAlgorithm,
    signature,
    extensions,
    subjectKeyId,
    isCa,
  };
}

type Extensions = Map<string, { critical: boolean; value: Uint8Array }>;

/** The key's algorithm OID, its named curve when the parameters are one, and the key bits. */
function readSubjectPublicKeyInfo(der: Uint8Array, spkiTlv: Tlv): { keyAlgorithm: string; curve: string | undefined; publicKey: Uint8Array } {
  const spki = DerReader.inside(der, spkiTlv);
  const alg = DerReader.inside(der, spki.expect(Tag.SEQUENCE, "algorithm"));
  const keyAlgorithm = toHex(valueOf(der, alg.expect(Tag.OID, "algorithm OID")));
  const params = alg.done ? undefined : alg.next("algorithm parameters");
  const publicKey = bits(der, spki.expect(Tag.BIT_STRING, "subjectPublicKey"), "subjectPublicKey");
  spki.finish("subjectPublicKeyInfo");
  return { keyAlgorithm, curve: params?.tag === Tag.OID ? toHex(valueOf(der, params)) : undefined, publicKey };
}

/** The [3] extensions by OID; a duplicate OID is refused (RFC 5280 §4.2). */
function readExtensions(der: Uint8Array, extsTlv: Tlv | undefined): Extensions {
  const extensions: Extensions = new Map();
  if (extsTlv === undefined) return extensions;
  const wrap = DerReader.inside(der, extsTlv);
  const list = DerReader.inside(der, wrap.expect(Tag.SEQUENCE, "extensions"));
  wrap.finish("extensions");
  while (!list.done) {
    const ext = DerReader.inside(der, list.expect(Tag.SEQUENCE, "extension"));
    const oid = toHex(valueOf(der, ext.expect(Tag.OID, "extension OID")));
    const crit = ext.optional(Tag.BOOLEAN, "extension critical");
    const value = valueOf(der, ext.expect(Tag.OCTET_STRING, "extension value"));
    ext.finish("extension");
    if (extensions.has(oid)) throw new DerError("certificate: duplicate extension");
    extensions.set(oid, { critical: crit !== undefined && booleanOf(der, crit, "extension critical"), value });
  }
  return extensions;
}

/** keyIdentifier of the SubjectKeyIdentifier extension. */
function readSubjectKeyId(ski: { value: Uint8Array } | undefined): Uint8Array | undefined {
  if (ski === undefined) return undefined;
  const r = new DerReader(ski.value);
  const subjectKeyId = valueOf(ski.value, r.expect(Tag.OCTET_STRING, "subjectKeyIdentifier"));
  r.finish("subjectKeyIdentifier");
  return subjectKeyId;
}

/** basicConstraints cA (absent extension or field: false). */
function readIsCa(bc: { value: Uint8Array } | undefined): boolean {
  if (bc === undefined) return false;
  const r = new DerReader(bc.value);
  const seq = DerReader.inside(bc.value, r.expect(Tag.SEQUENCE, "basicConstraints"));
  const ca = seq.optional(Tag.BOOLEAN, "basicConstraints cA");
  return ca !== undefined && booleanOf(bc.value, ca, "basicConstraints cA");
}

/** An INTEGER's content without its leading zero octets (the serial number as its magnitude). */
function magnitude(integer: Uint8Array): Uint8Array {
  let mag = integer;
  while (mag.length > 1 && mag[0] === 0) mag = mag.subarray(1);
  return mag;
}
