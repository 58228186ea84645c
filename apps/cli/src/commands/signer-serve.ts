import { parseFlags, UsageError, type Command } from "../command.ts";
import { LocalMaterialError, startLocalSigner } from "@edgeca/edge";

const help = `usage: edgeca signer serve --dir DIR [--port N] [--rtt-ms N] [--workerd N] [--edge-threads N]

Runs the real signer Worker in workerd (Miniflare) behind the local edge emulator on 127.0.0.1: a TLS
server that asks for a client certificate without requiring it, verifies it against DIR/client-ca-cert.pem
and hands the result to the Worker as cf.tlsClientAuth, exactly as Cloudflare does. /healthz answers
without a certificate; /v1/* refuses with 401 unless the client presents DIR/client-cert.pem. The edge
forwards plain HTTP/1.1 over pooled loopback connections to workerd's own socket; it answers 405, 400
and 413 itself (problem+json) and never lets MF-* headers through. Also a self-hosted deployment mode:
see the README's "Self-hosted signer".

The Worker is bundled by wrangler (deploy --dry-run) from apps/signer; its bindings are EDGECA_CONFIG from
DIR/worker/config.json and the secrets in DIR/worker/secrets.json. The edge's serving CA is written to
DIR/edge-ca-cert.pem. The Worker's output, one audit record per /v1/sign decision, is printed and its
records appended to DIR/audit.jsonl (read it with edgeca audit --file DIR/audit.jsonl). Stops cleanly on
SIGINT/SIGTERM.

flags:
  --dir DIR    the directory edgeca init --out wrote (required)
  --port N     port on 127.0.0.1 (default: a free one)
  --rtt-ms N   delay every answer by N ms, to emulate the round trip to Cloudflare (default 0)
  --workerd N  workerd processes behind the edge: 1 only (the default); each process would keep its own
               issuance budgets, so N would allow N times every budget
  --edge-threads N
               run the edge on N worker threads sharing the port (default 1; 0: the main thread)

example:
  edgeca init --out .edgeca/local && edgeca signer serve --dir .edgeca/local --port 8443
  curl --cacert .edgeca/local/edge-ca-cert.pem --cert .edgeca/local/client-cert.pem \\
       --key .edgeca/local/client-key.pem https://127.0.0.1:8443/v1/bundle`;

function parseCount(flag: string, value: string | undefined, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < min || n > max) throw new UsageError(`${flag} must be a whole number from ${min} to ${max}, got "${value}"`);
  return n;
}

function parsePort(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const port = Number(value);
  if (!/^\d+$/.test(value) || port > 65_535) throw new UsageError(`--port must be a number from 0 to 65535, got "${value}"`);
  return port;
}

/** \`edgeca signer serve\`: the local signer stack in the foreground. */
export const signerServeCommand: Command = {
  name: "signer serve",
  summary: "run the signer Worker locally (workerd) behind the mTLS edge emulator",
  help,
  async run(argv) {
    const values = parseFlags(argv, { dir: { type: "string" }, port: { type: "string" }, "rtt-ms": { type: "string" }, workerd: { type: "string" }, "edge-threads": { type: "string" } });
    if (values.dir === undefined) throw new UsageError("--dir DIR is required (the directory edgeca init --out wrote)");
    const port = parsePort(values.port);
    const answerDelayMs = parseCount("--rtt-ms", values["rtt-ms"], 0, 60_000);
    const workerdInstances = parseCount("--workerd", values.workerd, 1, 16);
    // One budget store per cluster is a security property (README "Self-hosted signer"): a second workerd
    // would count the same cluster's issuances again from zero.
    if (workerdInstances !== undefined && workerdInstances > 1) {
      throw new UsageError(`--workerd ${workerdInstances}: each workerd process keeps its own issuance budgets (a Durable Object per process), so ${workerdInstances} processes would allow ${workerdInstances} times every budget; signer serve runs one`);
    }
    const edgeThreads = parseCount("--edge-threads", values["edge-threads"], 0, 16);
    // Listen for the stop signals before starting, so a signal during start-up (bundling, workerd) still
    // ends in a clean stop instead of Node's default exit that would leave workerd behind.
    let onSignal: (signal: NodeJS.Signals) => void = () => undefined;
    const stopSignal = new Promise<NodeJS.Signals>((resolve) => (onSignal = resolve));
    process.on("SIGINT", onSignal);
    process.on("SIGTERM", onSignal);
    const before = { SIGINT: process.listeners("SIGINT"), SIGTERM: process.listeners("SIGTERM") };
    let signer;
    try {
      signer = await startLocalSigner({
        dir: values.dir,
        ...(port === undefined ? {} : { port }),
        ...(answerDelayMs === undefined ? {} : { answerDelayMs }),
        // One thread of its own by default: measured faster at 1 and 16 in flight (README "Self-hosted signer").
        edgeThreads: edgeThreads ?? 1,
      });
    } catch (error) {
      if (error instanceof LocalMaterialError) throw new UsageError(error.message, { cause: error });
      if ((error as NodeJS.ErrnoException).code === "EADDRINUSE") throw new UsageError(`--port ${values.port ?? ""}: address in use`, { cause: error });
      throw error;
    }
    // Miniflare installs SIGINT/SIGTERM listeners that kill workerd and call process.exit(130/143) at once.
    // This command owns the process, so it takes those signals over and stops through signer.stop()
    // (Miniflare's dispose); Miniflare's "exit" hook stays as the safety net for workerd.
    for (const name of ["SIGINT", "SIGTERM"] as const) {
      for (const listener of process.listeners(name)) if (!before[name].includes(listener)) process.off(name, listener);
    }
    console.log(`listening on ${signer.url}`);
    console.log(`edge CA (trust it to reach the signer): ${signer.serverCaPath}`);
    if (signer.auditPath !== undefined) console.log(`audit records appended to ${signer.auditPath}`);
    if (answerDelayMs !== undefined && answerDelayMs > 0) console.log(`every answer delayed by ${answerDelayMs} ms (--rtt-ms)`);
    console.log(`${await stopSignal}: stopping`);
    await signer.stop();
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    console.log("stopped");
    return 0;
  },
};
