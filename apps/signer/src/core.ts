/**
 * The signing core without HTTP: configuration and keys loaded once, then `authenticate` and `sign`.
 * The Worker wraps it; Node callers (the benchmark, tests) use it directly through
 * `@edgeca/signer/core`:
 *
 *   const core = await SigningCore.load({ EDGECA_CONFIG: configJson, EDGECA_CA_KEY_CA1: keyPem });
 *   const answer = await core.sign(signRequest, core.cluster("dev"));
 */
import {
  activeIssuerOf,
  ConfigurationError,
  decodePem,
  describeConfigError,
  encodePem,
  parseCertificateDer,
  SignerConfig,
  type Bundle,
  type ClusterConfig,
  type PodSignRequest,
  type PodSignResponse,
  type SignRequest,
  type SignResponse,
} from "@edgeca/shared";
import type { IssuanceGate } from "./budget.ts";
import { signTbs, writeTbs, type UnsignedLeaf } from "./certificate-builder.ts";
import { ClientIndex } from "./client-auth.ts";
import type { SignerEnv } from "./env.ts";
import { ForbiddenError, UnavailableError } from "./errors.ts";
import { loadIssuer, type Issuer } from "./issuer.ts";
import { validityFor } from "./lifetime.ts";
import { takeBudget, unreadinessAt } from "./issuance-checks.ts";
import { signPodWith } from "./pod-sign.ts";
import { proveKeyPossession, screen, type Approved } from "./policy.ts";
import { keyTypeOf, type SignFacts } from "./sign-facts.ts";
import { checkJwks, tokenVerifier, type TokenVerifier } from "./token.ts";

export { ConfigurationError } from "@edgeca/shared";
export {
  ForbiddenError,
  InvalidRequestError,
  PayloadTooLargeError,
  PolicyDeniedError,
  RateLimitedError,
  SignerError,
  UnauthenticatedError,
  UnavailableError,
  UnsupportedMediaTypeError,
} from "./errors.ts";

/** The last time written as an ISO string. Validity bounds have whole seconds, so requests in the same second share them. */
interface IsoMemo {
  ms: number;
  iso: string;
}
const notBeforeIso: IsoMemo = { ms: Number.NaN, iso: "" };
const notAfterIso: IsoMemo = { ms: Number.NaN, iso: "" };

function isoString(memo: IsoMemo, date: Date): string {
  const ms = date.getTime();
  if (memo.ms !== ms) {
    memo.iso = date.toISOString();
    memo.ms = ms;
  }
  return memo.iso;
}

/** Options for `SigningCore.load`. */
export interface SigningCoreOptions {
  /** The clock, in epoch milliseconds (tests move it). */
  readonly now?: () => number;
}

/** Options for one `SigningCore.sign`. */
export interface SignOptions {
  /** Counts issuances against the cluster's budgets; absent (Node callers such as the benchmark): no budgets. */
  readonly gate?: IssuanceGate;
  /** Filled with what the request asked for and what was decided, for the audit record. */
  readonly facts?: SignFacts;
}

/** A sign request that passed every check before the budgets (`SigningCore.prepare`), its TBSCertificate written. */
export interface PreparedLeaf {
  readonly approved: Approved;
  readonly issuer: Issuer;
  readonly unsigned: UnsignedLeaf;
  readonly notBefore: Date;
  readonly notAfter: Date;
}

/** Parses `EDGECA_CONFIG` (JSON text or an already-parsed object). Throws `ConfigurationError`. */
export function parseSignerConfig(value: unknown): SignerConfig {
  if (value === undefined || value === null || value === "") throw new ConfigurationError("EDGECA_CONFIG is not set");
  let json: unknown = value;
  if (typeof value === "string") {
    try {
      json = JSON.parse(value);
    } catch (error) {
      throw new ConfigurationError(`EDGECA_CONFIG is not valid JSON: ${error instanceof Error ? error.message : ""}`);
    }
  }
  const parsed = SignerConfig.safeParse(json);
  if (!parsed.success) throw new ConfigurationError(`EDGECA_CONFIG is invalid: ${describeConfigError(parsed.error)}`);
  return parsed.data;
}

