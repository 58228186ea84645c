/**
 * The operator's configuration is wrong, and the message says what: the shim's environment (it exits 2 with
 * the message), the signer's `EDGECA_CONFIG` and CA key secrets (its `/readyz` answers 503 with it). One class
 * for both, so the shim, the signer and the CLI catch the same name.
 */
export class ConfigurationError extends Error {
  override readonly name = "ConfigurationError";
}
