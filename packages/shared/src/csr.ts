/**
 * Reads a PKCS #10 certification request (RFC 2986) with the strict DER reader: exactly what the signer's
 * policy needs, nothing interpreted beyond that. Requested extensions are reported, never passed on.
 */
import { CSR_LIMITS, checkDerLimits, DerError, DerReader, elementOf, Tag, valueOf, type Tlv } from "./der.ts";
import { checkOid, readDefaultFalse, unsignedIntegerOf } from "./der-values.ts";
import { OID, oidHexAt } from "./oid.ts";
import { MalformedInputError } from "./malformed-input-error.ts";
import { decodePem } from "./pem.ts";
import { type GeneralNames, readGeneralNames } from "./general-names.ts";

/** A CSR that is not a well-formed PKCS #10 request. Callers map it to 400 `invalid_request`. */
export class CsrError extends MalformedInputError {
  override readonly name = "CsrError";
}

/** What the signer and the shim need from a CSR. Byte fields are views into the decoded DER. */
export interface ParsedCsr {
  readonly der: Uint8Array;
  /** `certificationRequestInfo`, the signed bytes. */
  readonly info: Uint8Array;
  /** The whole `SubjectPublicKeyInfo` element, copied verbatim into the certificate. */
  readonly spki: Uint8Array;
  /** Key algorithm OID (content hex, see `OID`). */
  readonly keyAlgorithm: string;
  /** Named curve OID for EC keys (content hex), undefined otherwise. */
  readonly curve: string | undefined;
  /** The subjectPublicKey BIT STRING contents without the unused-bits octet. */
  readonly publicKey: Uint8Array;
  /** Signature algorithm OID (content hex). */
  readonly signatureAlgorithm: string;
  /** Whether the signature AlgorithmIdentifier carries parameters other than NULL. */
  readonly signatureParameters: boolean;
  readonly signature: Uint8Array;
  /** Subject alternative names requested in the extensionRequest attribute (empty when none). */
  readonly names: GeneralNames;
  /** Whether the SAN extension was requested. */
  readonly hasSan: boolean;
  /** Whether the request asks for a CA certificate (basicConstraints cA TRUE). */
  readonly requestsCa: boolean;
  /** OIDs (content hex) of every requested extension, in order. */
  readonly requestedExtensions: readonly string[];
}

/** A checked OBJECT IDENTIFIER as content hex, the `OID` constant itself for a known one (see `oidHexAt`). */
function oidString(bytes: Uint8Array, tlv: Tlv, what: string): string {
  checkOid(bytes, tlv, what);
  return oidHexAt(bytes, tlv.valueStart, tlv.end);
}

function bitStringContent(bytes: Uint8Array, tlv: Tlv, what: string): Uint8Array {
  if (tlv.end === tlv.valueStart || bytes[tlv.valueStart] !== 0) throw new DerError(`${what}: BIT STRING with unused bits`);
  return bytes.subarray(tlv.valueStart + 1, tlv.end);
}

/** The names an AlgorithmIdentifier's parts go by in messages, built once rather than per request. */
interface AlgorithmNames {
  readonly algorithm: string;
  readonly oid: string;
  readonly parameters: string;
}

function algorithmNames(algorithm: string): AlgorithmNames {
  return { algorithm, oid: `${algorithm} OID`, parameters: `${algorithm} parameters` };
}

const SIGNATURE_ALGORITHM = algorithmNames("signatureAlgorithm");
const CSR_KEY_ALGORITHM = algorithmNames("subjectPKInfo algorithm");
const SPKI_KEY_ALGORITHM = algorithmNames("SubjectPublicKeyInfo algorithm");

function readAlgorithm(bytes: Uint8Array, tlv: Tlv, what: AlgorithmNames): { oid: string; params: Tlv | undefined } {
  const r = DerReader.inside(bytes, tlv);
  const oid = oidString(bytes, r.expect(Tag.OID, what.oid), what.oid);
  const params = r.done ? undefined : r.next(what.parameters);
  r.finish(what.algorithm);
  // X.690 §8.8.2: a NULL has no contents; anything else would be read as "no parameters" here.
  if (params?.tag === Tag.NULL && params.end !== params.valueStart) throw new DerError(`${what.parameters}: NULL has no contents (X.690 §8.8.2)`);
  return { oid, params };
}

