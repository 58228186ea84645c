/**
 * Strict PEM framing (RFC 7468 §3, "strict" grammar with two documented allowances).
 *
 * Accepted:
 * - ASCII whitespace (space, tab, CR, LF) before the first and after the last block, and between blocks
 *   of a chain — nothing else: no explanatory text, no RFC 1421 headers;
 * - base64 lines of 1–76 characters ending in LF or CRLF (RFC 7468 writers use 64; 76 admits MIME-style
 *   writers), canonical base64 with padding only at the end;
 * - a single DER element per block: trailing bytes after it are refused (cf. `@peculiar/x509`'s reader,
 *   which ignores them, FIELD-NOTES).
 * Every failure is a `PemError` whose message names what was wrong.
 */
import { fromBase64, toBase64 } from "./bytes.ts";
import { DerError, DerReader } from "./der.ts";

/** Malformed PEM. Callers map it to a 400 `invalid_request`. */
export class PemError extends Error {
  override readonly name = "PemError";
}

/** Largest PEM text accepted by default (well above a 4096-bit RSA chain, below the 64 KiB body limit). */
export const MAX_PEM_CHARS = 48 * 1024;

const WS = "[ \\t\\r\\n]*";
const BODY = "((?:[A-Za-z0-9+/=]{1,76}\\r?\\n)+)";
// The label grammar of RFC 7468 §3 (printable ASCII except "-", single inner spaces) suffices for us.
const BLOCK = `-----BEGIN ([A-Z0-9]+(?: [A-Z0-9]+)*)-----\\r?\\n${BODY}-----END \\1-----`;
const SINGLE = new RegExp(`^${WS}${BLOCK}${WS}$`);
const STICKY = new RegExp(`${WS}${BLOCK}(?:\\r?\\n|$)`, "y");

function decodeBody(body: string, label: string): Uint8Array {
  let der: Uint8Array;
  try {
    der = fromBase64(body.replace(/\r?\n/g, ""));
  } catch {
    throw new PemError(`${label} block: invalid base64`);
  }
  const reader = new DerReader(der);
  try {
    reader.next(`${label} block`);
  } catch (error) {
    throw new PemError(error instanceof DerError ? error.message : `${label} block: not DER`);
  }
  if (!reader.done) throw new PemError(`${label} block: trailing bytes after the DER element`);
  return der;
}

/** Decodes text that must be exactly one PEM block with label `label`; returns its DER. */
export function decodePem(text: string, label: string, maxChars = MAX_PEM_CHARS): Uint8Array {
  if (text.length > maxChars) throw new PemError(`PEM text is ${text.length} characters, over the limit of ${maxChars}`);
  const match = SINGLE.exec(text);
  if (match === null) {
    const blocks = text.match(/-----BEGIN /g)?.length ?? 0;
    if (blocks > 1) throw new PemError(`expected exactly one ${label} PEM block, found ${blocks}`);
    throw new PemError(`expected exactly one ${label} PEM block and nothing else (strict RFC 7468 framing)`);
  }
  const [, found = "", body = ""] = match;
  if (found !== label) throw new PemError(`expected a ${label} PEM block, found ${found}`);
  return decodeBody(body, label);
}

/** Decodes one or more PEM blocks that must all have label `label` (a chain, a bundle); returns their DER in order. */
export function decodePemBlocks(text: string, label = "CERTIFICATE", maxChars = MAX_PEM_CHARS): Uint8Array[] {
  if (text.length > maxChars) throw new PemError(`PEM text is ${text.length} characters, over the limit of ${maxChars}`);
  const out: Uint8Array[] = [];
  STICKY.lastIndex = 0;
  let at = 0;
  for (;;) {
    STICKY.lastIndex = at;
    const match = STICKY.exec(text);
    if (match === null) break;
    const [, found = "", body = ""] = match;
    if (found !== label) throw new PemError(`block ${out.length + 1}: expected ${label}, found ${found}`);
    out.push(decodeBody(body, `${label} ${out.length + 1}`));
    at = STICKY.lastIndex;
  }
  if (!/^[ \t\r\n]*$/.test(text.slice(at))) {
    throw new PemError(`unexpected text after ${out.length} ${label} block(s) (strict RFC 7468 framing)`);
  }
  if (out.length === 0) throw new PemError(`no ${label} PEM block`);
  return out;
}

/** Encodes DER as one PEM block: 64-character lines, LF endings, a final LF. */
export function encodePem(der: Uint8Array, label: string): string {
  const b64 = toBase64(der);
  let body = "";
  for (let i = 0; i < b64.length; i += 64) body += `${b64.slice(i, i + 64)}\n`;
  return `-----BEGIN ${label}-----\n${body}-----END ${label}-----\n`;
}

/** Encodes several DER certificates as consecutive CERTIFICATE blocks (nothing after the last). */
export function encodePemChain(ders: readonly Uint8Array[]): string {
  return ders.map((d) => encodePem(d, "CERTIFICATE")).join("");
}
