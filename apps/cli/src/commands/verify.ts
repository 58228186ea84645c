import { parseFlags, UsageError, type Command } from "../command.ts";
import { CertificateFileError, formatVerification, readCertificates, verifyChain } from "../verify/index.ts";

const help = `usage: edgeca verify --chain FILE --root FILE [--spiffe-id ID]

Checks a workload certificate chain the way an operator does: every PEM block parses, the chain leads
from the leaf through its intermediates to one of the roots in --root (signatures and names), every
certificate is valid now, the leaf is not a CA, and (with --spiffe-id) its only URI SAN is that ID.

flags:
  --chain FILE      leaf first, then intermediates (what the signer returns; a trailing root is tolerated)
  --root FILE       trusted root(s), e.g. root-cert.pem from edgeca init or Secret external-ca-cert
  --spiffe-id ID    expected SPIFFE ID, e.g. spiffe://cluster.local/ns/default/sa/bookinfo-productpage

exit status: 0 every check passed, 1 a check failed, 2 usage or file error (the message names the file)

example:
  edgeca verify --chain cert-chain.pem --root root-cert.pem --spiffe-id spiffe://cluster.local/ns/default/sa/sleep`;

/** \`edgeca verify\`: checks a certificate chain against a root and a SPIFFE ID. */
export const verifyCommand: Command = {
  name: "verify",
  summary: "check a certificate chain against a root and a SPIFFE ID",
  help,
  async run(argv) {
    const values = parseFlags(argv, { chain: { type: "string" }, root: { type: "string" }, "spiffe-id": { type: "string" } });
    if (values.chain === undefined) throw new UsageError("--chain FILE is required");
    if (values.root === undefined) throw new UsageError("--root FILE is required");
    const spiffeId = values["spiffe-id"];
    if (spiffeId !== undefined && !spiffeId.startsWith("spiffe://")) {
      throw new UsageError(`--spiffe-id must start with spiffe://, got "${spiffeId}"`);
    }
    try {
      const [chain, roots] = await Promise.all([readCertificates(values.chain), readCertificates(values.root)]);
      const result = verifyChain({ chain, roots, ...(spiffeId === undefined ? {} : { spiffeId }) });
      console.log(formatVerification(result));
      return result.ok ? 0 : 1;
    } catch (error) {
      if (error instanceof CertificateFileError) throw new UsageError(error.message, { cause: error });
      throw error;
    }
  },
};
