#!/usr/bin/env node
/**
 * The shim's entry point in the container: reads the environment, starts, and stops gracefully on SIGTERM
 * (releasing the leader Lease so the standby takes over at once).
 */
import { ConfigurationError } from "@edgeca/shared";
import { loadConfig } from "./config.ts";
import { startShim } from "./shim.ts";

async function main(): Promise<number> {
  let config;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigurationError) {
      process.stderr.write(`edgeca-shim: ${error.message}\n`);
      return 2;
    }
    throw error;
  }
  let shim;
  try {
    shim = await startShim(config, { processMetrics: true });
  } catch (error) {
    process.stderr.write(`edgeca-shim: cannot start: ${error instanceof Error ? error.message : String(error)}\n`);
    return error instanceof ConfigurationError ? 2 : 1;
  }
  const running = shim;
  await new Promise<void>((resolve) => {
    const onSignal = (signal: string): void => {
      process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), level: "info", msg: "signal received", signal })}\n`);
      resolve();
    };
    process.once("SIGTERM", onSignal);
    process.once("SIGINT", onSignal);
  });
  await running.stop();
  return 0;
}

process.exitCode = await main();
