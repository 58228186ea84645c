import { describe, expect, it } from "vitest";
import { parseSpiffeId, parseWorkloadId, SpiffeError } from "./spiffe.ts";

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
  it("refuses IDs over 2048 bytes", () => {
    expect(() => parseSpiffeId(`spiffe://td/${"a".repeat(2048)}`)).toThrow(/2048/);
  });
});
