/**
 * The shape of the test material `node-test/material.ts` makes in Node at test time and hands to the
 * workerd tests as the `TEST_FIXTURES` binding (JSON). Types only; nothing here ships in the Worker.
 */
import type { SignerConfigInput } from "@edgeca/shared";

/** CSRs by purpose, all PEM, all made with `@peculiar/x509` at test time. */
export interface TestCsrs {
  readonly workloadP256: string;
  readonly workloadP384: string;
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
  /** A good CSR whose signed bytes were altered after signing. */
  readonly badSignature: string;
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
