import { describe, expect, it } from "vitest";
import { batchesBetween, batchTotalsOf } from "./shim-batches.ts";

// Prometheus text as prom-client writes the shim's histogram (buckets omitted where they do not matter).
const SCRAPE = (requests: number, csrs: number): string =>
  [
    "# HELP edgeca_shim_signer_batch_items CSRs carried by each request to the signer",
    "# TYPE edgeca_shim_signer_batch_items histogram",
    `edgeca_shim_signer_batch_items_bucket{le="1"} 3`,
    `edgeca_shim_signer_batch_items_bucket{le="+Inf"} ${requests}`,
    `edgeca_shim_signer_batch_items_sum ${csrs}`,
    `edgeca_shim_signer_batch_items_count ${requests}`,
    "edgeca_shim_signer_requests_total 99",
    "",
  ].join("\n");

describe("shim batches from its metrics", () => {
  it("reads the histogram's request count and CSR sum, and what a burst added", () => {
    const before = batchTotalsOf(SCRAPE(2, 2));
    expect(before).toEqual({ requests: 2, csrs: 2 });
    const after = batchTotalsOf(SCRAPE(130, 2002));
    expect(batchesBetween(before, after)).toEqual({ requests: 128, csrs: 2000 });
  });

  it("sums label sets and ignores other metrics and buckets", () => {
    const text = 'edgeca_shim_signer_batch_items_sum{signer="a"} 10\nedgeca_shim_signer_batch_items_sum{signer="b"} 5\nedgeca_shim_signer_batch_items_count{signer="a"} 2\nedgeca_shim_signer_batch_items_count{signer="b"} 5\nedgeca_shim_signer_batch_items_bucket{le="1"} 7\n';
    expect(batchTotalsOf(text)).toEqual({ requests: 7, csrs: 15 });
    expect(batchTotalsOf("")).toEqual({ requests: 0, csrs: 0 });
  });
});
