/**
 * setBudgets and setPodCertificates through their one edit (editWorkerClusters) on material `edgeca init`
 * wrote: every cluster is changed, the result is what the signer's schema reads, and a refused change names
 * the file and the change and leaves the file and its directory as they were.
 */
import { readdir, readFile, rm, stat } from "node:fs/promises";
import { dirname, join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { SignerConfig } from "@edgeca/shared";
import { addCluster } from "../ca/add-cluster.ts";
import { initMaterial } from "./init-material.ts";
import { setBudgets } from "./set-budgets.ts";
import { setPodCertificates } from "./set-pod-certificates.ts";

let dir: string;
let path: string;

beforeEach(async () => {
  dir = await initMaterial();
  path = join(dir, "worker", "config.json");
  // A second cluster, so "every cluster" is seen to mean more than the first.
  await addCluster({ dir, name: "second", signerNames: ["example.com/foo"] });
});

afterEach(async () => {
  await rm(dirname(dir), { recursive: true, force: true });
});

async function clusters() {
  return SignerConfig.parse(JSON.parse(await readFile(path, "utf8"))).clusters;
}

describe("editing the Worker configuration's clusters", () => {
  it("sets budgets in every cluster, keeping the budgets not named", async () => {
    await setBudgets(dir, { perIdentity: { limit: 2, windowSeconds: 60 } });
    const read = await clusters();
    expect(read).toHaveLength(2);
    for (const c of read) {
      expect(c.budgets.perIdentity).toEqual({ limit: 2, windowSeconds: 60 });
      expect(c.budgets.cluster).toEqual({ limit: 20_000, windowSeconds: 3600 });
    }
    expect((await stat(path)).mode & 0o777).toBe(0o644);
    expect((await readdir(join(dir, "worker"))).sort()).toEqual(["config.json", "secrets.json"]);
  });

  it("switches pod certificates on in every cluster", async () => {
    await setPodCertificates(dir, ["example.com/foo"]);
    for (const c of await clusters()) expect(c.podCertificates?.signerNames).toEqual(["example.com/foo"]);
  });

  it("refuses what the schema refuses, naming the file and the change, and leaves the file as it was", async () => {
    const before = await readFile(path, "utf8");
    await expect(setBudgets(dir, { cluster: { limit: 0, windowSeconds: 60 } })).rejects.toThrow(
      `${path} with budgets {"cluster":{"limit":0,"windowSeconds":60}} is invalid: `,
    );
    await expect(setPodCertificates(dir, ["not a signer name"])).rejects.toThrow(`${path} with pod certificates for not a signer name is invalid: `);
    expect(await readFile(path, "utf8")).toBe(before);
    expect((await readdir(join(dir, "worker"))).sort()).toEqual(["config.json", "secrets.json"]);
  });
});
