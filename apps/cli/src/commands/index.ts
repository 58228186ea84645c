import type { Command } from "../command.ts";
import { signerServeCommand } from "./signer-serve.ts";
import { verifyCommand } from "./verify.ts";
import { initCommand } from "./init.ts";
import { demoCommand } from "./demo.ts";
import { localUpCommand } from "./local-up.ts";
import { caCommands } from "./ca-commands.ts";
import { auditCommand } from "./audit.ts";

/** Every sub-command, in the order `edgeca --help` lists them. */
export const commands: readonly Command[] = [
  initCommand,
  signerServeCommand,
  verifyCommand,
  localUpCommand,
  demoCommand,
  auditCommand,
  ...caCommands,
];
