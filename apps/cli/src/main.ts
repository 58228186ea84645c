#!/usr/bin/env node
/** `edgeca`: the operator's command line. Run from the repository root as `npm run edgeca -- <command>`. */
import "reflect-metadata";
import { UsageError } from "./command.ts";
import { commands } from "./commands/index.ts";

function overview(): string {
  const width = Math.max(...commands.map((c) => c.name.length), 4);
  const lines = commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`);
  return ["usage: edgeca <command> [flags]", "", "commands:", ...lines, "", "Every command takes --help."].join("\n");
}

/** Finds the command whose words start argv (the longest match wins) and runs it. */
export async function main(argv: readonly string[]): Promise<number> {
  if (argv.length === 0 || argv[0] === "--help" || argv[0] === "-h" || argv[0] === "help") {
    console.log(overview());
    return argv.length === 0 ? 2 : 0;
  }
  const byLength = [...commands].sort((a, b) => b.name.split(" ").length - a.name.split(" ").length);
  const command = byLength.find((c) => {
    const words = c.name.split(" ");
    return words.every((w, i) => argv[i] === w);
  });
  if (command === undefined) {
    console.error(`edgeca: unknown command "${argv.join(" ")}"\n\n${overview()}`);
    return 2;
  }
  const rest = argv.slice(command.name.split(" ").length);
  if (rest.includes("--help") || rest.includes("-h")) {
    console.log(command.help);
    return 0;
  }
  try {
    return await command.run(rest);
  } catch (error) {
    if (error instanceof UsageError) {
      console.error(`edgeca ${command.name}: ${error.message}\n(see: edgeca ${command.name} --help)`);
      return 2;
    }
    throw error;
  }
}

process.exitCode = await main(process.argv.slice(2));
