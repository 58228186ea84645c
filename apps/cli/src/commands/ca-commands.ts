import type { Command } from "../command.ts";
import { caActivateCommand } from "./ca-activate.ts";
import { caAddClusterCommand } from "./ca-add-cluster.ts";
import { caAddIssuerCommand } from "./ca-add-issuer.ts";
import { caListCommand } from "./ca-list.ts";
import { caRemoveCommand } from "./ca-remove.ts";
import { caRemoveClusterCommand } from "./ca-remove-cluster.ts";

/** The `edgeca ca …` commands, in the order of a rotation, then the cluster commands. */
export const caCommands: readonly Command[] = [caListCommand, caAddIssuerCommand, caActivateCommand, caRemoveCommand, caAddClusterCommand, caRemoveClusterCommand];
