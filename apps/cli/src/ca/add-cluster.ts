/**
 * `edgeca ca add-cluster`: one more cluster on the same signer. Its shim gets a client certificate from
 * the offline client CA (pinned by fingerprint), and the cluster gets an issuing CA of its own under the
 * shared root (the root of the top-level active issuer), named as the cluster's `activeIssuer`; so its
 * compromise or rotation never touches another cluster. Checked with the signer's own loader, then
 * written: the client certificate under DIR/clusters/NAME/, then the configuration and secrets atomically.
 */
import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { IssuerConfig, normaliseHex, type TokenConfig } from "@edgeca/shared";
import { certificatePem, createClientCertificate, createIssuingCa, INIT_DEFAULTS, keySecretName, pkcs8Pem } from "../init/index.ts";
import { caPaths, readCaDir, writeCaDir, type CaDir } from "./ca-dir.ts";
import { rootIndexOf } from "./certificates.ts";
import { checkConfig } from "./check-config.ts";
import { loadClientCa } from "./client-ca.ts";
import { clustersUsing, rawClusters } from "./cluster-entry.ts";
import { loadRootCa } from "./root-key.ts";
import { RotationError } from "./rotation-error.ts";

/** What `addCluster` makes. */
export interface AddClusterOptions {
  readonly dir: string;
  /** A DNS label: it names the cluster in the configuration, the audit records and DIR/clusters/NAME. */
  readonly name: string;
  readonly signerNames: readonly string[];
  readonly trustDomain?: string;
  readonly allowedRequestors?: readonly string[];
  /** Present: the signer requires the shim's ServiceAccount token, verified against this JWKS. */
  readonly token?: { readonly jwks: TokenConfig["jwks"]; readonly issuer: string; readonly audience: string; readonly subject?: string };
  /** The cluster's issuer id; default `<name>-ca1`. */
  readonly issuerId?: string;
  /** Replace an existing cluster of the same name (its entry, client certificate and, if only it used it, its issuer). */
  readonly force?: boolean;
  readonly now?: Date;
}

