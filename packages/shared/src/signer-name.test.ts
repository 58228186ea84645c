import { describe, expect, it } from "vitest";
import { SignerName } from "./config.ts";
import { signerNameProblem } from "./signer-name.ts";

describe("signer names, as kube-apiserver validates spec.signerName", () => {
  it("accepts the names Kubernetes accepts", () => {
    for (const name of ["example.com/foo", "kubernetes.io/kube-apiserver-client", "istio.io/a.b-c", "a.b/c", `${"a".repeat(63)}.io/x`]) {
      expect(signerNameProblem(name), name).toBeUndefined();
      expect(SignerName.safeParse(name).success, name).toBe(true);
    }
  });

  it("refuses what the apiserver refuses, saying which part is wrong", () => {
    const cases: readonly (readonly [string, RegExp])[] = [
      ["example.com/~foo", /path .* "~foo"/],
      ["example.com/Foo", /path .* "Foo"/],
      ["example.com/foo/bar", /exactly one "\/"/],
      ["no-slash", /exactly one "\/"/],
      ["localhost/foo", /at least two labels/],
      ["Example.com/foo", /domain .* "Example"/],
      ["example.com/", /path .* ""/],
      ["example.com/foo_bar", /path .* "foo_bar"/],
      [`${"a".repeat(64)}.io/x`, /not an RFC 1123 label/],
      [`${"a.".repeat(127)}io/x`, /longer than 253/],
    ];
    for (const [name, message] of cases) {
      expect(signerNameProblem(name), name).toMatch(message);
      const parsed = SignerName.safeParse(name);
      expect(parsed.success, name).toBe(false);
      expect(parsed.error?.issues[0]?.message, name).toMatch(message);
    }
  });
});
