import { describe, expect, it } from "vitest";
import { Bundle, decodePemBlocks, parseCertificateDer, SignResponse } from "@edgeca/shared";
import { call, envFor, fx, signAsPlain, signRequest, verdict } from "../test/support/client.ts";
import type { SignerEnv } from "./env.ts";

async function issuerSubjectOf(env: SignerEnv): Promise<Uint8Array> {
  const res = await signAsPlain(signRequest(fx.csrs.workloadP256), env);
  expect(res.status).toBe(200);
  const [leaf] = decodePemBlocks(SignResponse.parse(await res.json()).certificateChain);
  if (leaf === undefined) throw new Error("no leaf");
  return parseCertificateDer(leaf).issuer;
}

async function bundleOf(env: SignerEnv): Promise<Bundle> {
  const res = await call("/v1/bundle", { cf: verdict(fx.fingerprints.plain), env });
  expect(res.status).toBe(200);
  return Bundle.parse(await res.json());
}

const subjectOf = (pem: string): Uint8Array => {
  const [der] = decodePemBlocks(pem);
  if (der === undefined) throw new Error("no certificate");
  return parseCertificateDer(der).subject;
};

describe("rotation A → A+B → B is configuration only", () => {
  it("A: signs with A, bundle has A's root", async () => {
    expect(await issuerSubjectOf(envFor("a"))).toEqual(subjectOf(fx.configs.a.issuers[0]?.chain ?? ""));
    expect((await bundleOf(envFor("a"))).roots).toEqual([fx.roots.a]);
  });

  it("A+B with A active: still signs with A, bundle carries both roots", async () => {
    expect(await issuerSubjectOf(envFor("ab"))).toEqual(subjectOf(fx.configs.a.issuers[0]?.chain ?? ""));
    const bundle = await bundleOf(envFor("ab"));
    expect(bundle.roots).toEqual([fx.roots.a, fx.roots.b]);
    expect(bundle.pem).toBe(fx.roots.a + fx.roots.b);
  });

  it("A+B with B active: signs with B, bundle still carries both roots", async () => {
    expect(await issuerSubjectOf(envFor("abActiveB"))).toEqual(subjectOf(fx.configs.b.issuers[0]?.chain ?? ""));
    expect((await bundleOf(envFor("abActiveB"))).roots).toHaveLength(2);
  });

  it("B: signs with B, bundle has only B's root", async () => {
    expect(await issuerSubjectOf(envFor("b"))).toEqual(subjectOf(fx.configs.b.issuers[0]?.chain ?? ""));
    expect((await bundleOf(envFor("b"))).roots).toEqual([fx.roots.b]);
  });
});

describe("issuer lifetime", () => {
  it("truncates NotAfter to the issuing CA's NotAfter", async () => {
    const res = await signAsPlain(signRequest(fx.csrs.workloadP256, { expirationSeconds: 86_400 }), envFor("short"));
    const answer = SignResponse.parse(await res.json());
    const chain = fx.configs.short.issuers[0]?.chain ?? "";
    const [caDer] = decodePemBlocks(chain);
    if (caDer === undefined) throw new Error("no CA");
    expect(Date.parse(answer.notAfter)).toBe(parseCertificateDer(caDer).notAfter.getTime());
    expect(Date.parse(answer.notAfter) - Date.now()).toBeLessThan(3_600_000);
  });
});
