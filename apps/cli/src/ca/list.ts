/** `edgeca ca list`: what DIR's configuration holds, read through the same parser the signer uses. */
import { activeIssuerOf } from "@edgeca/shared";
import { caPaths, readCaDir } from "./ca-dir.ts";
import { certificatesOf, fingerprintOf, rootIndexOf } from "./certificates.ts";
import { clustersUsing } from "./cluster-entry.ts";

/** One issuing CA of the configuration. */
export interface IssuerListing {
  readonly id: string;
  readonly active: boolean;
  readonly subject: string;
  readonly notAfter: Date;
  readonly keySecret: string;
  /** Index in `roots` of the root it chains to (-1: none, which the signer would refuse). */
  readonly root: number;
  /** The clusters it signs for now. */
  readonly clusters: readonly string[];
}

/** One cluster whose shim may call the signer. */
export interface ClusterListing {
  readonly name: string;
  /** The issuer that signs for it. */
  readonly issuer: string;
  /** True when that is its own `activeIssuer`, false when it falls back to the top-level one. */
  readonly ownIssuer: boolean;
  readonly trustDomain: string;
  readonly signerNames: readonly string[];
  /** The token issuer it requires, or undefined (client certificate only). */
  readonly tokenIssuer: string | undefined;
}

/** One root of the bundle. */
export interface RootListing {
  readonly subject: string;
  /** SHA-256, lowercase hex. */
  readonly fingerprint: string;
  readonly notAfter: Date;
}

/** Issuers and roots of DIR's configuration. */
export interface CaListing {
  readonly issuers: readonly IssuerListing[];
  readonly roots: readonly RootListing[];
  readonly clusters: readonly ClusterListing[];
}

/** Reads DIR's issuers and roots. */
export async function listCa(dir: string): Promise<CaListing> {
  const { config } = await readCaDir(dir);
  const roots = config.roots.map((pem) => {
    const [cert] = certificatesOf(pem);
    return { subject: cert?.subject ?? "", fingerprint: cert === undefined ? "" : fingerprintOf(cert), notAfter: new Date(cert?.validTo ?? 0) };
  });
  const issuers = config.issuers.map((i) => {
    const [cert] = certificatesOf(i.chain);
    return {
      id: i.id,
      active: i.id === config.activeIssuer,
      subject: cert?.subject ?? "",
      notAfter: new Date(cert?.validTo ?? 0),
      keySecret: i.keySecret,
      root: rootIndexOf(i.chain, config.roots),
      clusters: clustersUsing(config, i.id),
    };
  });
  const clusters = config.clusters.map((c) => ({
    name: c.name,
    issuer: activeIssuerOf(config, c),
    ownIssuer: c.activeIssuer !== undefined,
    trustDomain: c.policy.trustDomain,
    signerNames: c.signerNames,
    tokenIssuer: c.token?.issuer,
  }));
  return { issuers, roots, clusters };
}

const oneLine = (subject: string) => subject.split("\n").join(", ");

/** The listing as two tables. */
export function formatCaListing(dir: string, listing: CaListing): string {
  const table = (header: readonly string[], rows: readonly (readonly string[])[]) => {
    const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => (r[c] ?? "").length)));
    return [header, ...rows].map((r) => r.map((cell, c) => cell.padEnd(widths[c] ?? 0)).join("  ").trimEnd()).join("\n");
  };
  const issuers = table(
    ["ID", "ACTIVE", "SUBJECT", "NOT AFTER", "SECRET", "ROOT", "CLUSTERS"],
    listing.issuers.map((i) => [i.id, i.active ? "yes" : "", oneLine(i.subject), i.notAfter.toISOString(), i.keySecret, i.root < 0 ? "none!" : `#${i.root + 1}`, i.clusters.join(",") || "-"]),
  );
  const clusters = table(
    ["CLUSTER", "ISSUER", "TRUST DOMAIN", "SIGNER NAMES", "TOKEN ISSUER"],
    listing.clusters.map((c) => [c.name, c.ownIssuer ? c.issuer : `${c.issuer} (default)`, c.trustDomain, c.signerNames.join(","), c.tokenIssuer ?? "(no token)"]),
  );
  const roots = table(
    ["ROOT", "SUBJECT", "SHA-256", "NOT AFTER"],
    listing.roots.map((r, n) => [`#${n + 1}`, oneLine(r.subject), r.fingerprint, r.notAfter.toISOString()]),
  );
  return [caPaths(dir).config, "", "issuers (ACTIVE: the top-level activeIssuer, the default):", issuers, "", "clusters:", clusters, "", "roots (GET /v1/bundle, root-cert.pem):", roots].join("\n");
}
