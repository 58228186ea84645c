import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { KubeApiError } from "./errors.ts";
import { KubeApiClient } from "./kube-api-client.ts";
import { renderKubeconfig } from "./kubeconfig.ts";
import { runKubectl } from "./kubectl.ts";
import type { KubectlResult } from "./kubectl.ts";

/** One JSON Web Key (RFC 7517): `kty` is always present; the other members depend on it. */
export interface Jwk {
  readonly kty: string;
  readonly [member: string]: unknown;
}

/** A JSON Web Key Set as served at /openid/v1/jwks. */
export interface Jwks {
  readonly keys: readonly Jwk[];
}

/**
 * Everything needed to use a running control plane, as plain data: it crosses process boundaries
 * (vitest `provide`/`inject`) and rebuilds a client with `new ControlPlaneClient(info)`.
 */
export interface ControlPlaneInfo {
  /** https://127.0.0.1:<port> */
  readonly server: string;
  /** The cluster CA certificate (PEM) that issued the serving and admin certificates. */
  readonly caPem: string;
  /** Admin kubeconfig (YAML, system:masters client certificate) and where it is written. */
  readonly kubeconfig: string;
  readonly kubeconfigPath: string;
  readonly adminCertPem: string;
  readonly adminKeyPem: string;
  /** The `iss` of every ServiceAccount token, and the default token audience. */
  readonly serviceAccountIssuer: string;
  /** The token verification keys, fetched from the apiserver's /openid/v1/jwks at start. */
  readonly jwks: Jwks;
  /** The temporary directory holding etcd's data, the logs (etcd.log, kube-apiserver.log) and PKI. */
  readonly dataDir: string;
  readonly etcdUrl: string;
}

/** A ServiceAccount token request (authentication.k8s.io/v1 TokenRequest). */
export interface MintTokenRequest {
  readonly namespace: string;
  readonly serviceAccount: string;
  /** Default: the apiserver's own audience (the issuer). */
  readonly audiences?: readonly string[];
  /** Default 3600; the apiserver's minimum is 600. */
  readonly expirationSeconds?: number;
}

/** A kubeconfig that authenticates as a ServiceAccount with a minted token. */
export interface ServiceAccountKubeconfig {
  readonly kubeconfig: string;
  readonly kubeconfigPath: string;
  readonly token: string;
}

/** Talks to a running control plane as admin, or as any ServiceAccount through minted tokens. */
export class ControlPlaneClient implements ControlPlaneInfo {
  readonly server: string;
  readonly caPem: string;
  readonly kubeconfig: string;
  readonly kubeconfigPath: string;
  readonly adminCertPem: string;
  readonly adminKeyPem: string;
  readonly serviceAccountIssuer: string;
  readonly jwks: Jwks;
  readonly dataDir: string;
  readonly etcdUrl: string;
  /** JSON client authenticated as the system:masters admin. */
  readonly admin: KubeApiClient;

  constructor(info: ControlPlaneInfo) {
    this.server = info.server;
    this.caPem = info.caPem;
    this.kubeconfig = info.kubeconfig;
    this.kubeconfigPath = info.kubeconfigPath;
    this.adminCertPem = info.adminCertPem;
    this.adminKeyPem = info.adminKeyPem;
    this.serviceAccountIssuer = info.serviceAccountIssuer;
    this.jwks = info.jwks;
    this.dataDir = info.dataDir;
    this.etcdUrl = info.etcdUrl;
    this.admin = new KubeApiClient({
      server: info.server,
      caPem: info.caPem,
      credentials: { clientCertPem: info.adminCertPem, clientKeyPem: info.adminKeyPem },
    });
  }

  /** The plain-data view, for vitest `provide` or a child process. */
  info(): ControlPlaneInfo {
    const { server, caPem, kubeconfig, kubeconfigPath, adminCertPem, adminKeyPem, serviceAccountIssuer, jwks, dataDir, etcdUrl } = this;
    return { server, caPem, kubeconfig, kubeconfigPath, adminCertPem, adminKeyPem, serviceAccountIssuer, jwks, dataDir, etcdUrl };
  }

