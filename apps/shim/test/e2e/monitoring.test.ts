/**
 * infra/monitoring checked by its own tools and against what the shim really exports: the PrometheusRule's
 * `spec` passes `promtool check rules` and the alerts fire as `promtool test rules` expects; every metric
 * (and every label a selector or `by` names) queried by the rules and the Grafana dashboard is one that
 * createMetrics() registers, the registry the shim serves on /metrics; and `promtool check metrics` finds
 * nothing to lint in the shim's own metrics.
 */
import { copyFile, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { loadYaml } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { createMetrics } from "../../src/metrics.ts";
import { ensureTool, runTool } from "./go-tools.ts";

const monitoring = fileURLToPath(new URL("../../../../infra/monitoring/", import.meta.url));
let dir: string;
let built: Promise<string> | undefined;
/** promtool, built on first use (the metric checks below do not need it). */
const promtool = (): Promise<string> => (built ??= ensureTool("promtool"));

const Rule = z.object({ alert: z.string().optional(), record: z.string().optional(), expr: z.string() }).loose();
const PrometheusRule = z.object({
  apiVersion: z.literal("monitoring.coreos.com/v1"),
  kind: z.literal("PrometheusRule"),
  spec: z.object({ groups: z.array(z.object({ name: z.string(), rules: z.array(Rule) }).loose()) }),
}).loose();
const Target = z.object({ expr: z.string() }).loose();
const Dashboard = z.object({
  uid: z.string(),
  panels: z.array(z.object({ title: z.string(), targets: z.array(Target) }).loose()),
  templating: z.object({ list: z.array(z.object({ name: z.string(), definition: z.string().optional() }).loose()) }),
}).loose();
const WithLabels = z.object({ labelNames: z.array(z.string()).optional() }).loose();

/** Every series name the registry exposes, with the labels it may carry (histograms add `le`). */
async function exported(): Promise<Map<string, ReadonlySet<string>>> {
  const { registry } = createMetrics({ defaults: true });
  const out = new Map<string, ReadonlySet<string>>();
  for (const family of await registry.getMetricsAsJSON()) {
    const labels = WithLabels.parse(registry.getSingleMetric(family.name)).labelNames ?? [];
    const type = String(family.type);
    const names = type === "histogram" ? ["_bucket", "_sum", "_count"].map((s) => `${family.name}${s}`) : type === "summary" ? [family.name, `${family.name}_sum`, `${family.name}_count`] : [family.name];
    for (const name of names) out.set(name, new Set([...labels, ...(type === "histogram" ? ["le"] : type === "summary" ? ["quantile"] : [])]));
  }
  return out;
}

/** Names the metric names, selector labels and `by`/`without` labels an expression uses that the shim does not export. */
function unknownIn(expr: string, metrics: Map<string, ReadonlySet<string>>): string[] {
  const problems: string[] = [];
  const used = [...expr.matchAll(/\b(edgeca_shim_[a-z0-9_]+)(\{[^}]*\})?/g)];
  if (used.length === 0) problems.push("queries no edgeca_shim_ metric");
  const labelsOfExpr = new Set<string>();
  for (const [, name = "", selector = ""] of used) {
    const labels = metrics.get(name);
    if (labels === undefined) {
      problems.push(`metric ${name} is not exported`);
      continue;
    }
    for (const l of labels) labelsOfExpr.add(l);
    for (const [, label = ""] of selector.matchAll(/([a-zA-Z_]\w*)\s*(=~|!~|!=|=)/g)) if (!labels.has(label)) problems.push(`${name} has no label ${label}`);
  }
  for (const [, list = ""] of expr.matchAll(/\b(?:by|without)\s*\(([^)]*)\)/g)) {
    for (const label of list.split(",").map((l) => l.trim()).filter((l) => l !== "")) if (!labelsOfExpr.has(label)) problems.push(`no metric in the expression has label ${label}`);
  }
  return problems;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "edgeca-monitoring-"));
  const rule = PrometheusRule.parse(loadYaml(await readFile(join(monitoring, "prometheusrule.yaml"), "utf8")));
  await writeFile(join(dir, "rules.yaml"), JSON.stringify(rule.spec, null, 2));
  await copyFile(join(monitoring, "prometheusrule-tests.yaml"), join(dir, "tests.yaml"));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("infra/monitoring", () => {
  it("the PrometheusRule's groups pass promtool check rules", async () => {
    const out = await runTool(await promtool(), ["check", "rules", join(dir, "rules.yaml")]);
    expect(out.stdout + out.stderr).toMatch(/SUCCESS: \d+ rules found/);
    expect(out.code).toBe(0);
  }, 3_600_000);

  it("its alerts fire (and stay quiet) as promtool test rules expects", async () => {
    const out = await runTool(await promtool(), ["test", "rules", "tests.yaml"], { cwd: dir });
    expect(out.stdout + out.stderr, out.stdout + out.stderr).toContain("SUCCESS");
    expect(out.code).toBe(0);
  });

  it("promtool catches a broken rule (so the check above is not vacuous)", async () => {
    await writeFile(join(dir, "broken.yaml"), JSON.stringify({ groups: [{ name: "x", rules: [{ alert: "X", expr: "sum(edgeca_shim_leader" }] }] }));
    const out = await runTool(await promtool(), ["check", "rules", join(dir, "broken.yaml")]);
    expect(out.code).not.toBe(0);
    expect(out.stdout + out.stderr).toMatch(/unclosed left parenthesis/);
  });

  it("every metric and label the rules and the dashboard query is one the shim exports", async () => {
    const metrics = await exported();
    const rule = PrometheusRule.parse(loadYaml(await readFile(join(monitoring, "prometheusrule.yaml"), "utf8")));
    const dashboard = Dashboard.parse(JSON.parse(await readFile(join(monitoring, "edgeca-shim-dashboard.json"), "utf8")));
    const exprs = [
      ...rule.spec.groups.flatMap((g) => g.rules.map((r) => ({ where: `rule ${r.alert ?? r.record ?? "?"}`, expr: r.expr }))),
      ...dashboard.panels.flatMap((p) => p.targets.map((t) => ({ where: `panel "${p.title}"`, expr: t.expr }))),
      ...dashboard.templating.list.flatMap((v) => (v.definition === undefined ? [] : [{ where: `variable ${v.name}`, expr: v.definition.replace(/label_values\((\w+),\s*(\w+)\)/, "$1{$2=\"\"}") }])),
    ];
    expect(exprs.length).toBeGreaterThan(20);
    const problems = exprs.flatMap(({ where, expr }) => unknownIn(expr, metrics).map((p) => `${where}: ${p}`));
    expect(problems).toEqual([]);
    // The check itself catches a misspelt metric and a label the metric lacks.
    expect(unknownIn('sum by (signer) (rate(edgeca_shim_certificate_issued_total{reason="x"}[5m]))', metrics)).toEqual(["metric edgeca_shim_certificate_issued_total is not exported", "no metric in the expression has label signer"]);
    expect(unknownIn('edgeca_shim_queue_depth{signer="x"}', metrics)).toEqual(["edgeca_shim_queue_depth has no label signer"]);
    // Every metric of the shim's own is on the dashboard.
    const onDashboard = dashboard.panels.flatMap((p) => p.targets.map((t) => t.expr)).join("\n");
    for (const family of await createMetrics().registry.getMetricsAsJSON()) expect(onDashboard, family.name).toContain(family.name);
  });

  it("promtool check metrics finds nothing to lint in the shim's metrics", async () => {
    const metrics = createMetrics();
    metrics.issued.inc({ signer: "example.com/foo" });
    metrics.issueLatency.observe({ signer: "example.com/foo" }, 0.2);
    metrics.issuingCaNotAfter.set({ signer: "example.com/foo" }, 1_900_000_000);
    const text = await metrics.registry.metrics();
    const out = await runTool(await promtool(), ["check", "metrics"], { input: text });
    expect(out.stdout + out.stderr).toBe("");
    expect(out.code).toBe(0);
  });
});
