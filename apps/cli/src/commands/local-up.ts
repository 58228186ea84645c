import { resolve } from "node:path";
import { isValidTrustDomain } from "@edgeca/shared";
import { parseFlags, UsageError, type Command } from "../command.ts";
import type { LocalClusterSpec, PartStarter } from "../local/index.ts";
import { loadDevModule } from "./dev-module.ts";

const MAX_CLUSTERS = 4;

const help = `usage: edgeca local up --state-dir DIR [--clusters N] [--no-signer] [--no-shim] [--signer-name NAME]
                       [--trust-domain DOMAIN[,DOMAIN…]] [--allowed-requestor USER]...

Runs the local stack in the foreground: a real etcd and kube-apiserver (built from the pinned upstream
sources on first use, which takes minutes; cached afterwards), the signer (the Worker in workerd behind the
mTLS edge emulator, with fresh init material) and the shim. Prints a line that is exactly "ready" on
stdout once everything is usable; progress goes to stderr. SIGINT or SIGTERM stops everything.

files in DIR:
  kubeconfig     admin kubeconfig (client certificate in system:masters)
  root-cert.pem  the signer's root (with the signer)
  with --clusters N (N ≥ 2), one directory per cluster, cluster-a, cluster-b, …:
  cluster-a/kubeconfig, cluster-a/root-cert.pem, cluster-a/shim.log, cluster-a/signer/ (its client
  certificate); DIR/signer/ holds the one signer's material (edgeca ca list --dir DIR/signer)

flags:
  --state-dir DIR            where the files go (created if missing); required
  --clusters N               N control planes (1–${MAX_CLUSTERS}, default 1), ONE signer, a shim in each;
                             each cluster has its own client certificate, token check, trust domain and
                             issuing CA under the shared root
  --no-signer                do not start the signer
  --no-shim                  do not start the shim
  --signer-name NAME         default example.com/foo
  --trust-domain DOMAIN      default cluster.local; with --clusters, one per cluster comma-separated,
                             or one for all
  --allowed-requestor USER   may be repeated; default system:serviceaccount:istio-system:istiod

Nothing restarts a part that dies (etcd, kube-apiserver, the shim): local up then says which one died and
how, quotes the end of its log, stops the rest and exits 3. A crashed workerd is the exception: Miniflare
restarts it (local up says so on stderr) and the signer serves again; one that does not come back is a
dead part too.

exit status: 0 stopped by a signal (or the parent exiting), 1 the stack failed to start (the message quotes
the logs), 2 usage error, 3 a part died while the stack ran (the message names it and quotes its log)

example:
  edgeca local up --state-dir .edgeca/local --no-shim
  kubectl --kubeconfig .edgeca/local/kubeconfig get csr
  edgeca local up --state-dir .edgeca/multi --clusters 2 --trust-domain a.example,b.example`;

/** `edgeca local up`: the local stack in the foreground until SIGINT/SIGTERM. */
export const localUpCommand: Command = {
  name: "local up",
  summary: "run a local control plane (+ signer, shim) in the foreground",
  help,
  async run(argv) {
    const values = parseFlags(argv, {
      "state-dir": { type: "string" },
      clusters: { type: "string" },
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
    const count = values.clusters === undefined ? 1 : Number(values.clusters);
    if (!Number.isInteger(count) || count < 1 || count > MAX_CLUSTERS) throw new UsageError(`--clusters must be an integer from 1 to ${MAX_CLUSTERS}, got "${values.clusters ?? ""}"`);
    const domains = (values["trust-domain"] ?? "cluster.local").split(",").map((d) => d.trim());
    if (domains.some((d) => !isValidTrustDomain(d))) throw new UsageError(`--trust-domain "${values["trust-domain"] ?? ""}": each a SPIFFE trust domain (lowercase letters, digits, ".", "-", "_")`);
    if (domains.length !== 1 && domains.length !== count) throw new UsageError(`--trust-domain: ${domains.length} trust domains for ${count} cluster(s); give one, or one per cluster`);
    const trustDomain = domains[0] ?? "cluster.local";
    const clusters: LocalClusterSpec[] | undefined =
      count === 1 ? undefined : Array.from({ length: count }, (_, i) => ({ name: `cluster-${String.fromCharCode(97 + i)}`, trustDomain: domains[i] ?? trustDomain }));
    const allowedRequestors = values["allowed-requestor"] ?? ["system:serviceaccount:istio-system:istiod"];

    // The stack runs on the test bed: loaded here, so `edgeca signer serve` and the others never reach it.
    const local = await loadDevModule("edgeca local up", () => import("../local/index.ts"));
    if (local === undefined) return 1;
    const { inEachCluster, localParts, runLocalUp } = local;
    const parts: PartStarter[] = [];
    if (values["no-signer"] !== true) {
      if (localParts.signer === undefined) throw new UsageError("the local signer is not available in this build yet; pass --no-signer");
      parts.push(localParts.signer);
    }
    if (values["no-shim"] !== true) {
      if (localParts.shim === undefined) throw new UsageError("the shim is not available in this build yet; pass --no-shim");
      parts.push(inEachCluster("shims", localParts.shim));
    }

    return await runLocalUp({ stateDir: resolve(stateDir), signerName, trustDomain, allowedRequestors, parts, ...(clusters === undefined ? {} : { clusters }) });
  },
};
