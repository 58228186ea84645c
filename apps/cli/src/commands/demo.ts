import { UsageError, type Command } from "../command.ts";
import { runFirstDemo } from "../demo/index.ts";

const help = `usage: edgeca demo        (from the repository root: npm run demo)

Non-interactive: runs edgeca init into a temporary directory, starts the local signer (the real Worker
in workerd behind the mTLS edge emulator), sends Istio-shaped certificate requests over mTLS (a sidecar's
RSA-2048 with O= and a critical SPIFFE URI SAN, a ztunnel-style P-256 with an empty subject, and one from
a foreign trust domain that policy must refuse), verifies each certificate with edgeca verify's checks and
openssl verify, prints what happened, stops the signer and exits 0 when everything went as intended.`;

/** \`edgeca demo\`: the first end-to-end demonstration of the signing path. */
export const demoCommand: Command = {
  name: "demo",
  summary: "issue and verify certificates for Istio-shaped requests on a local signer",
  help,
  async run(argv) {
    if (argv.length > 0) throw new UsageError(`takes no arguments, got "${argv.join(" ")}"`);
    return runFirstDemo();
  },
};
