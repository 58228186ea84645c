/**
 * The end-to-end stack for the shim's tests, all real parts:
 *   - the run's shared kube-apiserver (packages/testenv global setup) with infra/k8s/overlays/local applied
 *     by `kubectl apply -k`, and istiod's RBAC from Istio's chart plus the Custom CA task's overlay;
 *   - the signer: `edgeca init` material (requiring the shim's ServiceAccount token, verified against this
 *     cluster's JWKS) served by the real Worker in workerd behind the mTLS edge emulator;
 *   - shims started in-process with a kubeconfig for the edgeca-system/edgeca-shim ServiceAccount (so
 *     exactly the RBAC of infra/k8s applies), the mTLS client certificate and a projected-style token file.
 */
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { startLocalSigner, type LocalSigner } from "@edgeca/edge";
import type { ControlPlaneClient, KubeApiClient } from "@edgeca/testenv";
import { KubeConfig } from "@kubernetes/client-node";
import { loadConfig, type ShimConfig } from "../../src/config.ts";
import type { LogRecord } from "../../src/logger.ts";
import { createDefaultSigner, startShim, type Shim } from "../../src/shim.ts";
import type { SignerClient } from "../../src/signer-client.ts";
import { createCsr, decide } from "../support/csr-api.ts";
import { workloadCsr, type WorkloadCsr, type WorkloadKind } from "../support/workload-csr.ts";
import { holdable, type HeldSigner } from "./held-signer.ts";

export const SIGNER_NAME = "example.com/foo";
export const OTHER_SIGNER_NAME = "example.com/bar";
export const TRUST_DOMAIN = "cluster.local";
export const TOKEN_AUDIENCE = "edgeca-signer";
export const SHIM_NAMESPACE = "edgeca-system";
export const SHIM_SERVICE_ACCOUNT = "edgeca-shim";

/** A name of its own for each CSR, so tests sharing a cluster never meet. */
export const unique = (prefix: string): string => `${prefix}-${randomBytes(4).toString("hex")}`;
export const spiffe = (ns: string, sa: string): string => `spiffe://${TRUST_DOMAIN}/ns/${ns}/sa/${sa}`;

const repoRoot = fileURLToPath(new URL("../../../../", import.meta.url));
const run = promisify(execFile);

export interface RunningShim {
  readonly shim: Shim;
  readonly logs: LogRecord[];
  readonly signer: HeldSigner;
}

export interface StartShimOptions {
  /** Configuration variables over the Deployment's (loadConfig's names). */
  readonly env?: Record<string, string>;
  /** A layer around the real signer client, for faults no real part can produce. */
  readonly wrap?: (real: SignerClient) => SignerClient;
}

export class E2EStack {
  readonly #workDir: string;
  #signer: LocalSigner | undefined;
  #port = 0;

  private constructor(
    readonly cp: ControlPlaneClient,
    readonly istiod: KubeApiClient,
    readonly shimApi: KubeApiClient,
    readonly shimKubeconfigPath: string,
    workDir: string,
  ) {
    this.#workDir = workDir;
  }

