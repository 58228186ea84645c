/**
 * The Helm chart and the kustomize overlays are two renderings of one installation: for the same settings
 * they must produce the same objects (kinds, names, namespaces, RBAC rules, env, securityContext,
 * resources, volumes, probes: every field), compared parsed. What may differ is only what each tool adds
 * by design, removed before comparing:
 *   - Helm's bookkeeping labels (helm.sh/chart, app.kubernetes.io/instance and version, managed-by: Helm);
 *   - the ConfigMap's hash suffix (each tool hashes the settings its own way; both roll the pods on change);
 *   - Namespaces: kustomize ships edgeca-system (with its Pod Security labels) and istio-system; a chart
 *     owning them would delete them on `helm uninstall`, so the README creates edgeca-system by hand.
 */
import { execFile } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { loadAllYaml } from "@kubernetes/client-node";
import { beforeAll, describe, expect, it } from "vitest";
import { K8S_DIR as k8s, withOverlay } from "../support/kustomize-overlay.ts";
import { helmRunner, type ToolResult } from "./go-tools.ts";

const repo = fileURLToPath(new URL("../../../../", import.meta.url));
const chart = join(repo, "infra/helm/edgeca-shim");
const run = promisify(execFile);
let helm: (args: readonly string[]) => Promise<ToolResult>;

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

const HELM_LABELS = new Set(["helm.sh/chart", "app.kubernetes.io/instance", "app.kubernetes.io/version"]);

function stripHelmLabels(labels: { [key: string]: Json }): { [key: string]: Json } {
  return Object.fromEntries(Object.entries(labels).filter(([k, v]) => !HELM_LABELS.has(k) && !(k === "app.kubernetes.io/managed-by" && v === "Helm")));
}

/** Removes Helm's labels from every label map and label selector in `value`. */
function normalize(value: Json, key = ""): Json {
  if (Array.isArray(value)) return value.map((v) => normalize(v));
  if (value === null || typeof value !== "object") return value;
  const isLabelMap = key === "labels" || key === "matchLabels" || (key === "selector" && !("matchLabels" in value));
  const entries = Object.entries(isLabelMap ? stripHelmLabels(value) : value);
  return Object.fromEntries(entries.map(([k, v]) => [k, normalize(v, k)]));
}

/** "Kind namespace/name" of an object. */
function idOf(o: Json): string {
  const meta = o !== null && typeof o === "object" && !Array.isArray(o) ? o["metadata"] : null;
  if (o === null || typeof o !== "object" || Array.isArray(o) || meta === null || typeof meta !== "object" || Array.isArray(meta)) return JSON.stringify(o);
  return `${JSON.stringify(o["kind"])} ${JSON.stringify(meta["namespace"] ?? "")}/${JSON.stringify(meta["name"])}`;
}

/** Parsed, normalized, Namespaces dropped, in a stable order. */
function objectsOf(yaml: string): Json[] {
  const text = yaml.replace(/(edgeca-shim-config)-[a-z0-9]{10}\b/g, "$1");
  const docs = (loadAllYaml(text) as Json[]).filter((d): d is { [key: string]: Json } => d !== null && typeof d === "object" && !Array.isArray(d));
  return docs.filter((d) => d["kind"] !== "Namespace").sort((a, b) => idOf(a).localeCompare(idOf(b))).map((d) => normalize(d));
}

async function kustomize(dir: string): Promise<Json[]> {
  const { stdout } = await run("kubectl", ["kustomize", dir], { timeout: 60_000, maxBuffer: 16 * 1024 * 1024 });
  return objectsOf(stdout);
}

async function helmTemplate(args: readonly string[]): Promise<Json[]> {
  const out = await helm(["template", "edgeca-shim", chart, "--namespace", "edgeca-system", ...args]);
  expect(out.stderr).toBe("");
  expect(out.code).toBe(0);
  return objectsOf(out.stdout);
}

const names = (objects: Json[]): string[] => objects.map(idOf);

beforeAll(async () => {
  helm = await helmRunner();
}, 3_600_000);

describe("helm template and kubectl kustomize render the same objects", () => {
  it("the chart's defaults = overlays/production", async () => {
    const [fromHelm, fromKustomize] = await Promise.all([helmTemplate([]), kustomize(join(k8s, "overlays/production"))]);
    expect(names(fromHelm)).toEqual(names(fromKustomize));
    expect(fromHelm).toEqual(fromKustomize);
    // Not vacuous: the RBAC, the Deployment and the settings are in both.
    expect(fromHelm.length).toBe(20);
  });

  it("another signer name and audience, set in each tool's one place, reach the same RBAC and token", async () => {
    const [fromHelm, fromKustomize] = await Promise.all([
      helmTemplate(["--set", "signer.name=acme.io/mesh", "--set", "signer.url=https://signer.acme.io", "--set", "signer.tokenAudience=acme-signer"]),
      withOverlay(["EDGECA_SIGNER_NAMES=acme.io/mesh", "EDGECA_SIGNER_URL=https://signer.acme.io", "EDGECA_TOKEN_AUDIENCE=acme-signer"], kustomize),
    ]);
    expect(fromHelm).toEqual(fromKustomize);
    expect(JSON.stringify(fromHelm)).toContain('"acme.io:mesh:edgeca"');
  });
});