/** BasicConstraints (RFC 5280 §4.2.1.9): cA BOOLEAN DEFAULT FALSE, pathLenConstraint INTEGER OPTIONAL. */
function readBasicConstraintsCa(value: Uint8Array): boolean {
  const r = new DerReader(value);
  const seq = r.expect(Tag.SEQUENCE, "basicConstraints");
  r.finish("basicConstraints");
  const inner = DerReader.inside(value, seq);
  const ca = readDefaultFalse(inner, "basicConstraints cA");
  const pathLen = inner.optional(Tag.INTEGER, "basicConstraints pathLenConstraint");
  if (pathLen !== undefined) unsignedIntegerOf(value, pathLen, "basicConstraints pathLenConstraint");
  inner.finish("basicConstraints");
  return ca;
}

/** RFC 3279 §2.3.1: an rsaEncryption key's parameters MUST be NULL (and Go's crypto/x509 refuses a key without). */
function checkKeyParameters(keyAlgorithm: string, params: Tlv | undefined): void {
  if (keyAlgorithm === OID.rsaEncryption && params?.tag !== Tag.NULL) {
    const found = params === undefined ? "none" : `tag 0x${params.tag.toString(16).padStart(2, "0")}`;
    throw new DerError(`subjectPKInfo algorithm: rsaEncryption parameters must be NULL (RFC 3279 §2.3.1), found ${found}`);
  }
}

interface RequestedExtension {
  readonly oid: string;
  readonly critical: boolean;
  readonly value: Uint8Array;
}

/** The requested extension with this OID (a loop, not a closure per lookup). */
function requested(extensions: readonly RequestedExtension[], oid: string): RequestedExtension | undefined {
  for (const e of extensions) if (e.oid === oid) return e;
  return undefined;
}

function readExtensionRequest(bytes: Uint8Array, set: Tlv): RequestedExtension[] {
  const values = DerReader.inside(bytes, set);
  const exts = values.expect(Tag.SEQUENCE, "extensionRequest");
  values.finish("extensionRequest attribute values");
  const out: RequestedExtension[] = [];
  const r = DerReader.inside(bytes, exts);
  while (!r.done) {
    const ext = DerReader.inside(bytes, r.expect(Tag.SEQUENCE, "extension"));
    const oid = oidString(bytes, ext.expect(Tag.OID, "extension OID"), "extension OID");
    const critical = readDefaultFalse(ext, "extension critical");
    const value = valueOf(bytes, ext.expect(Tag.OCTET_STRING, "extension value"));
    ext.finish("extension");
    if (requested(out, oid) !== undefined) throw new DerError("extensionRequest: duplicate extension");
    out.push({ oid, critical, value });
  }
  return out;
}

/** A SubjectPublicKeyInfo's algorithm, curve and key, checked as the CSR's; `name` is what messages call it. */
function readKeyInfo(der: Uint8Array, spkiTlv: Tlv, name: string, names: AlgorithmNames): Pick<ParsedCsr, "keyAlgorithm" | "curve" | "publicKey"> {
  const spki = DerReader.inside(der, spkiTlv);
  const keyAlg = readAlgorithm(der, spki.expect(Tag.SEQUENCE, names.algorithm), names);
  const publicKey = bitStringContent(der, spki.expect(Tag.BIT_STRING, "subjectPublicKey"), "subjectPublicKey");
  spki.finish(name);
  checkKeyParameters(keyAlg.oid, keyAlg.params);
  let curve: string | undefined;
  if (keyAlg.oid === OID.ecPublicKey) {
    if (keyAlg.params?.tag !== Tag.OID) throw new DerError("EC key: parameters must be a named curve");
    curve = oidString(der, keyAlg.params, "EC key named curve");
  }
  return { keyAlgorithm: keyAlg.oid, curve, publicKey };
}

/** The names of a request without a SAN extension (shared: nothing holding a ParsedCsr changes it). */
const NO_NAMES: GeneralNames = Object.freeze({ dns: Object.freeze([]), uri: Object.freeze([]), email: Object.freeze([]), ip: Object.freeze([]), other: 0 });

