/** The signer Worker: `wrangler deploy` ships this module's default export. */
import { fetchSigner } from "./app.ts";
import type { SignerEnv } from "./env.ts";

// The budget counter's class must be exported by the main module for the EDGECA_BUDGETS binding (wrangler.jsonc).
export { IssuanceBudgets } from "./budget-object.ts";

export default { fetch: fetchSigner } satisfies ExportedHandler<SignerEnv>;
