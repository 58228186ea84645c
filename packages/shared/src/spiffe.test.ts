import { describe, expect, it } from "vitest";
import { isDnsLabel, isDnsSubdomain, parseSpiffeId, parseWorkloadId, SpiffeError, type WorkloadId } from "./spiffe.ts";

describe("parseWorkloadId", () => {
  it("reads Istio's workload form", () => {
    expect(parseWorkloadId("spiffe://cluster.local/ns/default/sa/bookinfo-productpage")).toEqual({
      trustDomain: "cluster.local",
      namespace: "default",
      serviceAccount: "bookinfo-productpage",
    });
  });
  it.each([
    ["https://cluster.local/ns/a/sa/b", /scheme/],
    ["spiffe://Cluster.Local/ns/a/sa/b", /trust domain/],
    ["spiffe://cluster.local:443/ns/a/sa/b", /trust domain/],
    ["spiffe://user@cluster.local/ns/a/sa/b", /trust domain/],
    ["spiffe://cluster.local/ns//sa/b", /empty path segment/],
    ["spiffe://cluster.local/ns/../sa/b", /relative/],
    ["spiffe://cluster.local/ns/a/sa/b/", /empty path segment/],
    ["spiffe://cluster.local/ns/a/sa/b?x=1", /characters outside/],
    ["spiffe://cluster.local/ns/a/sa", /workload SPIFFE ID/],
    ["spiffe://cluster.local/ns/a/sa/b/extra", /workload SPIFFE ID/],
    ["spiffe://cluster.local/sa/b/ns/a", /workload SPIFFE ID/],
  ])("refuses %s", (uri, message) => {
    expect(() => parseWorkloadId(uri)).toThrow(SpiffeError);
    expect(() => parseWorkloadId(uri)).toThrow(message);
  });
  it.each([
    ["upper case", "spiffe://td/ns/Foo/sa/web", 'namespace "Foo" is not a DNS label'],
    ["a dot", "spiffe://td/ns/a.b/sa/web", 'namespace "a.b" is not a DNS label'],
    ["an underscore", "spiffe://td/ns/a_b/sa/web", 'namespace "a_b" is not a DNS label'],
    ["a leading '-'", "spiffe://td/ns/-a/sa/web", 'namespace "-a" is not a DNS label'],
    ["a trailing '-'", "spiffe://td/ns/a-/sa/web", 'namespace "a-" is not a DNS label'],
    ["64 characters", `spiffe://td/ns/${"a".repeat(64)}/sa/web`, "at most 63 characters"],
    ["2,000 characters", `spiffe://td/ns/${"a".repeat(2000)}/sa/web`, `namespace "${"a".repeat(80)}…" is not a DNS label`],
  ])("refuses a namespace with %s, naming the rule", (_, uri, message) => {
    expect(() => parseWorkloadId(uri)).toThrow(SpiffeError);
    expect(() => parseWorkloadId(uri)).toThrow(message);
  });
  it.each([
    ["upper case", "spiffe://td/ns/default/sa/Web", 'service account "Web" is not a DNS subdomain'],
    ["an empty label", "spiffe://td/ns/default/sa/a..b", 'service account "a..b"'],
    ["a label ending in '-'", "spiffe://td/ns/default/sa/a-.b", 'service account "a-.b"'],
    ["a trailing dot", "spiffe://td/ns/default/sa/a.", 'service account "a."'],
    ["an underscore", "spiffe://td/ns/default/sa/a_b", 'service account "a_b"'],
    ["254 characters", `spiffe://td/ns/default/sa/${"a".repeat(254)}`, "at most 253 characters"],
  ])("refuses a service account with %s, naming the rule", (_, uri, message) => {
    expect(() => parseWorkloadId(uri)).toThrow(SpiffeError);
    expect(() => parseWorkloadId(uri)).toThrow(message);
  });
  it("accepts the longest names Kubernetes admits", () => {
    const namespace = `a${"-".repeat(61)}z`;
    const serviceAccount = `${"b".repeat(100)}.${"c".repeat(100)}.${"d".repeat(51)}`;
    expect(serviceAccount).toHaveLength(253);
    expect(parseWorkloadId(`spiffe://td/ns/${namespace}/sa/${serviceAccount}`)).toEqual({ trustDomain: "td", namespace, serviceAccount });
  });
  it("refuses IDs over 2048 bytes", () => {
    expect(() => parseSpiffeId(`spiffe://td/${"a".repeat(2048)}`)).toThrow(/2048/);
  });

  it("accepts and refuses exactly what the SPIFFE rules followed by the workload rules do", () => {
    // parseWorkloadId reads a well-formed ID by offsets and only a refused one segment by segment; the two
    // must never disagree, so random near-workload IDs are compared with the rules applied one after another.
    const byRules = (uri: string): WorkloadId | undefined => {
      try {
        const { trustDomain, segments } = parseSpiffeId(uri);
        const [ns, namespace, sa, serviceAccount, ...extra] = segments;
        if (ns !== "ns" || sa !== "sa" || namespace === undefined || serviceAccount === undefined || extra.length > 0) return undefined;
        return isDnsLabel(namespace) && isDnsSubdomain(serviceAccount) ? { trustDomain, namespace, serviceAccount } : undefined;
      } catch {
        return undefined;
      }
    };
    const pieces = ["spiffe://", "td", "cluster.local", "/", "ns", "sa", "/ns/", "/sa/", "a", "A", "-", ".", "..", "_", "x.y", ""];
    let seed = 7;
    const pick = (): string => pieces[((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 16) % pieces.length] ?? "";
    // Compared by hand and reported together: 20,000 expect() calls took over the 5 s timeout on a loaded machine.
    const actual = (uri: string): WorkloadId | string => {
      try {
        return parseWorkloadId(uri);
      } catch (error) {
        return error instanceof SpiffeError ? "refused" : `threw ${String(error)}`;
      }
    };
    let accepted = 0;
    const disagreements: string[] = [];
    for (let i = 0; i < 20000; i++) {
      const uri = i % 2 === 0 ? `spiffe://${pick()}/ns/${pick()}${pick()}/sa/${pick()}${pick()}` : Array.from({ length: 8 }, pick).join("");
      const expected = byRules(uri);
      const got = actual(uri);
      if (expected === undefined) {
        if (got !== "refused") disagreements.push(`${uri}: expected refused, got ${JSON.stringify(got)}`);
        continue;
      }
      accepted++;
      const same = typeof got === "object" && got.trustDomain === expected.trustDomain && got.namespace === expected.namespace && got.serviceAccount === expected.serviceAccount;
      if (!same) disagreements.push(`${uri}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(got)}`);
    }
    expect(disagreements.slice(0, 10)).toEqual([]);
    expect(accepted).toBeGreaterThan(50);
  });
});
