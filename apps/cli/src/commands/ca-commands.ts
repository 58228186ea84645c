import type { Command } from "../command.ts";
import { caActivateCommand } from "./ca-activate.ts";
import { caAddIssuerCommand } from "./ca-add-issuer.ts";
import { caListCommand } from "./ca-list.ts";
import { caRemoveCommand } from "./ca-remove.ts";

/** The `edgeca ca …` commands, in the order of a rotation. */
export const caCommands: readonly Command[] = [caListCommand, caAddIssuerCommand, caActivateCommand, caRemoveCommand];
