/**
 * The local signer's budgets and audit records, from outside: the real Worker bundle in workerd with the
 * EDGECA_BUDGETS Durable Object, a small per-identity budget set with setBudgets, and the records read
 * back from DIR/audit.jsonl and through onAuditRecord.
 */
import { readFileSync } from "node:fs";
import { readFile, rm } from "node:fs/promises";
import { dirname, join } from "node:path";
import { AuditRecord, Problem } from "@edgeca/shared";
import { createIstioCsr } from "@edgeca/testenv";
import { afterAll, beforeAll, expect, it } from "vitest";
import { initMaterial } from "./init-material.ts";
import { startLocalSigner, type LocalSigner } from "@edgeca/edge";
import { setBudgets } from "./set-budgets.ts";
import { postJson } from "./signer-request.ts";

const GREEDY = "spiffe://cluster.local/ns/default/sa/greedy";
const OTHER = "spiffe://cluster.local/ns/default/sa/other";

let dir: string;
let signer: LocalSigner;
let stopped = false;
const seen: AuditRecord[] = [];

beforeAll(async () => {
  dir = await initMaterial();
  await setBudgets(dir, { perIdentity: { limit: 2, windowSeconds: 60 } });
  signer = await startLocalSigner({ dir, onAuditRecord: (r) => seen.push(r) });
});

afterAll(async () => {
  if (!stopped) await signer.stop();
  await rm(dirname(dir), { recursive: true, force: true });
});

async function sign(spiffeId: string) {
  const csr = (await createIstioCsr({ keyType: "P-256", uris: [spiffeId] })).csrPem;
  const client = { certPem: readFileSync(join(dir, "client-cert.pem"), "utf8"), keyPem: readFileSync(join(dir, "client-key.pem"), "utf8") };
  const json = { signerName: "example.com/foo", csr, usages: ["digital signature", "client auth"], requestor: { username: "system:serviceaccount:istio-system:istiod" }, object: { name: "csr-greedy" } };
  return postJson({ url: signer.url, path: "/v1/sign", caPem: signer.serverCaPem, json, client });
}

it("throttles one identity past its budget, serves another, and writes one record per decision to DIR/audit.jsonl", async () => {
  const answers = [await sign(GREEDY), await sign(GREEDY), await sign(GREEDY), await sign(OTHER)];
  expect(answers.map((a) => a.status)).toEqual([200, 200, 429, 200]);
  const throttled = answers[2];
  expect(Problem.parse(JSON.parse(throttled?.body ?? "")).detail).toMatch(new RegExp(`identity "${GREEDY}" .* may have 2 certificates per 60 s \\(identity budget\\); retry after \\d+ s$`));

  // Stopped first, so the file is complete (its stream is ended by stop()).
  await signer.stop();
  stopped = true;
  expect(signer.auditPath).toBe(join(dir, "audit.jsonl"));
  const lines = (await readFile(join(dir, "audit.jsonl"), "utf8")).trim().split("\n");
  const records = lines.map((l) => AuditRecord.parse(JSON.parse(l)));
  expect(records.map((r) => [r.decision, r.spiffeId])).toEqual([["issued", GREEDY], ["issued", GREEDY], ["throttled", GREEDY], ["issued", OTHER]]);
  expect(records[2]?.budget).toMatchObject({ scope: "identity", limit: 2, windowSeconds: 60 });
  expect(records.every((r) => r.cluster === "default" && r.csr?.name === "csr-greedy" && r.budgetUnchecked === undefined)).toBe(true);
  expect(seen).toEqual(records);
  expect(lines.join("\n")).not.toContain("BEGIN");
}, 60_000);
