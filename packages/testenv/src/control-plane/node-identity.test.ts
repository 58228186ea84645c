import { describe, expect, test } from "vitest";
import { useControlPlane } from "../vitest/index.ts";
import { createTestNode } from "./node-identity.ts";
import { uniqueName } from "./test-helpers.ts";

const cp = useControlPlane();

describe("a test node's identity on the real apiserver", () => {
  test("the apiserver reads the node's client certificate as system:node:NAME in system:nodes, and the Node authorizer lets it read its Node only", async () => {
    const name = uniqueName("node");
    const node = await createTestNode(cp, name);
    const review = await node.api.send("POST", "/apis/authentication.k8s.io/v1/selfsubjectreviews", {
      apiVersion: "authentication.k8s.io/v1",
      kind: "SelfSubjectReview",
    });
    expect(review.status).toBe(201);
    const user = (review.json as { status: { userInfo: { username: string; groups: string[] } } }).status.userInfo;
    expect(user.username).toBe(`system:node:${name}`);
    expect(user.groups).toContain("system:nodes");

    const own = await node.api.send("GET", `/api/v1/nodes/${name}`);
    expect(own.status).toBe(200);
    expect((own.json as { metadata: { uid: string } }).metadata.uid).toBe(node.uid);
    // NodeRestriction: a node may not change another Node.
    const other = await createTestNode(cp, uniqueName("node"));
    const patched = await node.api.send("PATCH", `/api/v1/nodes/${other.name}`, { metadata: { labels: { x: "y" } } }, "application/merge-patch+json");
    expect(patched.status).toBe(403);
  });
});
