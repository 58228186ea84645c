#!/usr/bin/env node
/**
 * Benchmarks: `npm run bench -- signer [--json] [--count N] [--seconds S] [--concurrency C]`.
 * Prints a table; with --json the last line is one JSON object (see bench-report.ts).
 */
import "reflect-metadata";
import { parseArgs } from "node:util";
import { benchSummary, formatBenchTable } from "./bench-report.ts";
import { runSignerBench } from "./signer-bench.ts";

const USAGE = "usage: npm run bench -- signer [--json] [--count N (default 2000)] [--seconds S (default 3)] [--concurrency C (default 16)] [--dir DIR (edgeca init material; default: a fresh init)]";

function positiveInt(value: string | undefined, fallback: number, flag: string): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${flag} must be a positive integer, got "${value}"`);
  return n;
}

async function main(argv: readonly string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: { json: { type: "boolean" }, dir: { type: "string" }, count: { type: "string" }, seconds: { type: "string" }, concurrency: { type: "string" }, help: { type: "boolean" } },
    });
  } catch (error) {
    console.error(`${(error as Error).message}\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help === true) {
    console.log(USAGE);
    return 0;
  }
  if (positionals.length !== 1 || positionals[0] !== "signer") {
    console.error(`unknown benchmark "${positionals.join(" ")}"\n${USAGE}`);
    return 2;
  }
  let options;
  try {
    options = {
      count: positiveInt(values.count, 2000, "--count"),
      seconds: positiveInt(values.seconds, 3, "--seconds"),
      concurrency: positiveInt(values.concurrency, 16, "--concurrency"),
      ...(values.dir === undefined ? {} : { dir: values.dir }),
    };
  } catch (error) {
    console.error(`${(error as Error).message}\n${USAGE}`);
    return 2;
  }
  const result = await runSignerBench(options, (line) => {
    console.error(`bench: ${line}`);
  });
  console.log(formatBenchTable(result));
  if (values.json === true) console.log(JSON.stringify(benchSummary(result)));
  return 0;
}

process.exitCode = await main(process.argv.slice(2));
