import type { Command } from "../command.ts";
import { signerServeCommand } from "./signer-serve.ts";
import { verifyCommand } from "./verify.ts";
import { demoCommand } from "./demo.ts";
import { localUpCommand } from "./local-up.ts";

/** Every sub-command, in the order `edgeca --help` lists them. */
export const commands: readonly Command[] = [
  signerServeCommand,
  verifyCommand,
  localUpCommand,
  demoCommand,
];
