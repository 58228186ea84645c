/**
 * One `SigningCore` per isolate: configuration is validated and keys imported on first use, then reused.
 * A failed load is remembered as well, so an invalid configuration answers 503 consistently instead of
 * half-working (docs/configuration.md "Loading"). Keyed by the env object, and by the configuration
 * text and key secrets when the runtime hands a different env object with the same content.
 */
import type { SignerEnv } from "./env.ts";
import { SigningCore } from "./core.ts";

const byEnv = new WeakMap<object, Promise<SigningCore>>();
const byContent = new Map<string, Promise<SigningCore>>();
/** Distinct configurations kept at once (tests load several; production has one). */
const MAX_ENTRIES = 8;

function contentKey(env: SignerEnv): string {
  const config = typeof env.EDGECA_CONFIG === "string" ? env.EDGECA_CONFIG : JSON.stringify(env.EDGECA_CONFIG ?? null);
  const secrets = Object.keys(env)
    .filter((k) => k !== "EDGECA_CONFIG" && typeof env[k] === "string")
    .sort()
    .map((k) => `${k}=${String(env[k])}`);
  return [config, ...secrets].join("\u0000");
}

/** The isolate's signing core for `env` (loaded once). */
export function getSigningCore(env: SignerEnv): Promise<SigningCore> {
  const hit = byEnv.get(env);
  if (hit !== undefined) return hit;
  const key = contentKey(env);
  let core = byContent.get(key);
  if (core === undefined) {
    core = SigningCore.load(env);
    if (byContent.size >= MAX_ENTRIES) {
      const oldest = byContent.keys().next();
      if (oldest.done !== true) byContent.delete(oldest.value);
    }
    byContent.set(key, core);
  }
  byEnv.set(env, core);
  return core;
}