/** What `addCluster` did. */
export interface AddClusterResult {
  readonly name: string;
  readonly issuerId: string;
  readonly issuerSubject: string;
  readonly keySecret: string;
  readonly clientCertPath: string;
  readonly clientKeyPath: string;
  readonly clientFingerprint: string;
  readonly replaced: boolean;
  /** Clusters that pinned the client CA's SKI, which no longer tells clusters apart: now pinned by fingerprint only. */
  readonly unpinnedSki: readonly string[];
  readonly keysNotChecked: readonly string[];
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

/** DIR/clusters/NAME: the cluster's client certificate and key. */
export function clusterDir(dir: string, name: string): string {
  return join(dir, "clusters", name);
}

function issuerIdFor(ca: CaDir, options: AddClusterOptions): string {
  const id = options.issuerId ?? `${options.name}-ca1`;
  if (!IssuerConfig.shape.id.safeParse(id).success) {
    throw new RotationError(`${options.issuerId === undefined ? `the default issuer id "${id}"` : `--issuer-id "${id}"`}: an issuer id is 1–32 of A–Z a–z 0–9 _ -${options.issuerId === undefined ? "; pass --issuer-id" : ""}`);
  }
  const { config } = ca;
  if (!config.issuers.some((i) => i.id === id)) return id;
  const users = clustersUsing(config, id).filter((c) => c !== options.name);
  if (options.force !== true || config.activeIssuer === id || users.length > 0) {
    throw new RotationError(`issuer "${id}" already exists in ${caPaths(ca.dir).config}${users.length > 0 ? ` and signs for ${users.join(", ")}` : ""}; pass another --issuer-id`);
  }
  return id;
}

/** The other clusters' entries without the client CA's SKI (it would let one cluster's certificate in as another). */
function withoutSki(ca: CaDir, ski: string, skip: number): { clusters: Record<string, unknown>[]; unpinned: string[] } {
  const unpinned: string[] = [];
  const out = rawClusters(ca.raw).map((c, i) => {
    const parsed = ca.config.clusters[i];
    if (i === skip || parsed === undefined || !parsed.clientCertificates.issuerSKIs.includes(ski)) return c;
    if (parsed.clientCertificates.sha256Fingerprints.length === 0) {
      throw new RotationError(`cluster "${parsed.name}" is identified only by the client CA's SKI; a second cluster from the same client CA would be indistinguishable from it: pin its client certificate's fingerprint first`);
    }
    unpinned.push(parsed.name);
    return { ...c, clientCertificates: { ...parsed.clientCertificates, issuerSKIs: parsed.clientCertificates.issuerSKIs.filter((s) => s !== ski) } };
  });
  return { clusters: out, unpinned };
}

/** Adds cluster `name` to DIR; throws `RotationError` (nothing written) naming what is wrong. */
export async function addCluster(options: AddClusterOptions): Promise<AddClusterResult> {
  const { dir, name } = options;
  if (!DNS_LABEL.test(name)) throw new RotationError(`--name "${name}": a cluster name is a DNS label (a–z 0–9 -, at most 63)`);
  const now = options.now ?? new Date();
  const paths = caPaths(dir);
  const ca = await readCaDir(dir);
  const { config } = ca;
  const existing = config.clusters.findIndex((c) => c.name === name);
  if (existing >= 0 && options.force !== true) {
    throw new RotationError(`--name ${name}: cluster "${name}" already exists in ${paths.config} (pick another name, or --force to replace it)`);
  }
  const issuerId = issuerIdFor(ca, options);
  const active = config.issuers.find((i) => i.id === config.activeIssuer);
  const rootPem = active === undefined ? undefined : config.roots[rootIndexOf(active.chain, config.roots)];
  if (rootPem === undefined) throw new RotationError(`${paths.config}: the active issuer "${config.activeIssuer}" does not lead to a listed root`);
  const clientCa = await loadClientCa(dir);
  const root = await loadRootCa(dir, rootPem);

  const issuing = await createIssuingCa(root, issuerId, now);
  const client = await createClientCertificate(clientCa, now, `CN=edgeca-shim ${name}`);
  const fingerprint = Buffer.from(await client.cert.getThumbprint("SHA-256")).toString("hex");
  const caSki = clientCa.cert.getExtension(x509.SubjectKeyIdentifierExtension)?.keyId;
  const keySecret = keySecretName(issuerId);
  const entry: Record<string, unknown> = {
    name,
    clientCertificates: { sha256Fingerprints: [fingerprint] },
    signerNames: [...options.signerNames],
    activeIssuer: issuerId,
    ...(options.token === undefined ? {} : { token: { subject: INIT_DEFAULTS.shimSubject, ...options.token } }),
    policy: { allowedRequestors: [...(options.allowedRequestors ?? INIT_DEFAULTS.allowedRequestors)], trustDomain: options.trustDomain ?? INIT_DEFAULTS.trustDomain },
  };
  const { clusters, unpinned } = caSki === undefined ? { clusters: rawClusters(ca.raw), unpinned: [] } : withoutSki(ca, normaliseHex(caSki), existing);
  const issuerEntry = { id: issuerId, chain: certificatePem(issuing.cert), keySecret };
  const raw = {
    ...ca.raw,
    signerNames: [...new Set([...config.signerNames, ...options.signerNames])],
    clusters: existing >= 0 ? clusters.map((c, i) => (i === existing ? entry : c)) : [...clusters, entry],
    issuers: [...config.issuers.filter((i) => i.id !== issuerId), issuerEntry],
  };
  const secrets = { ...ca.secrets, [keySecret]: await pkcs8Pem(issuing.keys.privateKey) };
  const check = await checkConfig(paths.config, raw, secrets);

  const out = clusterDir(dir, name);
  await mkdir(out, { recursive: true, mode: 0o700 });
  const clientCertPath = join(out, "client-cert.pem");
  const clientKeyPath = join(out, "client-key.pem");
  await writeFile(clientKeyPath, await pkcs8Pem(client.keys.privateKey), { mode: 0o600 });
  await writeFile(clientCertPath, certificatePem(client.cert), { mode: 0o644 });
  await writeCaDir(ca, { raw, roots: config.roots, secrets });
  return {
    name,
    issuerId,
    issuerSubject: issuing.cert.subject,
    keySecret,
    clientCertPath,
    clientKeyPath,
    clientFingerprint: fingerprint,
    replaced: existing >= 0,
    unpinnedSki: unpinned,
    keysNotChecked: check.keysNotChecked,
  };
}
