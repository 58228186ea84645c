/** What a spawned test process writes, collected, and when it exits. */
import type { ChildProcessByStdio } from "node:child_process";
import type { Readable } from "node:stream";

export interface ChildOutput {
  /** Everything it wrote so far, stdout and stderr interleaved as they arrived. */
  readonly output: () => string;
  /** Its exit code (null when a signal ended it). */
  readonly exited: Promise<number | null>;
}

export function collectOutput(child: ChildProcessByStdio<null, Readable, Readable>): ChildOutput {
  let output = "";
  child.stdout.setEncoding("utf8").on("data", (c: string) => (output += c));
  child.stderr.setEncoding("utf8").on("data", (c: string) => (output += c));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => { resolve(code); }));
  return { output: () => output, exited };
}
