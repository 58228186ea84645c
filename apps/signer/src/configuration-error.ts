/** A configuration or key problem found while loading; its message is what `/readyz` shows. */
export class ConfigurationError extends Error {
  override readonly name = "ConfigurationError";
}
