/** Flag parsing shared by the `edgeca ca …` commands: every one needs --dir and --id, and refusals are usage errors. */
import { parseFlags, UsageError } from "../command.ts";
import { RotationError } from "./rotation-error.ts";

/** Parses `argv` with `booleans` as extra switches; --dir is required, --id when `needsId`, --cluster NAME only when `withCluster`. */
export function caFlags<B extends string>(
  argv: readonly string[],
  needsId: boolean,
  booleans: readonly B[] = [],
  withCluster = false,
): { readonly dir: string; readonly id: string; readonly cluster: string | undefined; readonly flags: Readonly<Record<B, boolean>> } {
  const options: Record<string, { type: "string" | "boolean" }> = { dir: { type: "string" }, id: { type: "string" }, cluster: { type: "string" } };
  for (const b of booleans) options[b] = { type: "boolean" };
  const values = parseFlags(argv, options);
  const dir = values.dir;
  if (typeof dir !== "string" || dir === "") throw new UsageError("--dir DIR is required (a directory made by edgeca init --out DIR)");
  const id = values.id;
  if (needsId && (typeof id !== "string" || id === "")) throw new UsageError("--id ID is required");
  if (!needsId && id !== undefined) throw new UsageError("--id is not a flag of this command");
  const cluster = values.cluster;
  if (!withCluster && cluster !== undefined) throw new UsageError("--cluster is not a flag of this command");
  if (cluster === "" || cluster === true) throw new UsageError("--cluster NAME: a cluster name of the configuration");
  const flags = Object.fromEntries(booleans.map((b) => [b, values[b] === true])) as Record<B, boolean>;
  return { dir, id: typeof id === "string" ? id : "", cluster: typeof cluster === "string" ? cluster : undefined, flags };
}

/** Runs a rotation step, turning its refusal into a usage error (printed without a stack, status 2). */
export async function asUsage<T>(step: () => Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (error) {
    if (error instanceof RotationError) throw new UsageError(error.message, { cause: error });
    throw error;
  }
}
