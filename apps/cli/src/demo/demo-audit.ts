/**
 * The demo's audit check (issue 13): the signer's audit records of the run (`<state>/signer/audit.jsonl`,
 * written by the local signer) counted as the demo's JSON reports them. `refused` counts every record
 * that is not an issuance, the throttled ones (429) included, so `records = issued + refused`;
 * `throttled` is that subset.
 */
import { createReadStream } from "node:fs";
import { readRecords } from "../audit/index.ts";

export interface DemoAudit {
  readonly records: number;
  readonly issued: number;
  readonly refused: number;
}

export async function readDemoAudit(path: string): Promise<{ audit: DemoAudit; throttled: number }> {
  const { records } = await readRecords(createReadStream(path, { encoding: "utf8" }));
  const issued = records.filter((r) => r.decision === "issued").length;
  return {
    audit: { records: records.length, issued, refused: records.length - issued },
    throttled: records.filter((r) => r.decision === "throttled").length,
  };
}