  /** A JSON client that authenticates with the given bearer token. */
  clientForToken(token: string): KubeApiClient {
    return new KubeApiClient({ server: this.server, caPem: this.caPem, credentials: { token } });
  }

  /** Creates the namespace unless it exists (there is no namespace controller; `default` exists). */
  async ensureNamespace(name: string): Promise<void> {
    await this.createIfAbsent("/api/v1/namespaces", { apiVersion: "v1", kind: "Namespace", metadata: { name } });
  }

  /** Creates the namespace and the ServiceAccount unless they exist. */
  async ensureServiceAccount(namespace: string, name: string): Promise<void> {
    await this.ensureNamespace(namespace);
    await this.createIfAbsent(`/api/v1/namespaces/${encodeURIComponent(namespace)}/serviceaccounts`, {
      apiVersion: "v1",
      kind: "ServiceAccount",
      metadata: { name, namespace },
    });
  }

  /**
   * Mints a ServiceAccount token through the TokenRequest API (creating the ServiceAccount and its
   * namespace first if needed: without kube-controller-manager nothing else would).
   */
  async mintToken(req: MintTokenRequest): Promise<string> {
    await this.ensureServiceAccount(req.namespace, req.serviceAccount);
    const path = `/api/v1/namespaces/${encodeURIComponent(req.namespace)}/serviceaccounts/${encodeURIComponent(req.serviceAccount)}/token`;
    const answer = await this.admin.request("POST", path, {
      apiVersion: "authentication.k8s.io/v1",
      kind: "TokenRequest",
      spec: {
        ...(req.audiences === undefined ? {} : { audiences: req.audiences }),
        expirationSeconds: req.expirationSeconds ?? 3600,
      },
    });
    const token = tokenOf(answer);
    if (token === undefined) throw new Error(`TokenRequest for ${req.namespace}/${req.serviceAccount} returned no token`);
    return token;
  }

  /**
   * Writes a kubeconfig that authenticates as `system:serviceaccount:<namespace>:<serviceAccount>` with a
   * token for the apiserver's own audience (default lifetime 24 h), for running a component as itself.
   */
  async kubeconfigForServiceAccount(
    namespace: string,
    serviceAccount: string,
    options: { readonly expirationSeconds?: number; readonly path?: string } = {},
  ): Promise<ServiceAccountKubeconfig> {
    const token = await this.mintToken({ namespace, serviceAccount, expirationSeconds: options.expirationSeconds ?? 86_400 });
    const kubeconfig = renderKubeconfig({
      server: this.server,
      caPem: this.caPem,
      user: `system:serviceaccount:${namespace}:${serviceAccount}`,
      credentials: { token },
      namespace,
    });
    const dir = join(this.dataDir, "kubeconfigs");
    const kubeconfigPath = options.path ?? join(dir, `${namespace}.${serviceAccount}.yaml`);
    if (options.path === undefined) await mkdir(dir, { recursive: true });
    await writeFile(kubeconfigPath, kubeconfig, { mode: 0o600 });
    return { kubeconfig, kubeconfigPath, token };
  }

  /** Runs kubectl as admin (or with another kubeconfig file). */
  async kubectl(args: readonly string[], options: { readonly input?: string; readonly kubeconfigPath?: string } = {}): Promise<KubectlResult> {
    return await runKubectl(options.kubeconfigPath ?? this.kubeconfigPath, args, options.input === undefined ? {} : { input: options.input });
  }

  private async createIfAbsent(collection: string, object: unknown): Promise<void> {
    try {
      await this.admin.request("POST", collection, object);
    } catch (error) {
      if (error instanceof KubeApiError && error.status === 409) return;
      throw error;
    }
  }
}

function tokenOf(answer: unknown): string | undefined {
  if (typeof answer !== "object" || answer === null || !("status" in answer)) return undefined;
  const status = answer.status;
  if (typeof status !== "object" || status === null || !("token" in status)) return undefined;
  return typeof status.token === "string" ? status.token : undefined;
}
