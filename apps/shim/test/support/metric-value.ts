/** Reads a metric from a shim registry the way Prometheus would see it. */
import type { Counter, Registry } from "prom-client";

/**
 * The sum of the samples named `name` (a counter, a gauge, or a histogram's `_count`/`_sum`/`_bucket`)
 * whose labels include `labels`; 0 when there is none.
 */
export async function metricValue(registry: Registry, name: string, labels: Readonly<Record<string, string>> = {}): Promise<number> {
  let sum = 0;
  for (const metric of await registry.getMetricsAsJSON()) {
    for (const sample of metric.values) {
      const sampleName = "metricName" in sample && typeof sample.metricName === "string" ? sample.metricName : metric.name;
      if (sampleName !== name) continue;
      const sampleLabels: Record<string, unknown> = sample.labels;
      if (Object.entries(labels).every(([key, value]) => sampleLabels[key] === value)) sum += sample.value;
    }
  }
  return sum;
}

/** The sum of a counter's samples whose labels include `labels` (a running shim's `metrics.retried`, …). */
export async function counterTotal(counter: Counter, labels: Readonly<Record<string, string>> = {}): Promise<number> {
  const { values } = await counter.get();
  return values.filter((v) => Object.entries(labels).every(([k, want]) => v.labels[k] === want)).reduce((sum, v) => sum + v.value, 0);
}
