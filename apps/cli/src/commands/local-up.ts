import { resolve } from "node:path";
import { parseFlags, UsageError, type Command } from "../command.ts";
import { watchParent } from "../parent-watch.ts";
import { localParts, startLocalStack } from "../local/index.ts";
import type { LocalStack, PartStarter } from "../local/index.ts";
import { BinaryBuildError, ControlPlaneError } from "@edgeca/testenv";

const help = `usage: edgeca local up --state-dir DIR [--no-signer] [--no-shim] [--signer-name NAME]
                       [--trust-domain DOMAIN] [--allowed-requestor USER]...

Runs the local stack in the foreground: a real etcd and kube-apiserver (built from the pinned upstream
sources on first use, which takes minutes; cached afterwards), the signer (the Worker in workerd behind the
mTLS edge emulator, with fresh init material) and the shim. Prints a line that is exactly "ready" on
stdout once everything is usable; progress goes to stderr. SIGINT or SIGTERM stops everything.

files in DIR:
  kubeconfig     admin kubeconfig (client certificate in system:masters)
  root-cert.pem  the signer's root (with the signer)

flags:
  --state-dir DIR            where the files go (created if missing); required
  --no-signer                do not start the signer
  --no-shim                  do not start the shim
  --signer-name NAME         default example.com/foo
  --trust-domain DOMAIN      default cluster.local
  --allowed-requestor USER   may be repeated; default system:serviceaccount:istio-system:istiod

exit status: 0 stopped by a signal, 1 the stack failed to start (the message quotes the logs), 2 usage error

example:
  edgeca local up --state-dir .edgeca/local --no-shim
  kubectl --kubeconfig .edgeca/local/kubeconfig get csr`;

/** `edgeca local up`: the local stack in the foreground until SIGINT/SIGTERM. */
export const localUpCommand: Command = {
  name: "local up",
  summary: "run a local control plane (+ signer, shim) in the foreground",
  help,
  async run(argv) {
    const values = parseFlags(argv, {
      "state-dir": { type: "string" },
      "no-signer": { type: "boolean" },
      "no-shim": { type: "boolean" },
      "signer-name": { type: "string" },
      "trust-domain": { type: "string" },
      "allowed-requestor": { type: "string", multiple: true },
    });
    const stateDir = values["state-dir"];
    if (stateDir === undefined || stateDir === "") throw new UsageError("--state-dir DIR is required");
    const signerName = values["signer-name"] ?? "example.com/foo";
    if (!/^[a-z0-9.-]+\/[A-Za-z0-9._-]+$/.test(signerName)) {
      throw new UsageError(`--signer-name must look like DOMAIN/NAME (e.g. example.com/foo), got "${signerName}"`);
    }
    const trustDomain = values["trust-domain"] ?? "cluster.local";
    const allowedRequestors = values["allowed-requestor"] ?? ["system:serviceaccount:istio-system:istiod"];

    const parts: PartStarter[] = [];
    if (values["no-signer"] !== true) {
      if (localParts.signer === undefined) throw new UsageError("the local signer is not available in this build yet; pass --no-signer");
      parts.push(localParts.signer);
    }
    if (values["no-shim"] !== true) {
      if (localParts.shim === undefined) throw new UsageError("the shim is not available in this build yet; pass --no-shim");
      parts.push(localParts.shim);
    }

    const log = (line: string): void => {
      process.stderr.write(`edgeca local up: ${line}\n`);
    };
    // Listen before starting, so a signal during start-up still stops what has started.
    let signalled: NodeJS.Signals | undefined;
    let wake: () => void = () => undefined;
    const onSignal = (signal: NodeJS.Signals): void => {
      signalled = signal;
      wake();
    };
    process.on("SIGINT", onSignal);
    process.on("SIGTERM", onSignal);
    const before = { SIGINT: process.listeners("SIGINT"), SIGTERM: process.listeners("SIGTERM") };
    try {
      let stack: LocalStack;
      try {
        stack = await startLocalStack({ stateDir: resolve(stateDir), signerName, trustDomain, allowedRequestors, parts, log });
      } catch (error) {
        // The build or start-up failure already says which step failed and quotes the logs.
        if (error instanceof BinaryBuildError || error instanceof ControlPlaneError) {
          log(`failed: ${error.message}`);
          return 1;
        }
        throw error;
      }
      // Miniflare (the signer part) adds SIGINT/SIGTERM listeners that call process.exit at once, which
      // would skip the orderly stop below. This command owns the process: it takes those signals back;
      // Miniflare's "exit" hook stays as the safety net for workerd.
      for (const name of ["SIGINT", "SIGTERM"] as const) {
        for (const listener of process.listeners(name)) if (!before[name].includes(listener)) process.off(name, listener);
      }
      try {
        if (signalled === undefined) {
          log(`kubeconfig: ${stack.kubeconfigPath}`);
          process.stdout.write("ready\n");
          // Nothing else holds the event loop open (the control plane's processes are unref'd), and a
          // pending promise does not: the parent watch's timer keeps the process alive until stopped.
          const unwatch = watchParent(() => {
            log("the parent process exited (npm does not forward SIGTERM)");
            onSignal("SIGHUP");
          });
          await new Promise<void>((done) => {
            wake = done;
          });
          unwatch();
        }
        log(`${signalled ?? "signal"} received, stopping`);
      } finally {
        await stack.stop();
      }
      log("stopped");
      return 0;
    } finally {
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
    }
  },
};
