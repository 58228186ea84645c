/**
 * Publication of the signer's roots, end to end: the shim writes them to the Secret istiod mounts and to
 * the ClusterTrustBundle, rewrites neither while nothing changes, and follows a new root at the signer
 * (fresh `edgeca init --force`, signer restarted) with both, still signing with the new client
 * certificate. A control plane of this file's own with one shim.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { expect, it } from "vitest";
import { issued, waitForCsr } from "../support/csr-api.ts";
import { until } from "../support/until.ts";
import { SIGNER_NAME } from "./harness.ts";
import { useOwnStack } from "./own-stack.ts";
import { fingerprints, publishedSecret, publishedTrustBundle } from "./published-roots.ts";

const own = useOwnStack({ shim: "shim-a" });

it("publishes the trust bundle to the Secret and the ClusterTrustBundle, and rewrites them only when it changes", async () => {
  const { cp, stack } = own;
  const secretOf = () => publishedSecret(cp.admin);
  const bundleOf = () => publishedTrustBundle(cp.admin);
  const root = await readFile(join(stack.materialDir, "root-cert.pem"), "utf8");
  const secret = await until(secretOf, (s) => s.pem !== "");
  expect(fingerprints(secret.pem)).toEqual(fingerprints(root));
  const ctb = await until(bundleOf, (b) => b !== undefined);
  expect(ctb?.signerName).toBe(SIGNER_NAME);
  expect(fingerprints(ctb?.pem ?? "")).toEqual(fingerprints(root));

  // Several refreshes (every second) later nothing was rewritten.
  await sleep(2_500);
  expect((await secretOf()).resourceVersion).toBe(secret.resourceVersion);
  expect((await bundleOf())?.resourceVersion).toBe(ctb?.resourceVersion);

  // A new root at the signer (fresh `edgeca init --force`, signer restarted on the same port): both follow.
  await stack.stopSigner();
  await stack.initMaterial(true);
  await stack.startSigner();
  const rotated = await readFile(join(stack.materialDir, "root-cert.pem"), "utf8");
  expect(fingerprints(rotated)).not.toEqual(fingerprints(root));
  const newSecret = await until(secretOf, (s) => fingerprints(s.pem).join() === fingerprints(rotated).join(), 20_000);
  expect(fingerprints(newSecret.pem)).toEqual(fingerprints(rotated));
  const newCtb = await until(bundleOf, (b) => fingerprints(b?.pem ?? "").join() === fingerprints(rotated).join(), 20_000);
  expect(fingerprints(newCtb?.pem ?? "")).toEqual(fingerprints(rotated));
  // The shim picked up the new client certificate too and still signs.
  const { name } = await stack.requestAsIstiod("e2e-after-rotation");
  expect(issued(await waitForCsr(stack.istiod, name, issued, 20_000))).toBe(true);
});
