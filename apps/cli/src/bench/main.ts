#!/usr/bin/env node
/**
 * Benchmarks: `npm run bench -- <name> [--json] [--count N] [--seconds S] [--concurrency C] …`, one entry
 * of BENCHMARKS per name. Prints a table; with --json the last line is one JSON object.
 */
import "reflect-metadata";
import { parseArgs } from "node:util";
import { MAX_BATCH_ITEMS } from "@edgeca/shared";
import { benchSummary, formatBenchTable } from "./bench-report.ts";
import { CfsslMissingError } from "./cfssl-server.ts";
import { loadDevModule } from "../commands/dev-module.ts";
import type { SignerId } from "./e2e-bench.ts";
import { e2eSummary, formatE2eTable } from "./e2e-report.ts";
import { untilInterrupted } from "./interrupt.ts";
import { formatHttpTable, httpSummary } from "./http-report.ts";

type Flags = Readonly<Record<string, string | boolean | undefined>>;
type Log = (line: string) => void;

/** One benchmark: its usage line and how it runs from the parsed flags (throws on a bad flag value). */
interface Benchmark {
  readonly usage: string;
  run(values: Flags, log: Log): Promise<{ readonly table: string; readonly summary: unknown }>;
}

/** A flag with a value the benchmark cannot use; main prints it with the usage and exits 2. */
class FlagError extends Error {
  override readonly name = "FlagError";
}

/** The test bed (@edgeca/testenv) is not installed; loadDevModule has said so on stderr, main exits 1. */
class TestBedMissing extends Error {
  override readonly name = "TestBedMissing";
}

/** Each benchmark's code runs on the test bed (CSRs from testenv, a control plane): loaded when it runs. */
async function load<T>(name: string, module: () => Promise<T>): Promise<T> {
  const loaded = await loadDevModule(`npm run bench -- ${name}`, module);
  if (loaded === undefined) throw new TestBedMissing(name);
  return loaded;
}

function positiveInt(value: string | undefined, fallback: number, flag: string): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new FlagError(`${flag} must be a positive integer, got "${value}"`);
  return n;
}

function nonNegativeInt(value: string | undefined, fallback: number, flag: string): number {
  return value === "0" ? 0 : positiveInt(value, fallback, flag);
}

/** --batch: CSRs per /v1/sign-batch, 0–MAX_BATCH_ITEMS (0 and 1 leave the batch row out). */
function batchOf(value: string | undefined): number {
  const n = nonNegativeInt(value, 16, "--batch");
  if (n > MAX_BATCH_ITEMS) throw new FlagError(`--batch must be at most ${MAX_BATCH_ITEMS} (the signer's limit per batch), got "${value ?? ""}"`);
  return n;
}

function signerIds(value: string | undefined, known: readonly SignerId[]): readonly SignerId[] | undefined {
  if (value === undefined) return undefined;
  const ids = value.split(",");
  const bad = ids.find((id) => !(known as readonly string[]).includes(id));
  if (bad !== undefined || ids.length === 0) throw new FlagError(`--signers takes a comma-separated list of ${known.join(", ")}; got "${value}"`);
  return ids as SignerId[];
}

const str = (value: string | boolean | undefined): string | undefined => (typeof value === "string" ? value : undefined);
const dirOf = (values: Flags): { dir?: string } => (typeof values.dir === "string" ? { dir: values.dir } : {});

