/**
 * Test support (`@edgeca/shared/testing`, never the package's main entry): CSRs made at test time with
 * `@peculiar/x509`, an implementation independent of edgeca's own DER reader.
 */
import "reflect-metadata";
import * as x509 from "@peculiar/x509";

export type TestKeyAlgorithm = "P-256" | "P-384" | "RSA-2048";

const ALGS: Record<TestKeyAlgorithm, EcKeyGenParams | RsaHashedKeyGenParams> = {
  "P-256": { name: "ECDSA", namedCurve: "P-256" },
  "P-384": { name: "ECDSA", namedCurve: "P-384" },
  "RSA-2048": { name: "RSASSA-PKCS1-v1_5", modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" },
};

/** A PEM CSR with the given SANs (critical SAN extension, as Istio writes it). */
export async function makeCsr(opts: { key?: TestKeyAlgorithm; uris?: string[]; dns?: string[]; ca?: boolean } = {}): Promise<string> {
  const alg = ALGS[opts.key ?? "P-256"];
  const keys = (await crypto.subtle.generateKey(alg, true, ["sign", "verify"]));
  const names = [...(opts.uris ?? []).map((u) => ({ type: "url" as const, value: u })), ...(opts.dns ?? []).map((d) => ({ type: "dns" as const, value: d }))];
  const extensions: x509.Extension[] = [];
  if (names.length > 0) extensions.push(new x509.SubjectAlternativeNameExtension(names, true));
  if (opts.ca === true) extensions.push(new x509.BasicConstraintsExtension(true, undefined, true));
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    keys,
    signingAlgorithm: alg.name === "ECDSA" ? { name: "ECDSA", hash: "SHA-256" } : alg,
    extensions,
  });
  return csr.toString("pem");
}

/** A self-signed P-256 CA certificate PEM (for configuration tests). */
export async function makeSelfSignedCa(name = "CN=test root"): Promise<string> {
  const keys = (await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, ["sign", "verify"]));
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    name,
    keys,
    signingAlgorithm: { name: "ECDSA", hash: "SHA-256" },
    extensions: [new x509.BasicConstraintsExtension(true, undefined, true)],
  });
  return cert.toString("pem");
}
