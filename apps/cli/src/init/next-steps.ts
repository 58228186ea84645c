/** The production next steps `edgeca init` prints after writing its material. */
import { join } from "node:path";
import type { InitMaterial } from "./material.ts";

/** Cloudflare's per-variable size limit. */
const VAR_LIMIT_BYTES = 5 * 1024;

/** Readable next steps for an operator, with the paths of `dir`. */
export function nextSteps(dir: string, material: InitMaterial): string {
  const p = (f: string) => join(dir, f);
  const secretNames = Object.keys(material.secrets).join(", ");
  const token = material.config.clusters[0]?.token;
  // Cloudflare limits each environment variable to 5 KB (developers.cloudflare.com/workers/platform/limits).
  const configBytes = new TextEncoder().encode(JSON.stringify(material.config)).length;
  const sizeNote =
    configBytes > VAR_LIMIT_BYTES
      ? `     WARNING: EDGECA_CONFIG is ${configBytes} bytes as compact JSON, over Cloudflare's ${VAR_LIMIT_BYTES}-byte variable limit.`
      : `     (EDGECA_CONFIG is ${configBytes} bytes as compact JSON; Cloudflare variables hold up to ${VAR_LIMIT_BYTES}.)`;
  return [
    `edgeca init: wrote CA material to ${dir}`,
    `  root CA            ${p("root-cert.pem")}   (key: ${p("offline/root-key.pem")})`,
    `  issuing CA         in ${p("worker/config.json")}   (key: ${p("worker/secrets.json")} → ${secretNames})`,
    `  client CA          ${p("client-ca-cert.pem")}   (key: ${p("offline/client-ca-key.pem")})`,
    `  shim client cert   ${p("client-cert.pem")}, ${p("client-key.pem")}   (SHA-256 ${material.clientFingerprint})`,
    "",
    "Next steps in production:",
    `  1. Move ${p("offline")} off this machine (root and client-CA keys are never uploaded).`,
    `  2. Worker secrets (from the repository root):  npm run wrangler -- secret bulk ${p("worker/secrets.json")}`,
    `     then delete ${p("worker/secrets.json")}.`,
    `  3. Worker configuration, the EDGECA_CONFIG var:`,
    `       npm run wrangler -- deploy --var "EDGECA_CONFIG:$(cat ${p("worker/config.json")})"`,
    "     (or set EDGECA_CONFIG in the dashboard; workers_dev and preview URLs stay disabled).",
    sizeNote,
    "  4. Cloudflare client certificates: upload the client CA for mTLS on the signer's hostname",
    `       (SSL/TLS → Client Certificates / API Shield → mTLS, "bring your own CA": ${p("client-ca-cert.pem")}),`,
    "     enable mTLS for that hostname and add a WAF rule that blocks requests without",
    "     cf.tls_client_auth.cert_verified; the signer also pins the fingerprint / client-CA SKI itself.",
    "  5. Kubernetes Secret for the shim's client certificate:",
    `       kubectl -n edgeca-system create secret tls edgeca-shim-client --cert=${p("client-cert.pem")} --key=${p("client-key.pem")}`,
    "  6. Trust bundle for istiod (the shim also publishes it):",
    `       kubectl -n istio-system create secret generic external-ca-cert --from-file=root-cert.pem=${p("root-cert.pem")}`,
    token === undefined
      ? "  The signer does not require a ServiceAccount token: re-run with --jwks FILE --token-audience AUD to require one."
      : `  The signer requires the shim's ServiceAccount token: audience "${token.audience}", subject "${token.subject ?? ""}".`,
  ].join("\n");
}
