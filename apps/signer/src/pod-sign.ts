/**
 * The pod-certificate profile's issuance (`POST /v1/sign-pod`, docs/signer-api.md): the same issuer,
 * budgets and certificate builder as a CSR, with the identity and lifetime from pod-policy.ts.
 */
import { beginRefreshAtFor, toX509Usages, type ClusterConfig, type KeyUsageName, type PodSignRequest, type PodSignResponse } from "@edgeca/shared";
import { signTbs, writeTbs } from "./certificate-builder.ts";
import type { SignOptions } from "./core.ts";
import { ForbiddenError, UnavailableError } from "./errors.ts";
import { takeBudget, unreadinessAt } from "./issuance-checks.ts";
import type { Issuer } from "./issuer.ts";
import { podValidityFor } from "./lifetime.ts";
import { screenPod } from "./pod-policy.ts";

/**
 * Signs a pod certificate (`POST /v1/sign-pod`): signer name (403), the pod profile (pod-policy.ts: 422/400),
 * the issuing CA (503), budgets of the SPIFFE ID and the cluster (429), then the leaf with the same builder.
 */
export async function signPodWith(core: { issuerFor(cluster: ClusterConfig): Issuer }, now: number, request: PodSignRequest, cluster: ClusterConfig, options: SignOptions): Promise<PodSignResponse> {
  const facts = options.facts;
  if (facts !== undefined) facts.profile = "pod";
  if (!cluster.signerNames.includes(request.signerName)) {
    throw new ForbiddenError(`cluster "${cluster.name}" may not use signer name "${request.signerName}"`);
  }
  const approved = await screenPod(request, cluster, facts);
  const issuer = core.issuerFor(cluster);
  const unready = unreadinessAt(issuer, now);
  if (unready !== undefined) throw new UnavailableError(unready);
  const validity = podValidityFor(now, approved.lifetimeSeconds, issuer.notAfter);
  if (validity === undefined) throw new UnavailableError(`issuing CA "${issuer.id}" expires at ${issuer.notAfter.toISOString()}, too soon for a pod certificate of at least one hour`);
  // Budgets are drawn only for a request the issuing CA can sign now.
  if (options.gate !== undefined) await takeBudget(options.gate, cluster, { profile: "workload", uris: [approved.spiffeId], dnsNames: [] }, facts);
  if (facts !== undefined) facts.issuer = issuer.id;
  const leaf = await signTbs(
    issuer,
    writeTbs(issuer, {
      spki: approved.spki.spki,
      publicKey: approved.spki.publicKey,
      dnsNames: [],
      uris: [approved.spiffeId],
      keyUsage: POD_KEY_USAGE,
      extKeyUsage: POD_EXT_KEY_USAGE,
      ...validity,
    }),
  );
  return {
    certificateChain: leaf.pem + issuer.chainPem,
    serialNumber: leaf.serialNumber,
    notBefore: validity.notBefore.toISOString(),
    notAfter: validity.notAfter.toISOString(),
    beginRefreshAt: beginRefreshAtFor(validity.notBefore, validity.notAfter).toISOString(),
  };
}

/** A pod certificate serves and authenticates (mTLS both ways), like a mesh workload's. */
const POD_KEY_USAGE: ReadonlySet<KeyUsageName> = new Set<KeyUsageName>(["digitalSignature"]);
const POD_EXT_KEY_USAGE: readonly string[] = toX509Usages(["server auth", "client auth"]).extKeyUsage;

