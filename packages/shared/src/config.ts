/**
 * The signer's configuration: the JSON value of the `EDGECA_CONFIG` var (docs/configuration.md).
 * Public material only; each issuing CA's PKCS#8 key lives in the Workers secret its
 * entry names. Parsing checks every field and the cross-references, so a configuration that parses is
 * never half usable. A rotation A → A+B → B is three configurations: add B to `issuers` and its root to
 * `roots`; switch `activeIssuer` to B; drop A and A's root. A cluster may name its own `activeIssuer`
 * (one intermediate per cluster under the shared root), so one cluster's rotation is a change to that
 * cluster's entry alone.
 */
import * as z from "zod";
import { BudgetsConfig } from "./budget-config.ts";
import { parseCertificateDer } from "./certificate.ts";
import { decodePemBlocks } from "./pem.ts";
import { PodCertificatesConfig } from "./pod-certificate.ts";
import { signerNameProblem } from "./signer-name.ts";
import { isValidTrustDomain } from "./spiffe.ts";

/** A Kubernetes signer name, as kube-apiserver validates `spec.signerName` (signer-name.ts). */
export const SignerName = z.string().superRefine((name, ctx) => {
  const problem = signerNameProblem(name);
  if (problem !== undefined) ctx.addIssue({ code: "custom", message: problem });
});
export type SignerName = z.infer<typeof SignerName>;

/** A hex identifier as Cloudflare may print it (any case, optional colons), normalised to lowercase without colons. */
const normalisedHex = (what: string, length?: number) =>
  z
    .string()
    .transform((s) => s.replaceAll(":", "").toLowerCase())
    .refine((s) => /^[0-9a-f]+$/.test(s) && s.length % 2 === 0 && (length === undefined || s.length === length), `${what} must be hex${length === undefined ? "" : ` of ${length / 2} bytes`}`);

/** Normalises a certificate SHA-256 fingerprint or SKI: lowercase hex, no colons. */
export function normaliseHex(value: string): string {
  return value.replaceAll(":", "").toLowerCase();
}

/** ServiceAccount token verification for one cluster (docs/signer-api.md "Authentication", the token). */
export const TokenConfig = z.object({
  /** `iss` of the cluster's ServiceAccount tokens (kube-apiserver `--service-account-issuer`). */
  issuer: z.string().min(1),
  /** The audience the shim's projected token is requested for. */
  audience: z.string().min(1),
  /** `sub` the token must carry: the shim's ServiceAccount. */
  subject: z
    .string()
    .regex(/^system:serviceaccount:[a-z0-9-.]+:[a-z0-9-.]+$/, "subject must be system:serviceaccount:<namespace>:<name>")
    .default("system:serviceaccount:edgeca-system:edgeca-shim"),
  /** The cluster's public JWKS (`kubectl get --raw /openid/v1/jwks`). */
  jwks: z.object({ keys: z.array(z.looseObject({ kty: z.string() })).min(1) }),
});
export type TokenConfig = z.infer<typeof TokenConfig>;

/** A DNS name or a `*.`-prefixed pattern whose `*` stands for exactly one label. */
const DnsPattern = z
  .string()
  .regex(/^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/, "a DNS pattern is a lowercase DNS name, optionally starting with *.");

/** What a cluster may obtain (docs/certificate-profile.md "Policy"). */
export const PolicyConfig = z
  .object({
    /** CSR `spec.username`s allowed to obtain certificates. */
    allowedRequestors: z.array(z.string().min(1)).min(1).default(["system:serviceaccount:istio-system:istiod"]),
    /** The only trust domain workload SPIFFE IDs may name. */
    trustDomain: z.string().refine(isValidTrustDomain, "trustDomain must be a valid SPIFFE trust domain").default("cluster.local"),
    /** DNS names for the control-plane profile (istiod's serving certificate); empty disables it. */
    controlPlaneDnsNames: z.array(DnsPattern).default([]),
    /** Lifetime when the CSR sets no `expirationSeconds`. */
    defaultLifetimeSeconds: z.number().int().min(600).default(86_400),
    /** Upper clamp of the lifetime (kube-controller-manager's `--cluster-signing-duration` analogue). */
    maxLifetimeSeconds: z.number().int().min(600).default(604_800),
  })
  .refine((p) => p.defaultLifetimeSeconds <= p.maxLifetimeSeconds, "defaultLifetimeSeconds must not exceed maxLifetimeSeconds");
export type PolicyConfig = z.infer<typeof PolicyConfig>;

/** One Kubernetes cluster whose shim may call the signer. */
export const ClusterConfig = z.object({
  name: z.string().min(1).max(63),
  /** How the shim's mTLS client certificate is recognised: its SHA-256 fingerprint and/or its issuer's SKI. */
  clientCertificates: z
    .object({
      sha256Fingerprints: z.array(normalisedHex("a SHA-256 fingerprint", 64)).default([]),
      issuerSKIs: z.array(normalisedHex("an issuer SKI")).default([]),
    })
    .refine((c) => c.sha256Fingerprints.length + c.issuerSKIs.length > 0, "clientCertificates needs at least one fingerprint or issuer SKI"),
  /** Signer names this cluster may use. */
  signerNames: z.array(SignerName).min(1),
  /** Present: the shim must also send a valid ServiceAccount token. */
  token: TokenConfig.optional(),
  policy: PolicyConfig.prefault({}),
  /** Issuance budgets and the fail mode of their backend (budget-config.ts). */
  budgets: BudgetsConfig.prefault({}),
  /**
   * The id of the issuer that signs this cluster's certificates; absent: the top-level `activeIssuer`.
   * Chosen by the authenticated cluster, never by anything in a request.
   */
  activeIssuer: z.string().optional(),
  /** Pod certificates (PodCertificateRequests, pod-certificate.ts); absent: refused. */
  podCertificates: PodCertificatesConfig.optional(),
});
export type ClusterConfig = z.infer<typeof ClusterConfig>;