const BENCHMARKS: Readonly<Record<string, Benchmark>> = {
  signer: {
    usage: "signer [--json] [--count N (default 2000)] [--seconds S (default 3)] [--concurrency C (default 16)] [--dir DIR (edgeca init material; default: a fresh init)]",
    async run(values, log) {
      const options = {
        count: positiveInt(str(values.count), 2000, "--count"),
        seconds: positiveInt(str(values.seconds), 3, "--seconds"),
        concurrency: positiveInt(str(values.concurrency), 16, "--concurrency"),
        ...dirOf(values),
      };
      const { runSignerBench } = await load("signer", () => import("./signer-bench.ts"));
      const result = await runSignerBench(options, log);
      return { table: formatBenchTable(result), summary: benchSummary(result) };
    },
  },
  http: {
    usage: "http [--json] [--count N (default 4000)] [--seconds S (default 8)] [--concurrency C (default 16)] [--workerd N (default 1)] [--edge-threads N (default 1, as signer serve)] [--batch B (CSRs per /v1/sign-batch for the batch row, 0 or 1: none; default 16)] [--dir DIR] (needs cfssl: golang-cfssl)",
    async run(values, log) {
      const options = {
        count: positiveInt(str(values.count), 4000, "--count"),
        seconds: positiveInt(str(values.seconds), 8, "--seconds"),
        concurrency: positiveInt(str(values.concurrency), 16, "--concurrency"),
        workerdInstances: positiveInt(str(values.workerd), 1, "--workerd"),
        edgeThreads: nonNegativeInt(str(values["edge-threads"]), 1, "--edge-threads"),
        batch: batchOf(str(values.batch)),
        ...dirOf(values),
      };
      const { runHttpBench } = await load("http", () => import("./http-bench.ts"));
      const result = await runHttpBench(options, log);
      return { table: formatHttpTable(result), summary: httpSummary(result) };
    },
  },
  e2e: {
    usage:
      "e2e [--json] [--count N (default 2000)] [--in-flight K (default 16)] [--signer-rtt-ms MS (default 0)] [--wait-seconds S (default 120)] [--kcm-qps Q (default 1000)] [--signers kube-controller-manager,edgeca]",
    async run(values, log) {
      const { runE2eBench, SIGNER_IDS } = await load("e2e", () => import("./e2e-bench.ts"));
      const signers = signerIds(str(values.signers), SIGNER_IDS);
      const options = {
        count: positiveInt(str(values.count), 2000, "--count"),
        inFlight: positiveInt(str(values["in-flight"]), 16, "--in-flight"),
        signerRttMs: nonNegativeInt(str(values["signer-rtt-ms"]), 0, "--signer-rtt-ms"),
        waitSeconds: positiveInt(str(values["wait-seconds"]), 120, "--wait-seconds"),
        kcmQps: positiveInt(str(values["kcm-qps"]), 1000, "--kcm-qps"),
        ...(signers === undefined ? {} : { signers }),
      };
      const result = await untilInterrupted((signal) => runE2eBench({ ...options, signal }, log), log);
      return { table: formatE2eTable(result), summary: e2eSummary(result) };
    },
  },
};

const USAGE = `usage: npm run bench -- ${Object.values(BENCHMARKS).map((b) => b.usage).join("\n       npm run bench -- ")}`;

async function main(argv: readonly string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: {
        json: { type: "boolean" },
        dir: { type: "string" },
        count: { type: "string" },
        seconds: { type: "string" },
        concurrency: { type: "string" },
        workerd: { type: "string" },
        "edge-threads": { type: "string" },
        batch: { type: "string" },
        "in-flight": { type: "string" },
        "signer-rtt-ms": { type: "string" },
        "wait-seconds": { type: "string" },
        "kcm-qps": { type: "string" },
        signers: { type: "string" },
        help: { type: "boolean" },
      },
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
  const benchmark = positionals.length === 1 ? BENCHMARKS[positionals[0] ?? ""] : undefined;
  if (benchmark === undefined) {
    console.error(`unknown benchmark "${positionals.join(" ")}"\n${USAGE}`);
    return 2;
  }
  let outcome;
  try {
    outcome = await benchmark.run(values, (line) => {
      console.error(`bench: ${line}`);
    });
  } catch (error) {
    if (error instanceof TestBedMissing) return 1;
    if (error instanceof CfsslMissingError) {
      console.error(`bench: ${error.message}`);
      return 1;
    }
    if (!(error instanceof FlagError)) throw error;
    console.error(`${error.message}\n${USAGE}`);
    return 2;
  }
  console.log(outcome.table);
  if (values.json === true) console.log(JSON.stringify(outcome.summary));
  return 0;
}

process.exitCode = await main(process.argv.slice(2));