/** A loaded, validated signer. Immutable; safe to share between concurrent requests. */
export class SigningCore {
  private constructor(
    readonly config: SignerConfig,
    /** The issuer that signs now for clusters without an `activeIssuer` of their own. */
    readonly active: Issuer,
    /** Every configured issuer, by id (all loaded and checked, not only the active one). */
    readonly issuers: ReadonlyMap<string, Issuer>,
    /** The trust bundle answer. */
    readonly bundle: Bundle,
    private readonly clients: ClientIndex,
    private readonly tokens: ReadonlyMap<string, TokenVerifier>,
    /** The issuer of each cluster, by cluster name (its own `activeIssuer`, else the top-level one). */
    private readonly byCluster: ReadonlyMap<string, Issuer>,
    private readonly now: () => number,
  ) {}

  /** Loads configuration and keys from an env-like object; throws `ConfigurationError` naming the fault. */
  static async load(env: SignerEnv, options: SigningCoreOptions = {}): Promise<SigningCore> {
    const config = parseSignerConfig(env.EDGECA_CONFIG);
    const roots = config.roots.map((pem) => parseCertificateDer(decodePem(pem, "CERTIFICATE")));
    roots.forEach((r, i) => {
      if (!r.isCa) throw new ConfigurationError(`roots.${i}: not a CA certificate`);
    });
    const issuers = new Map<string, Issuer>();
    for (const ic of config.issuers) issuers.set(ic.id, await loadIssuer(ic, env[ic.keySecret], roots));
    const active = issuers.get(config.activeIssuer);
    if (active === undefined) throw new ConfigurationError(`activeIssuer "${config.activeIssuer}" is not loaded`);
    const byCluster = new Map<string, Issuer>();
    for (const c of config.clusters) {
      const id = activeIssuerOf(config, c);
      const issuer = issuers.get(id);
      if (issuer === undefined) throw new ConfigurationError(`cluster "${c.name}": activeIssuer "${id}" is not loaded`);
      byCluster.set(c.name, issuer);
    }
    const rootPems = roots.map((r) => encodePem(r.der, "CERTIFICATE"));
    const tokens = new Map<string, TokenVerifier>();
    for (const c of config.clusters) {
      if (c.token === undefined) continue;
      const problem = await checkJwks(c.token);
      if (problem !== undefined) throw new ConfigurationError(`cluster "${c.name}" token: ${problem}`);
      tokens.set(c.name, tokenVerifier(c.token));
    }
    return new SigningCore(
      config,
      active,
      issuers,
      { roots: rootPems, pem: rootPems.join("") },
      new ClientIndex(config.clusters),
      tokens,
      byCluster,
      options.now ?? Date.now,
    );
  }

  /**
   * Why the signer cannot sign right now for some cluster (its issuing CA outside its validity), or
   * undefined; with `clusterName`, for that cluster only.
   */
  unreadiness(clusterName?: string): string | undefined {
    const now = this.now();
    for (const cluster of this.config.clusters) {
      if (clusterName !== undefined && cluster.name !== clusterName) continue;
      const why = unreadinessAt(this.issuerFor(cluster), now);
      if (why !== undefined) return this.config.clusters.length > 1 ? `cluster "${cluster.name}": ${why}` : why;
    }
    return undefined;
  }

  /** The issuer that signs for `cluster` (chosen by the authenticated cluster, never by the request). */
  issuerFor(cluster: ClusterConfig): Issuer {
    const issuer = this.byCluster.get(cluster.name);
    if (issuer === undefined) throw new Error(`no cluster named "${cluster.name}" in the configuration`);
    return issuer;
  }

