import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { rm } from "node:fs/promises";
import { parseFlags, type Command } from "../command.ts";
import { loadDevModule } from "./dev-module.ts";

const repoRoot = fileURLToPath(new URL("../../../../", import.meta.url));
const KEEP_DIR = join(repoRoot, ".edgeca", "demo");

const help = `usage: edgeca demo [--json] [--keep]        (from the repository root: npm run demo [-- --json] [-- --keep])

The main job, end to end on real parts. Starts the local stack (etcd + kube-apiserver built from their
pinned upstream sources on first use — that takes minutes once, then they are cached — the signer Worker in
workerd behind the mTLS edge emulator, and the shim with the RBAC of infra/k8s), then the real istiod in RA
mode for example.com/foo (built once from a pinned istio.io/istio commit, about 15 minutes) and a bookinfo
mesh's workloads as real pilot-agents (sidecars RSA-2048, ECDSA P-256 and P-384). Each chain an agent wrote
is verified against root-cert.pem from Secret istio-system/external-ca-cert (published by the shim), its
SPIFFE ID checked, and its CSR seen created, approved and deleted by istiod; one sidecar with an RSA-5120
key must be refused by the signer: the CSR's Failed reason is shown and the agent holds no certificate.
Then a greedy identity, acting as istiod, asks for 6 certificates at once against the demo's budget of 4
per 10 s per identity: the surplus is answered 429, retried by the shim and issued in the next window,
never Failed. The signer's audit records (STATE/signer/audit.jsonl) are counted and checked against the
cluster's CSRs. The mesh is spread over two clusters (cluster-a, cluster-b: a control plane, a shim and an
istiod each) on the one signer, each cluster signed by its own issuing CA under the shared root, and each
workload's chain is checked against the OTHER cluster's external-ca-cert. Last, pod certificates: a Node
and a Pod bound to it in cluster-a, and PodCertificateRequests created with that node's client certificate
as the kubelet creates them (P-256, RSA-3072): each issued and verified against the published root; a
P-521 request must come back Denied UnsupportedKeyType.
Prints a summary (counts, latency from CSR creation to certificate, where the keys are), stops everything
and exits 0 when every outcome is the intended one, 1 otherwise.

flags:
  --json   the last line of output is one JSON object: requested, issued, verified, refused, unexpected,
           p50Ms, p99Ms, maxMs, refusal, privateKeysInCluster, istiodOwnCaKeyInCluster, bundleMatchesSigner,
           istiod (the version that ran), stateDir, audit {records, issued, refused (throttled included)},
           throttled, greedy {spiffeId, requested, issued, failed, elapsedMs},
           clusters [{name, issued, verified, issuer}], crossClusterVerified,
           podCertificates {requested, issued, verified, refusal {keyType, condition {type, reason, message}}}
  --keep   leave the stack running with its state in .edgeca/demo/ (cluster-a/ and cluster-b/: admin
           kubeconfig, root-cert.pem; signer/: the signer's material),
           print "ready", and stop on Ctrl-C (SIGINT) or SIGTERM

progress goes to stderr; the summary to stdout.

example:
  npm run demo -- --keep
  kubectl --kubeconfig .edgeca/demo/kubeconfig get csr`;

/** `edgeca demo`: istiod's RA flow against the local stack. */
export const demoCommand: Command = {
  name: "demo",
  summary: "run a mesh of real pilot-agents through the real istiod in RA mode on the local stack, and verify them",
  help,
  async run(argv) {
    const values = parseFlags(argv, { json: { type: "boolean" }, keep: { type: "boolean" } });
    const keep = values.keep === true;
    // The demo runs on the test bed (kube-apiserver, istiod): loaded here, never by the production commands.
    const loaded = await loadDevModule("edgeca demo", async () => ({ testenv: await import("@edgeca/testenv"), demo: await import("../demo/index.ts") }));
    if (loaded === undefined) return 1;
    const { BinaryBuildError, ControlPlaneError } = loaded.testenv;
    const { runMeshDemo } = loaded.demo;
    if (keep) await rm(KEEP_DIR, { recursive: true, force: true });
    try {
      const result = await runMeshDemo({
        ...(keep ? { stateDir: KEEP_DIR, keep } : {}),
        print: (line) => { console.log(line); },
        log: (line) => { console.error(`edgeca demo: ${line}`); },
      });
      if (values.json === true) console.log(JSON.stringify(result));
      return result.unexpected === 0 && result.issued + result.refused === result.requested ? 0 : 1;
    } catch (error) {
      if (error instanceof BinaryBuildError || error instanceof ControlPlaneError) {
        console.error(`edgeca demo: ${error.message}`);
        return 1;
      }
      throw error;
    }
  },
};
