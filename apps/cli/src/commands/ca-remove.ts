import type { Command } from "../command.ts";
import { caPaths, readCaDir, removeIssuer } from "../ca/index.ts";
import { deployConfigStep, restartIstiodStep } from "../ca/deploy-steps.ts";
import { asUsage, caFlags } from "../ca/flags.ts";

const help = `usage: edgeca ca remove --dir DIR --id ID [--with-root]

Step 3 of a rotation A → A+B → B. Removes the inactive issuer ID from DIR/worker/config.json and its
key from DIR/worker/secrets.json; refuses the active issuer and an issuer still active for any cluster
(clusters[].activeIssuer). Run it once every certificate ID issued has expired.

flags:
  --dir DIR      a directory made by edgeca init --out DIR (required)
  --id ID        the issuer to remove (required)
  --with-root    also remove the root that issued it from the configuration's roots and
                 DIR/root-cert.pem (refused while another issuer chains to that root); its key file
                 in DIR/offline is left for you to destroy

example:
  edgeca ca remove --dir ./ca --id ca1 --with-root`;

/** `edgeca ca remove`: drops an old issuer (and its root). */
export const caRemoveCommand: Command = {
  name: "ca remove",
  summary: "remove an inactive issuer ID (and with --with-root its root)",
  help,
  async run(argv) {
    const { dir, id, flags } = caFlags(argv, true, ["with-root"]);
    const result = await asUsage(() => removeIssuer({ dir, id, withRoot: flags["with-root"] }));
    const paths = caPaths(dir);
    const { config } = await readCaDir(dir);
    const steps = [
      `  1. ${await deployConfigStep(dir)}`,
      result.secretShared
        ? `  2. keep the secret ${result.keySecret}: another issuer names it too`
        : `  2. delete the key from the Worker (from the repository root):  npm run wrangler -- secret delete ${result.keySecret}`,
      ...(result.rootRemoved === undefined ? [] : [`  3. ${restartIstiodStep(config.roots.length)}`]),
    ];
    console.log(
      [
        `edgeca ca remove: issuer "${id}" removed from ${paths.config}${result.secretRemoved ? `, ${result.keySecret} from ${paths.secrets}` : ""}`,
        ...(result.rootRemoved === undefined
          ? []
          : [`  root "${result.rootRemoved}" removed from the configuration and ${paths.rootBundle} (its key file in ${paths.offline} is yours to destroy)`]),
        "",
        "Next steps:",
        ...steps,
      ].join("\n"),
    );
    return 0;
  },
};
