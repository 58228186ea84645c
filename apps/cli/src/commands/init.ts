import { readFile } from "node:fs/promises";
import { SignerName, TokenConfig, isValidTrustDomain } from "@edgeca/shared";
import { parseFlags, UsageError, type Command } from "../command.ts";
import { createMaterial, INIT_DEFAULTS, MaterialExistsError, nextSteps, writeMaterial } from "../init/index.ts";

const help = `usage: edgeca init --out DIR [flags]

Creates a root CA, an issuing intermediate, a client CA and the shim's client certificate (ECDSA P-256),
and the signer's configuration. Never overwrites existing material without --force.

flags:
  --out DIR                   where to write (required); layout:
                                root-cert.pem, client-cert.pem, client-key.pem, client-ca-cert.pem,
                                worker/config.json (EDGECA_CONFIG), worker/secrets.json (wrangler secret bulk),
                                offline/root-key.pem, offline/client-ca-key.pem (never uploaded)
  --signer-name NAME          Kubernetes signer name (default ${INIT_DEFAULTS.signerName})
  --trust-domain TD           SPIFFE trust domain of workload IDs (default ${INIT_DEFAULTS.trustDomain})
  --jwks FILE                 the cluster's JWKS (kubectl get --raw /openid/v1/jwks); with it the signer
                              requires the shim's ServiceAccount token (needs --token-audience)
  --token-audience AUD        audience of the shim's projected token (with --jwks)
  --token-issuer URL          the cluster's service-account issuer (default ${INIT_DEFAULTS.tokenIssuer})
  --shim-subject SUB          the shim's ServiceAccount (default ${INIT_DEFAULTS.shimSubject})
  --allowed-requestor USER    CSR requestor allowed to obtain certificates; repeatable
                              (default ${INIT_DEFAULTS.allowedRequestors.join(", ")})
  --control-plane-dns NAME    DNS name (or *.pattern) istiod may get a serving certificate for; repeatable
  --force                     replace existing material in DIR

example:
  edgeca init --out ./ca --signer-name example.com/foo --jwks jwks.json --token-audience edgeca`;

/** Reads a JWKS file (`kubectl get --raw /openid/v1/jwks`); a bad file is a usage error naming it. */
export async function readJwks(path: string): Promise<TokenConfig["jwks"]> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    throw new UsageError(`--jwks ${path}: cannot read (${(error as NodeJS.ErrnoException).code ?? "error"})`, { cause: error });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new UsageError(`--jwks ${path}: not valid JSON`);
  }
  const parsed = TokenConfig.shape.jwks.safeParse(json);
  if (!parsed.success) throw new UsageError(`--jwks ${path}: not a JWKS ({"keys": [{"kty": …}, …]})`);
  return parsed.data;
}

/** `edgeca init`: creates CA material and the signer's configuration. */
export const initCommand: Command = {
  name: "init",
  summary: "create the root, issuing and client CAs, the shim's client certificate and the signer's configuration",
  help,
  async run(argv) {
    const values = parseFlags(argv, {
      out: { type: "string" },
      "signer-name": { type: "string" },
      "trust-domain": { type: "string" },
      jwks: { type: "string" },
      "token-audience": { type: "string" },
      "token-issuer": { type: "string" },
      "shim-subject": { type: "string" },
      "allowed-requestor": { type: "string", multiple: true },
      "control-plane-dns": { type: "string", multiple: true },
      force: { type: "boolean", default: false },
    });
    const out = values.out;
    if (out === undefined || out === "") throw new UsageError("--out DIR is required");
    const signerName = values["signer-name"] ?? INIT_DEFAULTS.signerName;
    if (!SignerName.safeParse(signerName).success) throw new UsageError(`--signer-name "${signerName}": a signer name is <DNS subdomain>/<path>, e.g. example.com/foo`);
    const trustDomain = values["trust-domain"] ?? INIT_DEFAULTS.trustDomain;
    if (!isValidTrustDomain(trustDomain)) throw new UsageError(`--trust-domain "${trustDomain}": lowercase letters, digits, ".", "-", "_" only`);
    const tokenFlags = (["token-audience", "token-issuer", "shim-subject"] as const).filter((f) => values[f] !== undefined);
    if (values.jwks === undefined && tokenFlags.length > 0) throw new UsageError(`--${tokenFlags[0] ?? ""} needs --jwks FILE`);
    if (values.jwks !== undefined && values["token-audience"] === undefined) throw new UsageError("--jwks needs --token-audience AUD");
    const subject = values["shim-subject"];
    if (subject !== undefined && !/^system:serviceaccount:[a-z0-9-.]+:[a-z0-9-.]+$/.test(subject)) {
      throw new UsageError(`--shim-subject "${subject}": expected system:serviceaccount:<namespace>:<name>`);
    }
    const token =
      values.jwks === undefined || values["token-audience"] === undefined
        ? undefined
        : {
            jwks: await readJwks(values.jwks),
            audience: values["token-audience"],
            ...(values["token-issuer"] === undefined ? {} : { issuer: values["token-issuer"] }),
            ...(subject === undefined ? {} : { subject }),
          };
    let material;
    try {
      material = await createMaterial({
        signerName,
        trustDomain,
        ...(values["allowed-requestor"] === undefined ? {} : { allowedRequestors: values["allowed-requestor"] }),
        ...(values["control-plane-dns"] === undefined ? {} : { controlPlaneDnsNames: values["control-plane-dns"] }),
        ...(token === undefined ? {} : { token }),
      });
    } catch (error) {
      // The configuration schema refused a flag's value (e.g. a DNS pattern); its message names the field.
      throw new UsageError(`invalid configuration from the flags: ${(error as Error).message}`, { cause: error });
    }
    try {
      await writeMaterial(out, material, { force: values.force });
    } catch (error) {
      if (error instanceof MaterialExistsError) throw new UsageError(error.message, { cause: error });
      throw error;
    }
    console.log(nextSteps(out, material));
    return 0;
  },
};
