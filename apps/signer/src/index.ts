/** The signer Worker: `wrangler deploy` ships this module's default export. */
import { app } from "./app.ts";

export default app;
