/**
 * Certificate requests shaped like Istio's agents make them (docs/facts.md "istiod in RA mode", workload CSRs): the sidecar's
 * RSA-2048 request with subject O="" and one critical URI SAN, ztunnel's ECDSA P-256 request with an empty
 * subject. Keys are generated at run time and returned so a test can compare the leaf's key.
 */
import "reflect-metadata";
import { webcrypto } from "node:crypto";
import { Name, Pkcs10CertificateRequestGenerator, SubjectAlternativeNameExtension } from "@peculiar/x509";

export type WorkloadKind = "sidecar-rsa2048" | "ztunnel-p256";

export interface WorkloadCsr {
  readonly pem: string;
  readonly spiffeId: string;
  readonly keys: webcrypto.CryptoKeyPair;
}

/** A fresh key pair and its CSR for `spiffeId` (`spiffe://<td>/ns/<ns>/sa/<sa>`), or for any URI SAN. */
export async function workloadCsr(kind: WorkloadKind, spiffeId: string): Promise<WorkloadCsr> {
  const rsa = kind === "sidecar-rsa2048";
  const keys = await webcrypto.subtle.generateKey(
    rsa ? { name: "RSASSA-PKCS1-v1_5", modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" } : { name: "ECDSA", namedCurve: "P-256" },
    true,
    ["sign", "verify"],
  );
  const csr = await Pkcs10CertificateRequestGenerator.create({
    name: rsa ? new Name([{ "2.5.4.10": [""] }]) : new Name([]),
    keys,
    signingAlgorithm: rsa ? { name: "RSASSA-PKCS1-v1_5" } : { name: "ECDSA", hash: "SHA-256" },
    extensions: [new SubjectAlternativeNameExtension([{ type: "url", value: spiffeId }], true)],
  });
  return { pem: csr.toString("pem"), spiffeId, keys };
}
