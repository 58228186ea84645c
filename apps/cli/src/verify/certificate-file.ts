/**
 * Reading the certificate files an operator hands to `edgeca verify`: every PEM block must be a
 * CERTIFICATE that parses. Text between blocks (e.g. `openssl x509 -text` output) is tolerated, as
 * openssl does; a file without any block is an error naming the file.
 */
import { X509Certificate } from "node:crypto";
import { readFile } from "node:fs/promises";

/** A file `edgeca verify` cannot use; the message names the file (exit status 2). */
export class CertificateFileError extends Error {
  override readonly name = "CertificateFileError";
}

const BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/g;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** Parses every PEM block of `text` as an X.509 certificate; `file` names the source in errors. */
export function parseCertificates(text: string, file: string): X509Certificate[] {
  const certificates: X509Certificate[] = [];
  for (const match of text.matchAll(BLOCK)) {
    const [, label = "", body = ""] = match;
    const where = `${file}: PEM block ${certificates.length + 1}`;
    if (label !== "CERTIFICATE") throw new CertificateFileError(`${where} is "${label}", expected CERTIFICATE`);
    const base64 = body.replace(/\s+/g, "");
    if (!BASE64.test(base64)) throw new CertificateFileError(`${where} is not valid base64`);
    try {
      certificates.push(new X509Certificate(Buffer.from(base64, "base64")));
    } catch (error) {
      throw new CertificateFileError(`${where} does not parse as X.509: ${(error as Error).message}`, { cause: error });
    }
  }
  if (certificates.length === 0) throw new CertificateFileError(`${file}: no PEM CERTIFICATE block found`);
  return certificates;
}

/** Reads and parses a certificate file; missing or unreadable files become a CertificateFileError. */
export async function readCertificates(file: string): Promise<X509Certificate[]> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? "";
    throw new CertificateFileError(`${file}: cannot read (${code === "" ? (error as Error).message : code})`, { cause: error });
  }
  return parseCertificates(text, file);
}
