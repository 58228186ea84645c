/**
 * Certificate requests shaped like Istio's (docs/facts.md "istiod in RA mode"; istio/istio
 * `security/pkg/pki/util/generate_csr.go`): sidecars send RSA-2048 with subject `O=` (an empty
 * organization, as Go encodes `pkix.Name{Organization: []string{""}}`) and one critical URI SAN;
 * ztunnel sends ECDSA P-256 with an empty subject. Keys are generated at run time.
 */
import "reflect-metadata";
import { webcrypto } from "node:crypto";
import {
  BasicConstraintsExtension,
  type Extension,
  type JsonGeneralName,
  Pkcs10CertificateRequestGenerator,
  SubjectAlternativeNameExtension,
} from "@peculiar/x509";

export type CsrKeyType = "RSA-2048" | "P-256" | "P-384";

export interface IstioCsrOptions {
  readonly keyType: CsrKeyType;
  /** URI SANs, normally exactly one SPIFFE ID. */
  readonly uris?: readonly string[];
  /** DNS SANs (not allowed on a workload certificate: for refusal cases). */
  readonly dnsNames?: readonly string[];
  /** Subject DN; default `O=` for RSA (sidecar) and empty for EC (ztunnel). */
  readonly subject?: string;
  /** Ask for BasicConstraints CA:TRUE (a refusal case). */
  readonly requestCa?: boolean;
}

export interface IstioCsr {
  readonly csrPem: string;
  readonly keys: webcrypto.CryptoKeyPair;
}

const ALGORITHMS = {
  "RSA-2048": { name: "RSASSA-PKCS1-v1_5", modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" },
  "P-256": { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" },
  "P-384": { name: "ECDSA", namedCurve: "P-384", hash: "SHA-384" },
} as const;

/** Generates a key pair of `keyType` and a PEM CSR signed with it. */
export async function createIstioCsr(options: IstioCsrOptions): Promise<IstioCsr> {
  const algorithm = ALGORITHMS[options.keyType];
  const keys = await webcrypto.subtle.generateKey(algorithm, true, ["sign", "verify"]);
  const names: JsonGeneralName[] = [
    ...(options.uris ?? []).map((value) => ({ type: "url" as const, value })),
    ...(options.dnsNames ?? []).map((value) => ({ type: "dns" as const, value })),
  ];
  const extensions: Extension[] = [];
  if (names.length > 0) extensions.push(new SubjectAlternativeNameExtension(names, true));
  if (options.requestCa === true) extensions.push(new BasicConstraintsExtension(true, undefined, true));
  const subject = options.subject ?? (options.keyType === "RSA-2048" ? "O=" : "");
  const csr = await Pkcs10CertificateRequestGenerator.create(
    { ...(subject === "" ? {} : { name: subject }), keys, signingAlgorithm: algorithm, extensions },
    webcrypto,
  );
  return { csrPem: csr.toString("pem"), keys };
}