  /** The configured cluster with this name (for callers that authenticate by other means, e.g. the benchmark). */
  cluster(name: string): ClusterConfig {
    const c = this.config.clusters.find((x) => x.name === name);
    if (c === undefined) throw new Error(`no cluster named "${name}" in the configuration`);
    return c;
  }

  /** Authenticates a request from its `cf` object and `Authorization` header; throws `UnauthenticatedError`. */
  async authenticate(cf: unknown, authorization: string | null): Promise<ClusterConfig> {
    const cluster = this.clients.authenticate(cf);
    const verify = this.tokens.get(cluster.name);
    if (verify !== undefined) await verify(authorization);
    return cluster;
  }

  /** Applies the cluster's authorization, policy and budgets to one request and issues the certificate. */
  async sign(request: SignRequest, cluster: ClusterConfig, options: SignOptions = {}): Promise<SignResponse> {
    const prepared = await this.prepare(request, cluster, options.facts);
    if (options.gate !== undefined) await takeBudget(options.gate, cluster, prepared.approved, options.facts);
    return await this.issue(prepared, options.facts);
  }

  /**
   * Every check of `sign` before the budgets: signer name (403), policy with the proof of possession
   * (422/400), the issuing CA valid now (503); the TBSCertificate is written, nothing is signed.
   */
  async prepare(request: SignRequest, cluster: ClusterConfig, facts?: SignFacts): Promise<PreparedLeaf> {
    if (!cluster.signerNames.includes(request.signerName)) {
      throw new ForbiddenError(`cluster "${cluster.name}" may not use signer name "${request.signerName}"`);
    }
    // Policy, proof of possession included, is complete before anything is signed.
    const approved = screen(request, cluster.policy);
    if (facts !== undefined) {
      facts.profile = approved.profile;
      if (approved.uris[0] !== undefined) facts.spiffeId = approved.uris[0];
      if (approved.dnsNames.length > 0) facts.dnsNames = approved.dnsNames;
      facts.keyType = keyTypeOf(approved.key);
    }
    const issuer = this.issuerFor(cluster);
    const now = this.now();
    const { notBefore, notAfter } = validityFor(now, request.expirationSeconds, cluster.policy, issuer.notAfter);
    // The proof's WebCrypto verify runs (in Node on the thread pool) while the TBSCertificate is written;
    // nothing is signed, and no budget drawn, before it has verified.
    const proof = proveKeyPossession(approved);
    let unsigned: UnsignedLeaf;
    try {
      unsigned = writeTbs(issuer, {
        spki: approved.csr.spki,
        publicKey: approved.csr.publicKey,
        dnsNames: approved.dnsNames,
        uris: approved.uris,
        keyUsage: approved.keyUsage,
        extKeyUsage: approved.extKeyUsage,
        notBefore,
        notAfter,
      });
    } finally {
      await proof;
    }
    // Budgets are drawn only for a request the issuing CA can sign now.
    const unready = unreadinessAt(issuer, now);
    if (unready !== undefined) throw new UnavailableError(unready);
    return { approved, issuer, unsigned, notBefore, notAfter };
  }

  /** Signs a prepared leaf (after its budgets admitted it): the answer of `sign`. */
  async issue(prepared: PreparedLeaf, facts?: SignFacts): Promise<SignResponse> {
    const { issuer, notBefore, notAfter } = prepared;
    if (facts !== undefined) facts.issuer = issuer.id;
    const leaf = await signTbs(issuer, prepared.unsigned);
    return {
      certificateChain: leaf.pem + issuer.chainPem,
      serialNumber: leaf.serialNumber,
      notBefore: isoString(notBeforeIso, notBefore),
      notAfter: isoString(notAfterIso, notAfter),
    };
  }

  /** Applies the cluster's pod-certificate profile to a PodCertificateRequest's spec and issues (pod-policy.ts). */
  async signPod(request: PodSignRequest, cluster: ClusterConfig, options: SignOptions = {}): Promise<PodSignResponse> {
    return await signPodWith(this, this.now(), request, cluster, options);
  }
}
