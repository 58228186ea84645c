/**
 * The shape of the test material `node-test/material.ts` makes in Node at test time and hands to the
 * workerd tests as the `TEST_FIXTURES` binding (JSON). Types only; nothing here ships in the Worker.
 */
import type { SignerConfigInput } from "@edgeca/shared";

/** CSRs by purpose, all PEM, all made with `@peculiar/x509` at test time. */
export interface TestCsrs {
  readonly workloadP256: string;
  readonly workloadP384: string;
  /** A P-256 workload CSR for a second identity, spiffe://cluster.local/ns/default/sa/api. */
  readonly workloadOther: string;
  readonly workloadRsa2048: string;
  readonly workloadRsa1024: string;
  readonly workloadP521: string;
  readonly workloadSha1: string;
  readonly workloadRsaExponent3: string;
  /** A workload CSR that also requests KeyUsage keyCertSign and EKU codeSigning. */
  readonly extraExtensions: string;
  readonly workloadWrongTrustDomain: string;
  readonly workloadBadSpiffe: string;
  readonly twoUris: string;
  readonly email: string;
  readonly noSan: string;
  readonly caRequest: string;
  readonly controlPlane: string;
  readonly controlPlaneOther: string;
  /** A CSR signed by one P-256 key and carrying another's (valid) public key: a failed proof of possession. */
  readonly badSignature: string;
  /** Workload CSRs with a valid proof of possession whose SPKI holds a compressed point (0x02/0x03 ‖ X). */
  readonly compressedP256: string;
  readonly compressedP384: string;
  /** A P-256 workload CSR whose point is off the curve (WebCrypto refuses to import it). */
  readonly offCurveP256: string;
  /** An RSA-2048 workload CSR whose rsaEncryption AlgorithmIdentifier has no NULL parameters. */
  readonly rsaWithoutNullParameters: string;
  /** Workload CSRs requesting basicConstraints with cA as a two-octet BOOLEAN (0x00 0x00) or an explicit FALSE. */
  readonly twoOctetBoolean: string;
  readonly explicitCaFalse: string;
  /** A workload CSR whose SAN extension's critical flag is an explicit FALSE. */
  readonly explicitCriticalFalse: string;
  /** Workload IDs whose namespace or service account Kubernetes would never admit. */
  readonly namespaceUpperCase: string;
  readonly namespaceDotted: string;
  readonly namespaceLong: string;
  readonly serviceAccountUpperCase: string;
}

/** Everything the workerd tests need. */
export interface TestFixtures {
  /** Configurations by name; secrets come from `secrets`. */
  readonly configs: Readonly<Record<"a" | "ab" | "abActiveB" | "b" | "short", SignerConfigInput>>;
  /** Secret name → PKCS#8 PEM. */
  readonly secrets: Readonly<Record<string, string>>;
  /** Root PEMs by issuer id. */
  readonly roots: Readonly<Record<"a" | "b", string>>;
  /** Client certificate fingerprints (lowercase hex) by cluster name, and the client CA's SKI. */
  readonly fingerprints: Readonly<Record<"dev" | "plain" | "other", string>>;
  readonly clientCaSki: string;
  /** Token material for cluster "dev". */
  readonly token: {
    readonly issuer: string;
    readonly audience: string;
    readonly subject: string;
    /** Private JWK (RS256) matching the configured JWKS. */
    readonly privateJwk: Record<string, unknown>;
    /** Private JWK of a key not in the JWKS, with the same kid. */
    readonly strangerJwk: Record<string, unknown>;
  };
  readonly csrs: TestCsrs;
  readonly signerName: string;
  readonly trustDomain: string;
}
