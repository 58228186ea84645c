/** A rotation step refused before anything was written; the message names the file, flag or issuer at fault. */
export class RotationError extends Error {
  override readonly name = "RotationError";
}
