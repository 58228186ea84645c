/**
 * Checks the signer's answer to a PodCertificateRequest before it is written: the CSR checks of
 * verify-answer.ts (chain to the current bundle, not a CA, valid now) with the spec's PKIX key as the
 * requested key and exactly one URI SAN `spiffe://<trust domain>/ns/<spec namespace>/sa/<spec ServiceAccount>`,
 * then what kube-apiserver would refuse on the status write (ValidatePodCertificateRequestStatusUpdate):
 * the status times equal the leaf's, lifetime in [1 h, maxExpirationSeconds], notBefore within 5 min of
 * now, beginRefreshAt at least 10 min inside the validity. The chain is decoded and the leaf parsed once
 * (verifyAnswerChain), and the SANs read with the same strict readers as for CSRs.
 */
import type { V1beta1PodCertificateRequest } from "@kubernetes/client-node";
import { parseWorkloadId, POD_MIN_EXPIRATION_SECONDS, POD_REFRESH_MARGIN_SECONDS, type PodSignResponse } from "@edgeca/shared";
import { checkSans, VerificationError, verifyAnswerChain, type ChainCertificate } from "./verify-answer.ts";

const NOT_BEFORE_SKEW_MS = 5 * 60_000;

/** Verifies `answer` for `pcr` against `roots` at `now` (ms); throws a VerificationError naming the check. */
export function verifyPodAnswer(pcr: V1beta1PodCertificateRequest, answer: PodSignResponse, roots: readonly ChainCertificate[], now: number): void {
  const spec = pcr.spec;
  const { leaf, sans } = verifyAnswerChain(Buffer.from(spec.pkixPublicKey ?? "", "base64"), answer.certificateChain, roots, now, undefined);
  const uris = sans.filter((n) => n.startsWith("uri:")).map((n) => n.slice(4));
  const [uri] = uris;
  if (uris.length !== 1 || uri === undefined) throw new VerificationError(`the leaf carries ${uris.length} URI SANs, not one SPIFFE ID`);
  // Nothing but that one URI SAN.
  checkSans(sans, [`uri:${uri}`]);
  let id;
  try {
    id = parseWorkloadId(uri);
  } catch (error) {
    throw new VerificationError(`the leaf's URI SAN is not a workload SPIFFE ID: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  if (id.namespace !== pcr.metadata?.namespace || id.serviceAccount !== spec.serviceAccountName) {
    throw new VerificationError(`the leaf's SPIFFE ID ${uri} is not the request's namespace "${pcr.metadata?.namespace ?? ""}" and ServiceAccount "${spec.serviceAccountName}"`);
  }

  const notBefore = Date.parse(answer.notBefore);
  const notAfter = Date.parse(answer.notAfter);
  const refresh = Date.parse(answer.beginRefreshAt);
  if (notBefore !== leaf.notBefore.getTime() || notAfter !== leaf.notAfter.getTime()) {
    throw new VerificationError("the answer's notBefore/notAfter are not the leaf's");
  }
  const lifetime = (notAfter - notBefore) / 1000;
  const max = spec.maxExpirationSeconds ?? 86_400;
  if (lifetime < POD_MIN_EXPIRATION_SECONDS || lifetime > max) throw new VerificationError(`the leaf's lifetime ${lifetime} s is outside [${POD_MIN_EXPIRATION_SECONDS}, maxExpirationSeconds ${max}]`);
  if (Math.abs(notBefore - now) >= NOT_BEFORE_SKEW_MS) throw new VerificationError(`the leaf's notBefore ${answer.notBefore} is not within 5 minutes of now`);
  const margin = POD_REFRESH_MARGIN_SECONDS * 1000;
  if (refresh < notBefore + margin || refresh > notAfter - margin) throw new VerificationError(`beginRefreshAt ${answer.beginRefreshAt} is not at least 10 minutes inside the validity`);
}
