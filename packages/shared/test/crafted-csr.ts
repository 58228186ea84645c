/**
 * Test support (`@edgeca/shared/testing`, never the package's main entry): CSRs written byte by byte and
 * signed with a real key, for encodings no CSR library writes (a compressed EC point, a two-octet BOOLEAN,
 * an explicit DEFAULT). The proof of possession is valid, so a test shows what the signer does with the
 * encoding itself.
 */
import { fromHex } from "../src/bytes.ts";
import { concatBytes, der, DerReader, elementOf, Tag } from "../src/der.ts";
import { ecdsaP1363ToDer } from "../src/ecdsa-signature.ts";
import { OID } from "../src/oid.ts";
import { encodePem } from "../src/pem.ts";

export type CraftHash = "SHA-256" | "SHA-384";

const EC_SIGNATURE_OID = { "SHA-256": OID.ecdsaWithSha256, "SHA-384": OID.ecdsaWithSha384 } as const;
const RSA_SIGNATURE_OID = { "SHA-256": OID.sha256WithRsa, "SHA-384": OID.sha384WithRsa } as const;
const CTX_URI = 0x86;

/** What to write: the key that signs, and optionally the SPKI and raw Extension elements to put in. */
export interface CraftedCsrOptions {
  readonly keys: CryptoKeyPair;
  /** The SubjectPublicKeyInfo element; default: the signing key's own. */
  readonly spki?: Uint8Array;
  /** Raw `Extension` elements for the extensionRequest; default: a critical SAN of `uris`. */
  readonly extensions?: readonly Uint8Array[];
  readonly uris?: readonly string[];
  readonly hash?: CraftHash;
}

/** An `Extension` element; `critical` is the raw BOOLEAN element to write (any encoding), or none. */
export function extensionElement(oidHex: string, value: Uint8Array, critical?: Uint8Array): Uint8Array {
  const id = der(Tag.OID, fromHex(oidHex));
  return critical === undefined ? der(Tag.SEQUENCE, id, der(Tag.OCTET_STRING, value)) : der(Tag.SEQUENCE, id, critical, der(Tag.OCTET_STRING, value));
}

/** A critical SAN extension of URIs, as Istio writes it. */
export function sanExtension(uris: readonly string[]): Uint8Array {
  const names = uris.map((u) => der(CTX_URI, new TextEncoder().encode(u)));
  return extensionElement(OID.subjectAltName, der(Tag.SEQUENCE, ...names), der(Tag.BOOLEAN, Uint8Array.of(0xff)));
}

/** The SPKI of `publicKey` with its subjectPublicKey replaced by `key` (the BIT STRING's contents). */
export async function spkiWithKey(publicKey: CryptoKey, key: Uint8Array): Promise<Uint8Array> {
  const spki = new Uint8Array(await crypto.subtle.exportKey("spki", publicKey));
  const outer = DerReader.inside(spki, new DerReader(spki).expect(Tag.SEQUENCE, "spki"));
  const algorithm = elementOf(spki, outer.expect(Tag.SEQUENCE, "algorithm"));
  return der(Tag.SEQUENCE, algorithm, der(Tag.BIT_STRING, Uint8Array.of(0), key));
}

/** The SPKI of an EC key with its point in compressed form (0x02/0x03 ‖ X), as RFC 5480 §2.2 allows. */
export async function compressedEcSpki(publicKey: CryptoKey): Promise<Uint8Array> {
  const raw = new Uint8Array(await crypto.subtle.exportKey("raw", publicKey));
  const size = (raw.length - 1) / 2;
  const point = new Uint8Array(1 + size);
  point[0] = 0x02 | ((raw[raw.length - 1] ?? 0) & 1);
  point.set(raw.subarray(1, 1 + size), 1);
  return spkiWithKey(publicKey, point);
}

/** Replaces the signing key's SPKI algorithm parameters (RSA: NULL) with `params` (empty: none). */
export async function spkiWithParameters(publicKey: CryptoKey, params: Uint8Array): Promise<Uint8Array> {
  const spki = new Uint8Array(await crypto.subtle.exportKey("spki", publicKey));
  const outer = DerReader.inside(spki, new DerReader(spki).expect(Tag.SEQUENCE, "spki"));
  const algorithm = DerReader.inside(spki, outer.expect(Tag.SEQUENCE, "algorithm"));
  const oid = elementOf(spki, algorithm.expect(Tag.OID, "algorithm OID"));
  const key = elementOf(spki, outer.expect(Tag.BIT_STRING, "subjectPublicKey"));
  return der(Tag.SEQUENCE, der(Tag.SEQUENCE, oid, params), key);
}

async function sign(keys: CryptoKeyPair, hash: CraftHash, info: Uint8Array<ArrayBuffer>): Promise<{ oid: string; signature: Uint8Array }> {
  if (keys.privateKey.algorithm.name === "ECDSA") {
    const p1363 = new Uint8Array(await crypto.subtle.sign({ name: "ECDSA", hash }, keys.privateKey, info));
    return { oid: EC_SIGNATURE_OID[hash], signature: ecdsaP1363ToDer(p1363) };
  }
  return { oid: RSA_SIGNATURE_OID[hash], signature: new Uint8Array(await crypto.subtle.sign({ name: "RSASSA-PKCS1-v1_5" }, keys.privateKey, info)) };
}

/** A PEM CSR with an empty subject, `spki`, one extensionRequest of `extensions`, signed by `keys`. */
export async function craftCsr(options: CraftedCsrOptions): Promise<string> {
  const spki = options.spki ?? new Uint8Array(await crypto.subtle.exportKey("spki", options.keys.publicKey));
  const extensions = options.extensions ?? [sanExtension(options.uris ?? ["spiffe://cluster.local/ns/default/sa/web"])];
  const extensionRequest = der(Tag.SEQUENCE, der(Tag.OID, fromHex(OID.extensionRequest)), der(Tag.SET, der(Tag.SEQUENCE, ...extensions)));
  const info = der(Tag.SEQUENCE, der(Tag.INTEGER, Uint8Array.of(0)), der(Tag.SEQUENCE), spki, der(0xa0, extensionRequest));
  const { oid, signature } = await sign(options.keys, options.hash ?? "SHA-256", info);
  const algorithm = options.keys.privateKey.algorithm.name === "ECDSA" ? der(Tag.SEQUENCE, der(Tag.OID, fromHex(oid))) : der(Tag.SEQUENCE, der(Tag.OID, fromHex(oid)), der(Tag.NULL));
  const csr = der(Tag.SEQUENCE, info, algorithm, der(Tag.BIT_STRING, concatBytes(Uint8Array.of(0), signature)));
  return encodePem(csr, "CERTIFICATE REQUEST");
}
