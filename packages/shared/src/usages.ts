/**
 * Kubernetes CSR usage strings (certificates.k8s.io/v1 `KeyUsage`) and their X.509 meaning, as
 * kube-controller-manager maps them (pkg/controller/certificates/authority/policies.go):
 * KeyUsage bits (RFC 5280 §4.2.1.3) and ExtendedKeyUsage purposes (RFC 5280 §4.2.1.12).
 */
import { der, Tag } from "./der.ts";
import { encodeOid } from "./oid.ts";

/** KeyUsage bit numbers (RFC 5280 §4.2.1.3). */
export const KEY_USAGE_BIT = {
  digitalSignature: 0,
  contentCommitment: 1,
  keyEncipherment: 2,
  dataEncipherment: 3,
  keyAgreement: 4,
  keyCertSign: 5,
  cRLSign: 6,
  encipherOnly: 7,
  decipherOnly: 8,
} as const;
export type KeyUsageName = keyof typeof KEY_USAGE_BIT;

/** Every usage string Kubernetes defines → its KeyUsage bit or EKU OID. */
export const KUBERNETES_USAGES: Readonly<Record<string, { readonly keyUsage: KeyUsageName } | { readonly eku: string }>> = {
  signing: { keyUsage: "digitalSignature" },
  "digital signature": { keyUsage: "digitalSignature" },
  "content commitment": { keyUsage: "contentCommitment" },
  "key encipherment": { keyUsage: "keyEncipherment" },
  "key agreement": { keyUsage: "keyAgreement" },
  "data encipherment": { keyUsage: "dataEncipherment" },
  "cert sign": { keyUsage: "keyCertSign" },
  "crl sign": { keyUsage: "cRLSign" },
  "encipher only": { keyUsage: "encipherOnly" },
  "decipher only": { keyUsage: "decipherOnly" },
  any: { eku: "2.5.29.37.0" },
  "server auth": { eku: "1.3.6.1.5.5.7.3.1" },
  "client auth": { eku: "1.3.6.1.5.5.7.3.2" },
  "code signing": { eku: "1.3.6.1.5.5.7.3.3" },
  "email protection": { eku: "1.3.6.1.5.5.7.3.4" },
  "s/mime": { eku: "1.3.6.1.5.5.7.3.4" },
  "ipsec end system": { eku: "1.3.6.1.5.5.7.3.5" },
  "ipsec tunnel": { eku: "1.3.6.1.5.5.7.3.6" },
  "ipsec user": { eku: "1.3.6.1.5.5.7.3.7" },
  timestamping: { eku: "1.3.6.1.5.5.7.3.8" },
  "ocsp signing": { eku: "1.3.6.1.5.5.7.3.9" },
  "microsoft sgc": { eku: "1.3.6.1.4.1.311.10.3.3" },
  "netscape sgc": { eku: "2.16.840.1.113730.4.1" },
};

/** The only usages edgeca issues (docs/certificate-profile.md "Policy"): never CA usages. */
export const ALLOWED_USAGES: ReadonlySet<string> = new Set(["digital signature", "key encipherment", "server auth", "client auth"]);

/** What a list of usage strings asks for in X.509 terms. Unknown strings are returned in `unknown`. */
export interface X509Usages {
  readonly keyUsage: ReadonlySet<KeyUsageName>;
  /** EKU OIDs, dotted, in first-mention order, without duplicates. */
  readonly extKeyUsage: readonly string[];
  readonly unknown: readonly string[];
}

/** Maps Kubernetes usage strings to KeyUsage bits and EKU OIDs. */
export function toX509Usages(usages: readonly string[]): X509Usages {
  const keyUsage = new Set<KeyUsageName>();
  const extKeyUsage: string[] = [];
  const unknown: string[] = [];
  for (const u of usages) {
    const meaning = Object.hasOwn(KUBERNETES_USAGES, u) ? KUBERNETES_USAGES[u] : undefined;
    if (meaning === undefined) unknown.push(u);
    else if ("keyUsage" in meaning) keyUsage.add(meaning.keyUsage);
    else if (!extKeyUsage.includes(meaning.eku)) extKeyUsage.push(meaning.eku);
  }
  return { keyUsage, extKeyUsage, unknown };
}

/** DER of a KeyUsage BIT STRING (named bits, trailing zero bits removed as X.690 §11.2.2 requires). */
export function encodeKeyUsage(names: ReadonlySet<KeyUsageName>): Uint8Array {
  let highest = -1;
  const octets = [0, 0];
  for (const n of names) {
    const bit = KEY_USAGE_BIT[n];
    octets[bit >> 3] = (octets[bit >> 3] ?? 0) | (0x80 >> (bit & 7));
    highest = Math.max(highest, bit);
  }
  if (highest < 0) return der(Tag.BIT_STRING, Uint8Array.of(0));
  const used = (highest >> 3) + 1;
  const unused = 7 - (highest & 7);
  return der(Tag.BIT_STRING, Uint8Array.of(unused, ...octets.slice(0, used)));
}

/** DER of an ExtKeyUsageSyntax SEQUENCE of purpose OIDs. */
export function encodeExtKeyUsage(oids: readonly string[]): Uint8Array {
  return der(Tag.SEQUENCE, ...oids.map((o) => der(Tag.OID, encodeOid(o))));
}
