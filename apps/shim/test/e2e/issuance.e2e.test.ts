/**
 * Issuance end to end (issue 4): a real kube-apiserver of this file's own, the real Worker behind the edge
 * emulator, one shim running with the token and the RBAC of infra/k8s. It serves its health and metrics,
 * issues what istiod asks for with a chain to the root, leaves alone what is not its to sign, and drops a
 * CSR deleted while in flight. Every test makes its own CSRs; none needs another to have run.
 */
import { X509Certificate } from "node:crypto";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { chainOf, conditionOf, createCsr, decide, deleteCsr, getCsr, issued, putStatus, waitForCsr } from "../support/csr-api.ts";
import { counterTotal } from "../support/metric-value.ts";
import { until } from "../support/until.ts";
import { workloadCsr } from "../support/workload-csr.ts";
import { OTHER_SIGNER_NAME, SIGNER_NAME, spiffe, unique } from "./harness.ts";
import { useOwnStack } from "./own-stack.ts";
import { certificates } from "./published-roots.ts";

const own = useOwnStack({ shim: "shim-a" });

describe("a shim issuing against the real apiserver and the real signer", () => {
  it("serves /healthz, /readyz and Prometheus metrics, and nothing else", async () => {
    const base = `http://127.0.0.1:${own.shim.shim.port}`;
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
    const metrics = await fetch(`${base}/metrics`);
    expect(metrics.status).toBe(200);
    const text = await metrics.text();
    expect(text).toMatch(/^edgeca_shim_leader 1$/m);
    for (const name of ["edgeca_shim_certificates_issued_total", "edgeca_shim_signer_request_duration_seconds", "edgeca_shim_queue_depth", "edgeca_shim_issue_latency_seconds"]) {
      expect(text).toContain(name);
    }
    expect((await fetch(`${base}/`)).status).toBe(404);
    expect((await fetch(`${base}/healthz`, { method: "POST" })).status).toBe(405);
  });

  it("issues approved Istio-shaped CSRs (RSA-2048 sidecar, P-256 ztunnel) whose chains verify to the root", async () => {
    const { stack } = own;
    const root = new X509Certificate(await readFile(join(stack.materialDir, "root-cert.pem")));
    for (const kind of ["sidecar-rsa2048", "ztunnel-p256"] as const) {
      const { name, csr } = await stack.requestAsIstiod(`e2e-issue-${kind}`, kind, spiffe("bookinfo", kind));
      const done = await waitForCsr(stack.istiod, name, issued);
      expect(issued(done)).toBe(true);
      const chain = certificates(chainOf(done));
      const [leaf, ...intermediates] = chain;
      if (leaf === undefined) throw new Error("no leaf");
      expect(intermediates.length).toBeGreaterThan(0);
      // Every link verifies with Node's own X.509 code, ending at the root from `edgeca init`.
      for (const [i, cert] of chain.entries()) {
        const issuer = chain[i + 1] ?? root;
        expect(cert.checkIssued(issuer)).toBe(true);
        expect(cert.verify(issuer.publicKey)).toBe(true);
      }
      expect(leaf.subjectAltName).toBe(`URI:${spiffe("bookinfo", kind)}`);
      expect(leaf.ca).toBe(false);
      const spki = Buffer.from(await crypto.subtle.exportKey("spki", csr.keys.publicKey));
      expect(leaf.publicKey.export({ type: "spki", format: "der" }).equals(spki)).toBe(true);
      await deleteCsr(stack.istiod, name);
    }
  });

  it("leaves unapproved, Denied and already-Failed CSRs and other signer names alone", async () => {
    const { cp, stack, shim: primary } = own;
    const pending = unique("e2e-pending");
    await createCsr(stack.istiod, pending, SIGNER_NAME, (await workloadCsr("ztunnel-p256", spiffe("e2e", "pending"))).pem);
    const denied = unique("e2e-denied");
    await createCsr(stack.istiod, denied, SIGNER_NAME, (await workloadCsr("ztunnel-p256", spiffe("e2e", "denied"))).pem);
    await decide(stack.istiod, denied, "Denied");
    const failed = unique("e2e-failed");
    await createCsr(stack.istiod, failed, SIGNER_NAME, (await workloadCsr("ztunnel-p256", spiffe("e2e", "failed"))).pem);
    // Failed first (the admin stands in for another controller), approved afterwards: the shim sees an
    // approved CSR that is already Failed and must not touch it.
    const failedCsr = await getCsr(cp.admin, failed);
    if (failedCsr === undefined) throw new Error("gone");
    const preFailed = await putStatus(cp.admin, failedCsr, { conditions: [{ type: "Failed", status: "True", reason: "ByAnotherController", message: "e2e" }] });
    expect(preFailed.status, preFailed.text).toBe(200);
    await decide(stack.istiod, failed, "Approved");
    const other = unique("e2e-other-signer");
    await createCsr(cp.admin, other, OTHER_SIGNER_NAME, (await workloadCsr("ztunnel-p256", spiffe("e2e", "other"))).pem);
    await decide(cp.admin, other, "Approved");

    // A control request created after them is issued: the shim has seen the others by then.
    const control = await stack.requestAsIstiod("e2e-control");
    expect(issued(await waitForCsr(stack.istiod, control.name, issued))).toBe(true);
    await sleep(500);

    for (const name of [pending, denied, failed, other]) {
      const csr = await getCsr(cp.admin, name);
      expect(issued(csr), name).toBe(false);
    }
    expect(conditionOf(await getCsr(cp.admin, pending), "Failed")).toBeUndefined();
    expect(conditionOf(await getCsr(cp.admin, denied), "Failed")).toBeUndefined();
    expect(conditionOf(await getCsr(cp.admin, failed), "Failed")?.reason).toBe("ByAnotherController");
    expect(conditionOf(await getCsr(cp.admin, other), "Failed")).toBeUndefined();
    expect(primary.signer.calls(pending) + primary.signer.calls(denied) + primary.signer.calls(failed) + primary.signer.calls(other)).toBe(0);
  });

  it("drops a CSR deleted while in flight without error noise or retries", async () => {
    const { cp, stack, shim: primary } = own;
    const name = unique("e2e-deleted");
    const held = primary.signer.hold(name);
    const csr = await workloadCsr("ztunnel-p256", spiffe("e2e", "deleted"));
    await createCsr(stack.istiod, name, SIGNER_NAME, csr.pem);
    await decide(stack.istiod, name, "Approved");
    await held; // the signer has answered; the shim is about to verify and write
    const retriesBefore = await counterTotal(primary.shim.metrics.retried);
    await deleteCsr(stack.istiod, name);
    await until(async () => getCsr(cp.admin, name), (c) => c === undefined);
    primary.signer.release(name);
    await sleep(1_500);
    expect(primary.signer.calls(name)).toBe(1);
    expect(await counterTotal(primary.shim.metrics.retried)).toBe(retriesBefore);
    const noise = primary.logs.filter((r) => (r.level === "warn" || r.level === "error") && JSON.stringify(r).includes(name));
    expect(noise).toEqual([]);
  });
});
