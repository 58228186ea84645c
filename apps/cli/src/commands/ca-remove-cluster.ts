import { parseFlags, UsageError, type Command } from "../command.ts";
import { caPaths } from "../ca/ca-dir.ts";
import { deployConfigStep } from "../ca/deploy-steps.ts";
import { asUsage } from "../ca/flags.ts";
import { removeCluster } from "../ca/remove-cluster.ts";

const help = `usage: edgeca ca remove-cluster --dir DIR --name NAME

Removes cluster NAME from DIR/worker/config.json: from the next deploy on the signer refuses its client
certificate and token. Its issuer stays listed, so the certificates it issued keep verifying; remove it
with edgeca ca remove once they have expired. Refuses an unknown name and the last cluster.

flags:
  --dir DIR      a directory made by edgeca init --out DIR (required)
  --name NAME    the cluster to remove (required)

example:
  edgeca ca remove-cluster --dir ./ca --name east`;

/** `edgeca ca remove-cluster`: a cluster leaves the signer. */
export const caRemoveClusterCommand: Command = {
  name: "ca remove-cluster",
  summary: "remove cluster NAME (its issuer stays until its certificates expire)",
  help,
  async run(argv) {
    const values = parseFlags(argv, { dir: { type: "string" }, name: { type: "string" } });
    const dir = values.dir;
    if (dir === undefined || dir === "") throw new UsageError("--dir DIR is required (a directory made by edgeca init --out DIR)");
    const name = values.name;
    if (name === undefined || name === "") throw new UsageError("--name NAME is required");
    const result = await asUsage(() => removeCluster({ dir, name }));
    console.log(
      [
        `edgeca ca remove-cluster: cluster "${name}" removed from ${caPaths(dir).config}`,
        "",
        "Next steps:",
        `  1. ${await deployConfigStep(dir)}`,
        "     the signer then refuses that cluster's client certificate (401); delete its shim.",
        result.issuerUnused
          ? `  2. issuer "${result.issuer}" now signs for no cluster; once its certificates have expired:  edgeca ca remove --dir ${dir} --id ${result.issuer}`
          : `  2. issuer "${result.issuer}" still signs for other clusters; it stays.`,
      ].join("\n"),
    );
    return 0;
  },
};
