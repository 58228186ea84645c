import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigurationError } from "@edgeca/shared";
import { generateKeyPair, SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkTokenAudience } from "./token-audience.ts";

let dir: string;
let key: Awaited<ReturnType<typeof generateKeyPair>>["privateKey"];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "edgeca-token-"));
  ({ privateKey: key } = await generateKeyPair("RS256"));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** A token file as the kubelet writes one (a signed JWT, here with a trailing newline). */
async function tokenFile(name: string, claims: Record<string, unknown>): Promise<string> {
  const jwt = await new SignJWT(claims).setProtectedHeader({ alg: "RS256", kid: "k" }).setIssuer("https://kubernetes.default.svc").setSubject("system:serviceaccount:edgeca-system:edgeca-shim").sign(key);
  const file = join(dir, name);
  writeFileSync(file, `${jwt}\n`);
  return file;
}

/** The ConfigurationError message `fn` throws. */
function refusal(fn: () => void): string {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigurationError);
    return (error as Error).message;
  }
  throw new Error("expected a refusal");
}

describe("checkTokenAudience (the start-up check of the projected token)", () => {
  it("accepts a token whose aud, a string or a list, includes the audience", async () => {
    const single = await tokenFile("single", { aud: "edgeca-signer" });
    const list = await tokenFile("list", { aud: ["https://kubernetes.default.svc", "edgeca-signer"] });
    expect(() => { checkTokenAudience(single, "edgeca-signer"); }).not.toThrow();
    expect(() => { checkTokenAudience(list, "edgeca-signer"); }).not.toThrow();
  });

  it("names the token's audiences and the setting to fix when the audience is missing", async () => {
    const file = await tokenFile("other", { aud: ["https://kubernetes.default.svc"] });
    expect(refusal(() => { checkTokenAudience(file, "edgeca-signer"); })).toBe(
      `EDGECA_TOKEN_AUDIENCE: the token in ${file} is for [https://kubernetes.default.svc], not "edgeca-signer"; set serviceAccountToken.audience in the Deployment`,
    );
  });

  it("refuses a file that is not a JWT, or a JWT without an aud claim, or one it cannot read", async () => {
    const noAud = await tokenFile("no-aud", {});
    const garbage = join(dir, "garbage");
    writeFileSync(garbage, "not.a-jwt.at-all\n");
    for (const file of [noAud, garbage]) {
      expect(refusal(() => { checkTokenAudience(file, "edgeca-signer"); })).toBe(`EDGECA_TOKEN_FILE: ${file} does not hold a JWT with an "aud" claim`);
    }
    const missing = join(dir, "missing");
    expect(refusal(() => { checkTokenAudience(missing, "edgeca-signer"); })).toMatch(new RegExp(`^EDGECA_TOKEN_FILE: cannot read ${missing}: ENOENT`));
  });
});
