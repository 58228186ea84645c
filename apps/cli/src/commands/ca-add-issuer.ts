import type { Command } from "../command.ts";
import { addIssuer, caPaths, readCaDir } from "../ca/index.ts";
import { deployConfigStep, restartIstiodStep } from "../ca/deploy-steps.ts";
import { asUsage, caFlags } from "../ca/flags.ts";

const help = `usage: edgeca ca add-issuer --dir DIR --id ID [--cluster NAME] [--new-root] [--force]

Step 1 of a rotation A → A+B → B. Creates issuing CA ID (ECDSA P-256, two years) and lists it in
DIR/worker/config.json, not active; its key goes to DIR/worker/secrets.json as EDGECA_CA_KEY_<ID>.
The configuration is checked with the signer's own loader before anything is written.

flags:
  --dir DIR      a directory made by edgeca init --out DIR (required)
  --id ID        the new issuer's id, 1–32 of A–Z a–z 0–9 _ - (required)
  --new-root     also make a new root (a root rotation): its key to DIR/offline/root-ID-key.pem, its
                 certificate to DIR/root-ID-cert.pem and to the configuration's roots; without it the
                 issuer is signed by the current root, whose key must be in DIR/offline
                 (DIR/offline/root-key.pem from edgeca init)
  --cluster NAME for that cluster's rotation: signed by the root of the cluster's active issuer, and the
                 next steps activate it for that cluster alone
  --force        replace an existing inactive issuer of the same id

example:
  edgeca ca add-issuer --dir ./ca --id ca2 --new-root
  edgeca ca add-issuer --dir ./ca --cluster east --id east-ca2`;

/** `edgeca ca add-issuer`: a new issuing CA, under the current root or a new one. */
export const caAddIssuerCommand: Command = {
  name: "ca add-issuer",
  summary: "create issuing CA ID (optionally under a new root) in an init directory, not yet active",
  help,
  async run(argv) {
    const { dir, id, cluster, flags } = caFlags(argv, true, ["new-root", "force"], true);
    const result = await asUsage(() => addIssuer({ dir, id, newRoot: flags["new-root"], force: flags.force, ...(cluster === undefined ? {} : { cluster }) }));
    const activate = `edgeca ca activate --dir ${dir}${cluster === undefined ? "" : ` --cluster ${cluster}`} --id ${id}`;
    const paths = caPaths(dir);
    const { config } = await readCaDir(dir);
    const lines = [
      `edgeca ca add-issuer: ${result.replaced ? "replaced" : "added"} issuer "${id}" (${result.subject}, valid until ${result.notAfter.toISOString()}), not active`,
      `  issuers      ${config.issuers.map((i) => (i.id === config.activeIssuer ? `${i.id} (active)` : i.id)).join(", ")}   in ${paths.config}`,
      `  key          ${paths.secrets} → ${result.keySecret}`,
      ...(result.newRoot === undefined
        ? []
        : [
            `  new root     ${result.newRoot.certPath}   (SHA-256 ${result.newRoot.fingerprint})`,
            `  root key     ${result.newRoot.keyPath}   (move it offline with the other root keys; never uploaded)`,
          ]),
      `  bundle       ${paths.rootBundle} holds the ${config.roots.length} listed root(s)`,
      ...(result.keysNotChecked.length > 0 ? [`  note: ${result.keysNotChecked.join(", ")} have no key in ${paths.secrets} (uploaded already?): only their chains were checked`] : []),
      "",
      "Next steps:",
      `  1. upload the key (from the repository root):  npm run wrangler -- secret bulk ${paths.secrets}`,
      `  2. ${await deployConfigStep(dir)}`,
      ...(result.newRoot === undefined
        ? [`  3. the root is unchanged, so istiod needs nothing; when ready:  ${activate}`]
        : [`  3. ${restartIstiodStep(config.roots.length)}`, `  4. only then:  ${activate}`]),
    ];
    console.log(lines.join("\n"));
    return 0;
  },
};
