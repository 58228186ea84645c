/**
 * How the shim grouped a burst's CSRs into requests to the signer, read from its own metric
 * `edgeca_shim_signer_batch_items` (a histogram: one observation per request to `/v1/sign` or
 * `/v1/sign-batch`, of the CSRs it carried) before and after the burst.
 */

/** The histogram's totals at one moment: requests and the CSRs they carried. */
export interface BatchTotals {
  readonly requests: number;
  readonly csrs: number;
}

/** Sums `edgeca_shim_signer_batch_items_count` and `_sum` over their label sets in Prometheus text. */
export function batchTotalsOf(text: string): BatchTotals {
  let requests = 0;
  let csrs = 0;
  for (const line of text.split("\n")) {
    const match = /^edgeca_shim_signer_batch_items_(count|sum)(?:\{[^}]*\})? ([0-9.e+-]+)$/.exec(line);
    if (match === null) continue;
    const value = Number(match[2]);
    if (match[1] === "count") requests += value;
    else csrs += value;
  }
  return { requests, csrs };
}

/** The shim's totals now, from `metricsUrl`; throws naming the URL when it does not answer 200. */
export async function readBatchTotals(metricsUrl: string): Promise<BatchTotals> {
  const res = await fetch(metricsUrl, { signal: AbortSignal.timeout(5000) });
  if (!res.ok) throw new Error(`${metricsUrl} answered ${res.status}`);
  return batchTotalsOf(await res.text());
}

/** What a burst added: requests to the signer and the CSRs they carried. */
export function batchesBetween(before: BatchTotals, after: BatchTotals): BatchTotals {
  return { requests: after.requests - before.requests, csrs: after.csrs - before.csrs };
}
