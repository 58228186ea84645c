/**
 * The development commands (`local up`, `demo`, `bench`) run on the test bed, @edgeca/testenv (the
 * kube-apiserver builder, istiod, test PKI), a devDependency of the CLI: an install for production
 * (`pnpm install --prod`) does not have it. Those commands load their code with `loadDevModule` at their
 * entry, so the production commands never reach testenv and a missing test bed is a sentence, not a stack.
 * eslint.config.js forbids static imports of testenv (and of local/, demo/, bench/) everywhere else.
 */

/** The package the development commands need and production installs leave out. */
const TEST_BED_PACKAGE = "@edgeca/testenv";

/** True when `error` is the module loader saying the test bed package cannot be found. */
function isTestBedMissing(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as NodeJS.ErrnoException).code;
  return (code === "ERR_MODULE_NOT_FOUND" || code === "MODULE_NOT_FOUND") && error.message.includes(`'${TEST_BED_PACKAGE}'`);
}

/** What a development command (`commandLine`, e.g. "edgeca local up") prints when the test bed is absent. */
function testBedMissingMessage(commandLine: string): string {
  return (
    `\`${commandLine}\` runs the development stack: ${TEST_BED_PACKAGE} is not installed ` +
    `(a devDependency of @edgeca/cli; production installs leave it out). ` +
    `Run it from a checkout with its development dependencies (pnpm install, without --prod).`
  );
}

/**
 * Loads a development command's module; when the test bed is missing, prints why on stderr and resolves to
 * undefined (the caller exits 1). Any other failure to load is thrown as it is.
 */
export async function loadDevModule<T>(commandLine: string, load: () => Promise<T>): Promise<T | undefined> {
  try {
    return await load();
  } catch (error) {
    if (!isTestBedMissing(error)) throw error;
    console.error(testBedMissingMessage(commandLine));
    return undefined;
  }
}
