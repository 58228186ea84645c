import { readFile } from "node:fs/promises";

/** The last `lines` lines of a log file, for error messages; a note instead when it cannot be read. */
export async function logTail(file: string, lines = 40): Promise<string> {
  try {
    const text = await readFile(file, "utf8");
    return text.split("\n").slice(-lines - 1).join("\n");
  } catch (error) {
    return `(cannot read ${file}: ${error instanceof Error ? error.message : String(error)})`;
  }
}
