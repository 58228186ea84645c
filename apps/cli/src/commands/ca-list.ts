import type { Command } from "../command.ts";
import { formatCaListing, listCa } from "../ca/index.ts";
import { asUsage, caFlags } from "../ca/flags.ts";

const help = `usage: edgeca ca list --dir DIR

Lists the issuers (id, active, subject, NotAfter, key secret, which root) and the roots (subject,
SHA-256 fingerprint, NotAfter) of DIR/worker/config.json.

flags:
  --dir DIR      a directory made by edgeca init --out DIR (required)

example:
  edgeca ca list --dir ./ca`;

/** `edgeca ca list`: the issuers and roots of an init directory. */
export const caListCommand: Command = {
  name: "ca list",
  summary: "list the issuers and roots of an init directory",
  help,
  async run(argv) {
    const { dir } = caFlags(argv, false);
    console.log(formatCaListing(dir, await asUsage(() => listCa(dir))));
    return 0;
  },
};
