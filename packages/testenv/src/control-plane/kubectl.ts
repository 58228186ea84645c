import { spawn } from "node:child_process";

/** What a kubectl run printed and how it ended. */
export interface KubectlResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs the `kubectl` on PATH against `kubeconfigPath` (never the user's own ~/.kube/config), optionally
 * feeding `input` on stdin. Bounded by `timeoutMs` (default 60 s), after which it is killed.
 */
export async function runKubectl(
  kubeconfigPath: string,
  args: readonly string[],
  options: { readonly input?: string; readonly timeoutMs?: number } = {},
): Promise<KubectlResult> {
  const child = spawn("kubectl", ["--kubeconfig", kubeconfigPath, ...args], {
    stdio: ["pipe", "pipe", "pipe"],
    env: { ...process.env, KUBECONFIG: kubeconfigPath },
  });
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (c: string) => (stdout += c));
  child.stderr.setEncoding("utf8").on("data", (c: string) => (stderr += c));
  child.stdin.end(options.input ?? "");
  const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 60_000);
  try {
    const code = await new Promise<number>((resolve, reject) => {
      child.on("error", reject);
      child.on("close", (status) => {
        resolve(status ?? -1);
      });
    });
    return { code, stdout, stderr };
  } finally {
    clearTimeout(timer);
  }
}
