import { parseArgs, type ParseArgsOptionsConfig } from "node:util";

/** One `edgeca` sub-command. Each lives in its own file under `commands/` and is listed in `commands/index.ts`. */
export interface Command {
  /** Words that select it, e.g. `"init"`, `"signer serve"`, `"local up"`. */
  readonly name: string;
  /** One line for the command list. */
  readonly summary: string;
  /** The whole `--help` text (usage line, flags with defaults, an example). */
  readonly help: string;
  /** Runs with the arguments after the command's words; resolves to the process exit status. */
  run(argv: readonly string[]): Promise<number>;
}

/**
 * A mistake in how the command was called or in a file it was given. `main` prints the message (which
 * names the flag or file) and exits with status 2, without a stack trace.
 */
export class UsageError extends Error {
  override readonly name = "UsageError";
}

/**
 * Parses a command's flags strictly (unknown flags and positionals are refused); a mistake becomes a
 * `UsageError` carrying `parseArgs`'s message, which names the flag.
 */
export function parseFlags<const T extends ParseArgsOptionsConfig>(argv: readonly string[], options: T) {
  try {
    return parseArgs({ args: [...argv], options, strict: true, allowPositionals: false }).values;
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error), { cause: error });
  }
}