/** Parses CSR DER after checking the size and depth limits. Throws `CsrError` naming the fault. */
export function parseCsrDer(der: Uint8Array): ParsedCsr {
  try {
    checkDerLimits(der, CSR_LIMITS, "CSR");
    const top = new DerReader(der);
    const outer = DerReader.inside(der, top.expect(Tag.SEQUENCE, "CertificationRequest"));
    const infoTlv = outer.expect(Tag.SEQUENCE, "certificationRequestInfo");
    const sigAlg = readAlgorithm(der, outer.expect(Tag.SEQUENCE, "signatureAlgorithm"), SIGNATURE_ALGORITHM);
    const signature = bitStringContent(der, outer.expect(Tag.BIT_STRING, "signature"), "signature");
    outer.finish("CertificationRequest");

    const info = DerReader.inside(der, infoTlv);
    const version = info.expect(Tag.INTEGER, "version");
    if (version.end - version.valueStart !== 1 || der[version.valueStart] !== 0) throw new DerError("version: only v1 (0) is defined");
    info.expect(Tag.SEQUENCE, "subject");
    const spkiTlv = info.expect(Tag.SEQUENCE, "subjectPKInfo");
    // RFC 2986 makes attributes mandatory; some writers omit an empty set, which is harmless.
    const attrs = info.optional(0xa0, "attributes");
    info.finish("certificationRequestInfo");

    const key = readKeyInfo(der, spkiTlv, "subjectPKInfo", CSR_KEY_ALGORITHM);

    let extensions: RequestedExtension[] = [];
    if (attrs !== undefined) {
      const r = DerReader.inside(der, attrs);
      while (!r.done) {
        const attr = DerReader.inside(der, r.expect(Tag.SEQUENCE, "attribute"));
        const type = oidString(der, attr.expect(Tag.OID, "attribute type"), "attribute type");
        const set = attr.expect(Tag.SET, "attribute values");
        attr.finish("attribute");
        if (type === OID.extensionRequest) {
          if (extensions.length > 0) throw new DerError("attributes: more than one extensionRequest");
          extensions = readExtensionRequest(der, set);
        }
        // Other attributes (challengePassword, …) are ignored: nothing from the CSR is copied. DER sorts the
        // elements of a SET OF (X.690 §11.6); that order is deliberately not checked here, since each attribute
        // is read on its own, none is copied and a second extensionRequest is refused, so no order can change
        // what the request means.
      }
    }
    const san = requested(extensions, OID.subjectAltName);
    const bc = requested(extensions, OID.basicConstraints);
    return {
      der,
      info: elementOf(der, infoTlv),
      spki: elementOf(der, spkiTlv),
      ...key,
      signatureAlgorithm: sigAlg.oid,
      signatureParameters: sigAlg.params !== undefined && sigAlg.params.tag !== Tag.NULL,
      signature,
      names: san === undefined ? NO_NAMES : readGeneralNames(san.value),
      hasSan: san !== undefined,
      requestsCa: bc !== undefined && readBasicConstraintsCa(bc.value),
      requestedExtensions: extensions.map((e) => e.oid),
    };
  } catch (error) {
    if (error instanceof MalformedInputError) throw new CsrError(`CSR: ${error.message}`, { cause: error });
    throw error;
  }
}

/** Parses a CSR given as exactly one `CERTIFICATE REQUEST` PEM block. */
export function parseCsrPem(pem: string): ParsedCsr {
  return parseCsrDer(decodePem(pem, "CERTIFICATE REQUEST"));
}

/** A bare SubjectPublicKeyInfo, read as strictly as the CSR's (a PodCertificateRequest's `spec.pkixPublicKey`). */
export type ParsedSpki = Pick<ParsedCsr, "spki" | "keyAlgorithm" | "curve" | "publicKey">;

/** Parses one DER SubjectPublicKeyInfo with no trailing bytes. Throws `CsrError` naming what was wrong. */
export function parseSpkiDer(der: Uint8Array): ParsedSpki {
  try {
    checkDerLimits(der, CSR_LIMITS, "SubjectPublicKeyInfo");
    const top = new DerReader(der);
    const spkiTlv = top.expect(Tag.SEQUENCE, "SubjectPublicKeyInfo");
    top.finish("SubjectPublicKeyInfo");
    return { spki: elementOf(der, spkiTlv), ...readKeyInfo(der, spkiTlv, "SubjectPublicKeyInfo", SPKI_KEY_ALGORITHM) };
  } catch (error) {
    if (error instanceof MalformedInputError) throw new CsrError(`pkixPublicKey: ${error.message}`, { cause: error });
    throw error;
  }
}