  /** Where `edgeca init` wrote the signer's material (root-cert.pem, client-cert.pem, …). */
  get materialDir(): string {
    return join(this.#workDir, "signer");
  }

  get signerRunning(): boolean {
    return this.#signer !== undefined;
  }

  get signerUrl(): string {
    if (this.#signer === undefined) throw new Error("the signer is not running");
    return this.#signer.url;
  }

  static async start(cp: ControlPlaneClient): Promise<E2EStack> {
    const workDir = await mkdtemp(join(tmpdir(), "edgeca-shim-e2e-"));
    const applied = await cp.kubectl(["apply", "-k", join(repoRoot, "infra/k8s/overlays/local")]);
    if (applied.code !== 0) throw new Error(`kubectl apply -k infra/k8s/overlays/local failed: ${applied.stderr}`);
    await grantIstiod(cp);

    const istiodToken = await cp.mintToken({ namespace: "istio-system", serviceAccount: "istiod" });
    const shimKube = await cp.kubeconfigForServiceAccount(SHIM_NAMESPACE, SHIM_SERVICE_ACCOUNT);
    const stack = new E2EStack(cp, cp.clientForToken(istiodToken), cp.clientForToken(shimKube.token), shimKube.kubeconfigPath, workDir);
    await stack.writeTokenFile();
    await stack.initMaterial(false);
    await stack.startSigner();
    return stack;
  }

  /** Writes the shim's signer token (audience = the signer's) as kubelet would project it. */
  async writeTokenFile(): Promise<void> {
    const token = await this.cp.mintToken({ namespace: SHIM_NAMESPACE, serviceAccount: SHIM_SERVICE_ACCOUNT, audiences: [TOKEN_AUDIENCE], expirationSeconds: 3600 });
    await writeFile(join(this.#workDir, "signer-token"), token, { mode: 0o600 });
  }

  /** Writes a token for `audience` to a new file and returns its path (for a misconfigured shim). */
  async tokenFileFor(audience: string): Promise<string> {
    const token = await this.cp.mintToken({ namespace: SHIM_NAMESPACE, serviceAccount: SHIM_SERVICE_ACCOUNT, audiences: [audience], expirationSeconds: 3600 });
    const path = join(this.#workDir, `token-${audience}`);
    await writeFile(path, token, { mode: 0o600 });
    return path;
  }

  /** `edgeca init` for this cluster: the signer requires the shim's ServiceAccount token. */
  async initMaterial(force: boolean): Promise<void> {
    const jwksPath = join(this.#workDir, "jwks.json");
    await writeFile(jwksPath, JSON.stringify(this.cp.jwks));
    const args = [
      "--import",
      "tsx",
      join(repoRoot, "apps/cli/src/main.ts"),
      "init",
      "--out", this.materialDir,
      "--signer-name", SIGNER_NAME,
      "--trust-domain", TRUST_DOMAIN,
      "--jwks", jwksPath,
      "--token-audience", TOKEN_AUDIENCE,
      "--token-issuer", this.cp.serviceAccountIssuer,
      "--shim-subject", `system:serviceaccount:${SHIM_NAMESPACE}:${SHIM_SERVICE_ACCOUNT}`,
      ...(force ? ["--force"] : []),
    ];
    // `edgeca init` as its own process, the operator's path (the same Node, with the tsx loader).
    await run(process.execPath, args, { cwd: repoRoot, timeout: 120_000 });
  }

  /** Starts the signer (again on the same port after a stop, as a restarted signer would be). */
  async startSigner(): Promise<void> {
    this.#signer = await startLocalSigner({ dir: this.materialDir, port: this.#port });
    this.#port = this.#signer.port;
  }

  async stopSigner(): Promise<void> {
    await this.#signer?.stop();
    this.#signer = undefined;
  }

  /** Edits the signer's configuration (worker/config.json, as `edgeca init` wrote it) and restarts the signer with it. */
  async reconfigureSigner(edit: (config: { clusters: Record<string, unknown>[] }) => void): Promise<void> {
    const path = join(this.materialDir, "worker", "config.json");
    const config = JSON.parse(await readFile(path, "utf8")) as { clusters: Record<string, unknown>[] };
    edit(config);
    await writeFile(path, JSON.stringify(config, null, 2));
    await this.stopSigner();
    await this.startSigner();
  }

  /** Creates a CSR as istiod and approves it, as istiod does; returns its name and the CSR with its keys. */
  async requestAsIstiod(prefix: string, kind: WorkloadKind = "ztunnel-p256", san = spiffe("e2e", "web")): Promise<{ name: string; csr: WorkloadCsr }> {
    const name = unique(prefix);
    const csr = await workloadCsr(kind, san);
    await createCsr(this.istiod, name, SIGNER_NAME, csr.pem);
    await decide(this.istiod, name, "Approved");
    return { name, csr };
  }

  /** The shim's configuration as the Deployment would give it, with test-sized timings. */
  config(identity: string, overrides: Record<string, string> = {}): ShimConfig {
    const config = loadConfig({
      EDGECA_SIGNER_URL: this.signerUrl,
      EDGECA_SIGNER_NAMES: SIGNER_NAME,
      EDGECA_CLIENT_CERT_FILE: join(this.materialDir, "client-cert.pem"),
      EDGECA_CLIENT_KEY_FILE: join(this.materialDir, "client-key.pem"),
      EDGECA_SIGNER_CA_FILE: join(this.materialDir, "edge-ca-cert.pem"),
      EDGECA_TOKEN_FILE: join(this.#workDir, "signer-token"),
      EDGECA_TOKEN_AUDIENCE: TOKEN_AUDIENCE,
      EDGECA_BUNDLE_REFRESH_SECONDS: "1",
      EDGECA_HTTP_HOST: "127.0.0.1",
      EDGECA_HTTP_PORT: "0",
      EDGECA_LOG_LEVEL: "debug",
      POD_NAME: identity,
      POD_NAMESPACE: SHIM_NAMESPACE,
      KUBECONFIG: this.shimKubeconfigPath,
      ...overrides,
    });
    // Sub-second leader election so a hand-over takes about a second, not client-go's 15 s.
    const le = config.leaderElection;
    return le === undefined ? config : { ...config, leaderElection: { ...le, leaseDurationMs: 2_000, renewDeadlineMs: 1_500, retryPeriodMs: 250 } };
  }

  /**
   * Starts a shim in this process; its JSON log records are collected in `logs`. `wrap` may put a layer
   * around the real signer client (for faults no real part can produce); `env` overrides configuration.
   */
  async startShim(identity: string, options: StartShimOptions = {}): Promise<RunningShim> {
    const config = this.config(identity, options.env);
    const logs: LogRecord[] = [];
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromFile(this.shimKubeconfigPath);
    const real = createDefaultSigner(config);
    const signer = holdable(options.wrap === undefined ? real : options.wrap(real));
    const shim = await startShim(config, { kubeConfig, signer, logSink: (r) => logs.push(r) });
    return { shim, logs, signer };
  }

  async stop(): Promise<void> {
    await this.stopSigner();
    await rm(this.#workDir, { recursive: true, force: true });
  }
}

/** istiod's CSR permissions: Istio's chart ClusterRole plus `approve` on our signer (infra/istio). */
async function grantIstiod(cp: ControlPlaneClient): Promise<void> {
  await cp.ensureServiceAccount("istio-system", "istiod");
  const manifest = `
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: e2e-istiod-csr
rules:
  - apiGroups: [certificates.k8s.io]
    resources: [certificatesigningrequests, certificatesigningrequests/approval, certificatesigningrequests/status]
    verbs: [update, create, get, delete, watch]
  - apiGroups: [certificates.k8s.io]
    resources: [signers]
    resourceNames: [${SIGNER_NAME}]
    verbs: [approve]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: e2e-istiod-csr
roleRef: { apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: e2e-istiod-csr }
subjects: [{ kind: ServiceAccount, name: istiod, namespace: istio-system }]
`;
  const applied = await cp.kubectl(["apply", "-f", "-"], { input: manifest });
  if (applied.code !== 0) throw new Error(`granting istiod failed: ${applied.stderr}`);
}
