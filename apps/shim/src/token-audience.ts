/**
 * A start-up check of the projected ServiceAccount token: it must be a JWT whose `aud` includes the
 * signer's audience. The signer verifies the token properly (jose, JWKS); this only turns a wrong
 * `serviceAccountToken.audience` in the Deployment into a readable start-up error instead of 401s later.
 */
import { readFileSync } from "node:fs";
import { decodeJwt } from "jose";
import { z } from "zod";
import { ConfigurationError } from "@edgeca/shared";

const Claims = z.object({ aud: z.union([z.string(), z.array(z.string())]) });

/** Throws a ConfigurationError unless the JWT in `file` carries `audience` in its `aud` claim. */
export function checkTokenAudience(file: string, audience: string): void {
  let token: string;
  try {
    token = readFileSync(file, "utf8").trim();
  } catch (error) {
    throw new ConfigurationError(`EDGECA_TOKEN_FILE: cannot read ${file}: ${error instanceof Error ? error.message : String(error)}`);
  }
  let claims: unknown;
  try {
    // Decoded, not verified: the signer verifies it (jose with the cluster's JWKS).
    claims = decodeJwt(token);
  } catch {
    claims = undefined;
  }
  const parsed = Claims.safeParse(claims);
  if (!parsed.success) throw new ConfigurationError(`EDGECA_TOKEN_FILE: ${file} does not hold a JWT with an "aud" claim`);
  const aud = typeof parsed.data.aud === "string" ? [parsed.data.aud] : parsed.data.aud;
  if (!aud.includes(audience)) {
    throw new ConfigurationError(`EDGECA_TOKEN_AUDIENCE: the token in ${file} is for [${aud.join(", ")}], not "${audience}"; set serviceAccountToken.audience in the Deployment`);
  }
}
