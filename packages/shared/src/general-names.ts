/** GeneralNames (RFC 5280 §4.2.1.6): read from DER, written for the SAN extension. */
import { DerError, DerReader, Tag, valueOf } from "./der.ts";

/** The names of a SAN, by kind. `other` counts kinds edgeca never issues (otherName, directoryName, …). */
export interface GeneralNames {
  readonly dns: readonly string[];
  readonly uri: readonly string[];
  readonly email: readonly string[];
  /** IP addresses as hex of their 4 or 16 octets. */
  readonly ip: readonly string[];
  readonly other: number;
}

const NONE: readonly string[] = Object.freeze([]);

const CTX_RFC822 = 0x81;
const CTX_DNS = 0x82;
const CTX_URI = 0x86;
const CTX_IP = 0x87;

function ia5(bytes: Uint8Array, what: string): string {
  for (const b of bytes) {
    // IA5String is 7-bit ASCII; control characters have no place in a name.
    if (b < 0x20 || b > 0x7e) throw new DerError(`${what}: not printable IA5`);
  }
  // One string from the checked codes, not one per character (decoding printable ASCII as UTF-8 is the identity).
  return ascii.decode(bytes);
}

const ascii = new TextDecoder();

/** Reads the SAN extension value (a GeneralNames SEQUENCE). */
export function readGeneralNames(value: Uint8Array): GeneralNames {
  const top = new DerReader(value);
  const seq = top.expect(Tag.SEQUENCE, "subjectAltName");
  top.finish("subjectAltName");
  const r = DerReader.inside(value, seq);
  // A kind with no names gets the one shared empty list: most requests carry one or two kinds of four.
  let dns: string[] | undefined;
  let uri: string[] | undefined;
  let email: string[] | undefined;
  let ip: string[] | undefined;
  let other = 0;
  while (!r.done) {
    const name = r.next("subjectAltName entry");
    const content = valueOf(value, name);
    if (name.tag === CTX_DNS) (dns ??= []).push(ia5(content, "dNSName"));
    else if (name.tag === CTX_URI) (uri ??= []).push(ia5(content, "uniformResourceIdentifier"));
    else if (name.tag === CTX_RFC822) (email ??= []).push(ia5(content, "rfc822Name"));
    else if (name.tag === CTX_IP) (ip ??= []).push(Array.from(content, (b) => b.toString(16).padStart(2, "0")).join(""));
    else other++;
  }
  if (dns === undefined && uri === undefined && email === undefined && ip === undefined && other === 0) throw new DerError("subjectAltName: empty");
  return { dns: dns ?? NONE, uri: uri ?? NONE, email: email ?? NONE, ip: ip ?? NONE, other };
}
