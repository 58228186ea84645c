import { readdirSync, readFileSync } from "node:fs";

/**
 * Pids of live processes whose command line contains `text` (read from /proc; Linux only). Tests use it to
 * prove that stopping something left no process behind, e.g. nothing still mentions a data directory.
 */
export function processesMentioning(text: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, "utf8").replaceAll("\0", " ");
      if (cmdline.includes(text)) found.push(Number(entry));
    } catch {
      // The process exited while we looked.
    }
  }
  return found;
}