/** One issuing CA. */
export const IssuerConfig = z.object({
  id: z.string().regex(/^[A-Za-z0-9_-]{1,32}$/, "issuer id: 1–32 of [A-Za-z0-9_-]"),
  /** PEM: the issuing CA certificate first, then any intermediates above it; never the root. */
  chain: z.string().min(1),
  /** Name of the Workers secret that holds this CA's PKCS#8 PEM private key. */
  keySecret: z.string().regex(/^[A-Z][A-Z0-9_]*$/, "keySecret: an upper-case secret name such as EDGECA_CA_KEY_CA1"),
});
export type IssuerConfig = z.infer<typeof IssuerConfig>;

function certificatesIn(pem: string, ctx: z.RefinementCtx, path: (string | number)[]): number {
  try {
    const ders = decodePemBlocks(pem);
    for (const d of ders) parseCertificateDer(d);
    return ders.length;
  } catch (error) {
    ctx.addIssue({ code: "custom", path, message: `not a valid CERTIFICATE PEM: ${error instanceof Error ? error.message : String(error)}` });
    return 0;
  }
}

/** The whole configuration. */
export const SignerConfig = z
  .object({
    version: z.literal(1),
    signerNames: z.array(SignerName).min(1),
    clusters: z.array(ClusterConfig).min(1),
    issuers: z.array(IssuerConfig).min(1),
    /** The id of the issuer that signs now for every cluster that names none of its own. */
    activeIssuer: z.string(),
    /** The trust bundle: every root a relying party should trust now (both during a rotation). */
    roots: z.array(z.string().min(1)).min(1),
  })
  .superRefine((c, ctx) => {
    const ids = new Set<string>();
    c.issuers.forEach((issuer, i) => {
      if (ids.has(issuer.id)) ctx.addIssue({ code: "custom", path: ["issuers", i, "id"], message: `duplicate issuer id "${issuer.id}"` });
      ids.add(issuer.id);
      certificatesIn(issuer.chain, ctx, ["issuers", i, "chain"]);
    });
    if (!ids.has(c.activeIssuer)) ctx.addIssue({ code: "custom", path: ["activeIssuer"], message: `activeIssuer "${c.activeIssuer}" is not an issuer id` });
    c.roots.forEach((root, i) => {
      const n = certificatesIn(root, ctx, ["roots", i]);
      if (n > 1) ctx.addIssue({ code: "custom", path: ["roots", i], message: "each root is one CERTIFICATE PEM block" });
    });
    const names = new Set(c.signerNames);
    const seen = new Map<string, string>();
    const clusterNames = new Set<string>();
    c.clusters.forEach((cluster, i) => {
      // The name keys the cluster's token verifier, budgets and audit records: it must be unique.
      if (clusterNames.has(cluster.name)) ctx.addIssue({ code: "custom", path: ["clusters", i, "name"], message: `duplicate cluster name "${cluster.name}"` });
      clusterNames.add(cluster.name);
      if (cluster.activeIssuer !== undefined && !ids.has(cluster.activeIssuer)) {
        ctx.addIssue({ code: "custom", path: ["clusters", i, "activeIssuer"], message: `cluster "${cluster.name}": activeIssuer "${cluster.activeIssuer}" is not an issuer id` });
      }
      cluster.signerNames.forEach((n, j) => {
        if (!names.has(n)) ctx.addIssue({ code: "custom", path: ["clusters", i, "signerNames", j], message: `"${n}" is not in signerNames` });
      });
      // One client certificate must identify one cluster; otherwise authorization would be ambiguous.
      for (const id of [...cluster.clientCertificates.sha256Fingerprints, ...cluster.clientCertificates.issuerSKIs]) {
        const other = seen.get(id);
        if (other !== undefined) ctx.addIssue({ code: "custom", path: ["clusters", i, "clientCertificates"], message: `${id} also identifies cluster "${other}"` });
        seen.set(id, cluster.name);
      }
    });
  });
export type SignerConfig = z.infer<typeof SignerConfig>;
/** The id of the issuer that signs for `cluster`: its own `activeIssuer`, else the configuration's. */
export function activeIssuerOf(config: Pick<SignerConfig, "activeIssuer">, cluster: Pick<ClusterConfig, "activeIssuer">): string {
  return cluster.activeIssuer ?? config.activeIssuer;
}

/** The configuration as written (defaults may be omitted). */
export type SignerConfigInput = z.input<typeof SignerConfig>;

/** Readable one-line-per-issue text of a failed parse, for `/readyz` and the CLI. */
export function describeConfigError(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.length > 0 ? i.path.join(".") : "(root)"}: ${i.message}`).join("; ");
}
