import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { Problem, type BudgetsConfig } from "@edgeca/shared";
import type { SignerEnv } from "./env.ts";
import { fx, signAsPlain, signRequest } from "../test/support/client.ts";

/** Configuration "a" with the token-less cluster renamed (its own budget object) and given `budgets`. */
function budgetEnv(cluster: string, budgets: Partial<BudgetsConfig>, bindings: Record<string, unknown> = { EDGECA_BUDGETS: env.EDGECA_BUDGETS }): SignerEnv {
  const config = { ...fx.configs.a, clusters: fx.configs.a.clusters.map((c) => (c.name === "plain" ? { ...c, name: cluster, budgets } : c)) };
  return { EDGECA_CONFIG: JSON.stringify(config), ...fx.secrets, ...bindings };
}

const web = () => signRequest(fx.csrs.workloadP256);
const api = () => signRequest(fx.csrs.workloadOther);

async function problem(res: Response): Promise<Problem> {
  return Problem.parse(await res.json());
}

describe("issuance budgets", () => {
  it("throttles a flood of one identity with 429 and Retry-After while another identity of the cluster is served", async () => {
    const e = budgetEnv("flood-identity", { perIdentity: { limit: 3, windowSeconds: 60 } });
    for (let i = 0; i < 3; i++) expect((await signAsPlain(web(), e)).status).toBe(200);
    for (let i = 0; i < 3; i++) {
      const res = await signAsPlain(web(), e);
      expect(res.status).toBe(429);
      const retryAfter = Number(res.headers.get("retry-after"));
      expect(Number.isInteger(retryAfter)).toBe(true);
      expect(retryAfter).toBeGreaterThanOrEqual(1);
      expect(retryAfter).toBeLessThanOrEqual(60);
      const p = await problem(res);
      expect(p.code).toBe("rate_limited");
      expect(p.detail).toContain('identity "spiffe://cluster.local/ns/default/sa/web" of cluster "flood-identity"');
      expect(p.detail).toContain("3 certificates per 60 s (identity budget)");
    }
    expect((await signAsPlain(api(), e)).status).toBe(200);
  });

  it("throttles the whole cluster at its budget, naming the cluster; throttled requests are not counted", async () => {
    const e = budgetEnv("flood-cluster", { cluster: { limit: 4, windowSeconds: 60 } });
    for (const r of [web, web, api, api]) expect((await signAsPlain(r(), e)).status).toBe(200);
    const res = await signAsPlain(api(), e);
    expect(res.status).toBe(429);
    expect((await problem(res)).detail).toMatch(/^issuance budget spent: cluster "flood-cluster" may have 4 certificates per 60 s \(cluster budget\); retry after \d+ s$/);
    // A cluster of the same configuration under another name has its own count.
    expect((await signAsPlain(api(), budgetEnv("flood-cluster-2", { cluster: { limit: 4, windowSeconds: 60 } }))).status).toBe(200);
  });

  it("throttles one set of control-plane DNS names by its own budget", async () => {
    const e = budgetEnv("flood-dns", { perDnsNames: { limit: 1, windowSeconds: 60 } });
    const cp = () => signRequest(fx.csrs.controlPlane, { usages: ["digital signature", "key encipherment", "server auth"] });
    expect((await signAsPlain(cp(), e)).status).toBe(200);
    const res = await signAsPlain(cp(), e);
    expect(res.status).toBe(429);
    expect((await problem(res)).detail).toContain('DNS names "istiod.istio-system.svc" of cluster "flood-dns"');
    expect((await signAsPlain(web(), e)).status).toBe(200);
  });

  it("serves the identity again once its window has closed", async () => {
    const e = budgetEnv("window-reopens", { perIdentity: { limit: 1, windowSeconds: 1 } });
    expect((await signAsPlain(web(), e)).status).toBe(200);
    const refused = await signAsPlain(web(), e);
    expect(refused.status).toBe(429);
    expect(refused.headers.get("retry-after")).toBe("1");
    await new Promise((resolve) => setTimeout(resolve, 1100));
    expect((await signAsPlain(web(), e)).status).toBe(200);
  });
});

describe("issuance budgets: the backend unavailable", () => {
  const failing = {
    EDGECA_BUDGETS: {
      idFromName: (name: string) => name,
      get: () => ({ take: () => Promise.reject(new Error("Durable Object is overloaded")) }),
    },
  };

  it("fail-closed answers 503 naming the cause, with no binding and with a failing object", async () => {
    for (const [name, bindings] of [["closed-unbound", {}], ["closed-failing", failing]] as const) {
      const res = await signAsPlain(web(), budgetEnv(name, { onBackendUnavailable: "fail-closed" }, bindings));
      expect(res.status).toBe(503);
      const p = await problem(res);
      expect(p.code).toBe("unavailable");
      expect(p.detail).toContain(`cluster "${name}" is configured fail-closed`);
      expect(p.detail).toContain(name === "closed-unbound" ? "EDGECA_BUDGETS Durable Object binding is not configured" : "Durable Object is overloaded");
    }
  });

  it("fail-open (the default) issues", async () => {
    expect((await signAsPlain(web(), budgetEnv("open-unbound", {}, {}))).status).toBe(200);
    expect((await signAsPlain(web(), budgetEnv("open-failing", { onBackendUnavailable: "fail-open" }, failing))).status).toBe(200);
  });
});

describe("issuance budgets: configuration", () => {
  it("refuses a budget of 0 or a window over a day, naming the field", async () => {
    const e = budgetEnv("bad", { perIdentity: { limit: 0, windowSeconds: 90_000 } });
    const res = await signAsPlain(web(), e);
    expect(res.status).toBe(503);
    const detail = (await problem(res)).detail;
    expect(detail).toContain("clusters.1.budgets.perIdentity.limit");
    expect(detail).toContain("clusters.1.budgets.perIdentity.windowSeconds");
  });
});
