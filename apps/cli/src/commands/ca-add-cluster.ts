import { isValidTrustDomain, SignerName } from "@edgeca/shared";
import { parseFlags, UsageError, type Command } from "../command.ts";
import { addCluster, type AddClusterOptions } from "../ca/add-cluster.ts";
import { addClusterSteps } from "../ca/cluster-steps.ts";
import { deployConfigStep } from "../ca/deploy-steps.ts";
import { asUsage } from "../ca/flags.ts";
import { INIT_DEFAULTS } from "../init/index.ts";
import { readJwks } from "./init.ts";

const help = `usage: edgeca ca add-cluster --dir DIR --name NAME --signer-name NAME[,NAME…] [flags]

Adds a cluster to the signer of DIR: its shim's client certificate (from the client CA whose key is in
DIR/offline/client-ca-key.pem) to DIR/clusters/NAME/, an issuing CA of its own under the shared root (key
in DIR/offline) with its key in DIR/worker/secrets.json, and its entry (client certificate, token, policy,
activeIssuer) in DIR/worker/config.json. Checked with the signer's own loader before anything is written.

flags:
  --dir DIR                 a directory made by edgeca init --out DIR (required)
  --name NAME               the cluster's name, a DNS label (required)
  --signer-name NAME        signer name(s) the cluster's shim uses; repeatable or comma-separated (required)
  --trust-domain TD         SPIFFE trust domain of its workloads (default ${INIT_DEFAULTS.trustDomain})
  --jwks FILE               the cluster's JWKS (kubectl get --raw /openid/v1/jwks); with it the signer requires
                            the shim's ServiceAccount token (needs --token-audience and --token-issuer)
  --token-issuer URL        the cluster's service-account issuer (kube-apiserver --service-account-issuer)
  --token-audience AUD      audience of the shim's projected token
  --allowed-requestor USER  CSR requestor allowed to obtain certificates; repeatable
                            (default ${INIT_DEFAULTS.allowedRequestors.join(", ")})
  --issuer-id ID            the cluster's issuer id (default NAME-ca1)
  --force                   replace an existing cluster of the same name

example:
  edgeca ca add-cluster --dir ./ca --name east --signer-name example.com/foo --trust-domain east.example \\
    --jwks east-jwks.json --token-issuer https://kubernetes.default.svc.cluster.local --token-audience edgeca-signer`;

const list = (values: readonly string[] | undefined): string[] => (values ?? []).flatMap((v) => v.split(",")).map((v) => v.trim()).filter((v) => v !== "");

async function tokenOf(values: { jwks?: string; "token-issuer"?: string; "token-audience"?: string }): Promise<AddClusterOptions["token"]> {
  const given = (["token-issuer", "token-audience"] as const).filter((f) => values[f] !== undefined);
  if (values.jwks === undefined) {
    if (given.length > 0) throw new UsageError(`--${given[0] ?? ""} needs --jwks FILE`);
    return undefined;
  }
  const issuer = values["token-issuer"];
  const audience = values["token-audience"];
  if (issuer === undefined || issuer === "") throw new UsageError("--jwks needs --token-issuer URL (the cluster's --service-account-issuer)");
  if (audience === undefined || audience === "") throw new UsageError("--jwks needs --token-audience AUD");
  return { jwks: await readJwks(values.jwks), issuer, audience };
}

/** `edgeca ca add-cluster`: one more cluster, with its own client certificate and issuing CA. */
export const caAddClusterCommand: Command = {
  name: "ca add-cluster",
  summary: "add a cluster: its shim's client certificate, its own issuing CA under the shared root, its policy",
  help,
  async run(argv) {
    const values = parseFlags(argv, {
      dir: { type: "string" },
      name: { type: "string" },
      "signer-name": { type: "string", multiple: true },
      "trust-domain": { type: "string" },
      jwks: { type: "string" },
      "token-issuer": { type: "string" },
      "token-audience": { type: "string" },
      "allowed-requestor": { type: "string", multiple: true },
      "issuer-id": { type: "string" },
      force: { type: "boolean", default: false },
    });
    const dir = values.dir;
    if (dir === undefined || dir === "") throw new UsageError("--dir DIR is required (a directory made by edgeca init --out DIR)");
    const name = values.name;
    if (name === undefined || name === "") throw new UsageError("--name NAME is required");
    const signerNames = list(values["signer-name"]);
    if (signerNames.length === 0) throw new UsageError("--signer-name NAME is required (repeatable or comma-separated)");
    for (const n of signerNames) if (!SignerName.safeParse(n).success) throw new UsageError(`--signer-name "${n}": a signer name is <DNS subdomain>/<path>, e.g. example.com/foo`);
    const trustDomain = values["trust-domain"];
    if (trustDomain !== undefined && !isValidTrustDomain(trustDomain)) throw new UsageError(`--trust-domain "${trustDomain}": lowercase letters, digits, ".", "-", "_" only`);
    const token = await tokenOf(values);
    const requestors = list(values["allowed-requestor"]);
    const result = await asUsage(() =>
      addCluster({
        dir,
        name,
        signerNames,
        force: values.force,
        ...(trustDomain === undefined ? {} : { trustDomain }),
        ...(token === undefined ? {} : { token }),
        ...(requestors.length === 0 ? {} : { allowedRequestors: requestors }),
        ...(values["issuer-id"] === undefined ? {} : { issuerId: values["issuer-id"] }),
      }),
    );
    console.log(addClusterSteps(dir, result, signerNames, token?.audience, await deployConfigStep(dir)));
    return 0;
  },
};
