/**
 * Input that is not well formed: DER (`DerError`), PEM framing (`PemError`), a PKCS #10 request or a bare
 * SubjectPublicKeyInfo (`CsrError`), and the shim's `spec.request` (`CsrParseError`). The message names what
 * was wrong. Every catch site maps it one way: the signer to 400 `invalid_request`, the shim to the reason
 * `InvalidRequest`; so they catch this base, not each subclass. A SPIFFE ID the policy refuses (`SpiffeError`)
 * is not one of these: it may be well formed and still not a workload ID, and the signer answers it 422
 * `policy_denied`.
 */
export class MalformedInputError extends Error {
  override readonly name: string = "MalformedInputError";
}
