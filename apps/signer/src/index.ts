/** The signer Worker: `wrangler deploy` ships this module's default export. */
import { app } from "./app.ts";

// The budget counter's class must be exported by the main module for the EDGECA_BUDGETS binding (wrangler.jsonc).
export { IssuanceBudgets } from "./budget-object.ts";

export default app;
