import type { Command } from "../command.ts";
import { activateIssuer, caPaths, readCaDir } from "../ca/index.ts";
import { deployConfigStep } from "../ca/deploy-steps.ts";
import { asUsage, caFlags } from "../ca/flags.ts";

const help = `usage: edgeca ca activate --dir DIR --id ID [--cluster NAME]

Step 2 of a rotation A → A+B → B. Sets activeIssuer to ID in DIR/worker/config.json, so ID signs from
the next deploy on. Refuses an id that is not listed and an issuer the signer could not sign with.
Activate a new root's issuer only once istiod and the workloads trust that root (see ca add-issuer).

flags:
  --dir DIR        a directory made by edgeca init --out DIR (required)
  --id ID          the issuer to activate (required)
  --cluster NAME   only for this cluster (its clusters[].activeIssuer); every other cluster keeps its
                   issuer. Without it the top-level activeIssuer changes: it signs for every cluster
                   that names no issuer of its own

example:
  edgeca ca activate --dir ./ca --id ca2
  edgeca ca activate --dir ./ca --cluster east --id east-ca2`;

/** `edgeca ca activate`: switches the signing issuer. */
export const caActivateCommand: Command = {
  name: "ca activate",
  summary: "make issuer ID the one that signs",
  help,
  async run(argv) {
    const { dir, id, cluster } = caFlags(argv, true, [], true);
    const result = await asUsage(() => activateIssuer({ dir, id, ...(cluster === undefined ? {} : { cluster }) }));
    const forWhom = cluster === undefined ? "" : ` for cluster "${cluster}"`;
    if (!result.changed) {
      console.log(`edgeca ca activate: issuer "${id}" is already active${forWhom} in ${caPaths(dir).config}; nothing changed`);
      return 0;
    }
    const { config } = await readCaDir(dir);
    const maxLifetime = Math.max(...config.clusters.map((c) => c.policy.maxLifetimeSeconds));
    console.log(
      [
        `edgeca ca activate: issuer "${id}" is active${forWhom} (was "${result.previous}") in ${caPaths(dir).config}`,
        `  it signs for: ${result.clusters.length === 0 ? "no cluster (every cluster names its own issuer)" : result.clusters.join(", ")}`,
        ...(result.keyNotChecked ? [`  note: ${caPaths(dir).secrets} has no key for "${id}"; make sure its secret is uploaded`] : []),
        "",
        "Next steps:",
        `  1. ${await deployConfigStep(dir)}`,
        "     new certificates come from the new issuer; the signer's /readyz names any problem.",
        `  2. once every certificate from "${result.previous}" has expired (at most ${String(maxLifetime / 3600)} h after this deploy):`,
        `       edgeca ca remove --dir ${dir} --id ${result.previous}   (add --with-root when its root goes too)`,
      ].join("\n"),
    );
    return 0;
  },
};
