/**
 * Certificates as Go's crypto/x509 reads them: Istio's workloads and istiod are Go, so a leaf Go cannot
 * parse is a leaf nobody in the mesh can use. Every leaf the core issues must parse and verify to the
 * root; leaves written with the keys the signer now refuses (bypassing policy) show why it refuses them.
 * Go is part of the toolchain (testenv builds etcd and kube-apiserver with it); the checker below uses
 * the standard library only and builds offline.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decodePemBlocks, DerReader, encodePem, Tag, valueOf, type KeyUsageName } from "@edgeca/shared";
import { SigningCore } from "../src/core.ts";
import { signTbs, writeTbs } from "../src/certificate-builder.ts";
import type { TestFixtures } from "../test/support/fixtures.ts";
import { compressedEcSpki, spkiWithParameters } from "@edgeca/shared/testing";
import { ISTIOD, makeFixtures, SIGNER_NAME, WORKLOAD_ID } from "./material.ts";

const CHECKER = `package main

import (
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"os"
)

func certs(path string) []*x509.Certificate {
	data, err := os.ReadFile(path)
	if err != nil {
		panic(err)
	}
	var out []*x509.Certificate
	for block, rest := pem.Decode(data); block != nil; block, rest = pem.Decode(rest) {
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			panic(err)
		}
		out = append(out, c)
	}
	return out
}

// Usage: x509check ROOTS INTERMEDIATES LEAF...; prints one {"parse","verify"} object per leaf.
func main() {
	roots, intermediates := x509.NewCertPool(), x509.NewCertPool()
	for _, c := range certs(os.Args[1]) {
		roots.AddCert(c)
	}
	for _, c := range certs(os.Args[2]) {
		intermediates.AddCert(c)
	}
	results := []map[string]string{}
	for _, path := range os.Args[3:] {
		data, _ := os.ReadFile(path)
		block, _ := pem.Decode(data)
		r := map[string]string{"parse": "", "verify": ""}
		leaf, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			r["parse"] = err.Error()
		} else if _, err := leaf.Verify(x509.VerifyOptions{Roots: roots, Intermediates: intermediates, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}); err != nil {
			r["verify"] = err.Error()
		}
		results = append(results, r)
	}
	json.NewEncoder(os.Stdout).Encode(results)
}
`;

let fx: TestFixtures;
let core: SigningCore;
let dir: string;
let checker: string;

beforeAll(async () => {
  fx = await makeFixtures();
  core = await SigningCore.load({ EDGECA_CONFIG: JSON.stringify(fx.configs.a), ...fx.secrets });
  dir = mkdtempSync(join(tmpdir(), "edgeca-go-x509-"));
  writeFileSync(join(dir, "main.go"), CHECKER);
  checker = join(dir, "x509check");
  // GOPROXY=off and GOTOOLCHAIN=local: nothing is fetched; the standard library is all it needs.
  execFileSync("go", ["build", "-o", checker, "main.go"], { cwd: dir, env: { ...process.env, GOPROXY: "off", GOTOOLCHAIN: "local", GOFLAGS: "-mod=mod" } });
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** Go's verdict on each leaf PEM, with the issuing chain of configuration "a". */
function goVerdicts(leaves: readonly string[]): { parse: string; verify: string }[] {
  writeFileSync(join(dir, "roots.pem"), fx.roots.a);
  writeFileSync(join(dir, "intermediates.pem"), core.active.chainPem);
  const paths = leaves.map((pem, i) => {
    const path = join(dir, `leaf-${i}.pem`);
    writeFileSync(path, pem);
    return path;
  });
  return JSON.parse(execFileSync(checker, [join(dir, "roots.pem"), join(dir, "intermediates.pem"), ...paths], { encoding: "utf8" })) as { parse: string; verify: string }[];
}

/** A leaf for `spki` written and signed by the core's builder directly, with no policy in front of it. */
async function leafBypassingPolicy(spki: Uint8Array): Promise<string> {
  const fields = DerReader.inside(spki, new DerReader(spki).expect(Tag.SEQUENCE, "spki"));
  fields.expect(Tag.SEQUENCE, "algorithm");
  const publicKey = valueOf(spki, fields.expect(Tag.BIT_STRING, "subjectPublicKey")).subarray(1);
  const now = Date.now();
  const unsigned = writeTbs(core.active, {
    spki,
    publicKey,
    dnsNames: [],
    uris: [WORKLOAD_ID],
    keyUsage: new Set<KeyUsageName>(["digitalSignature"]),
    extKeyUsage: ["1.3.6.1.5.5.7.3.2"],
    notBefore: new Date(now - 300_000),
    notAfter: new Date(now + 3_600_000),
  });
  return (await signTbs(core.active, unsigned)).pem;
}

async function issuedLeaf(csr: string): Promise<string> {
  const answer = await core.sign({ signerName: SIGNER_NAME, csr, usages: ["digital signature", "key encipherment", "server auth", "client auth"], requestor: { username: ISTIOD } }, core.cluster("plain"));
  const [leaf] = decodePemBlocks(answer.certificateChain);
  if (leaf === undefined) throw new Error("empty chain");
  return encodePem(leaf, "CERTIFICATE");
}

describe("Go's crypto/x509", () => {
  it("parses every kind of leaf the signer issues and verifies it to the root", async () => {
    const leaves = [await issuedLeaf(fx.csrs.workloadP256), await issuedLeaf(fx.csrs.workloadP384), await issuedLeaf(fx.csrs.workloadRsa2048)];
    expect(goVerdicts(leaves)).toEqual([
      { parse: "", verify: "" },
      { parse: "", verify: "" },
      { parse: "", verify: "" },
    ]);
  });

  it("cannot parse a leaf carrying a compressed point or an RSA key without NULL parameters, which the signer therefore refuses", async () => {
    const ec = await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, ["sign", "verify"]);
    const rsa = await crypto.subtle.generateKey({ name: "RSASSA-PKCS1-v1_5", modulusLength: 2048, publicExponent: Uint8Array.of(1, 0, 1), hash: "SHA-256" }, true, ["sign", "verify"]);
    const [compressed, noNull] = goVerdicts([await leafBypassingPolicy(await compressedEcSpki(ec.publicKey)), await leafBypassingPolicy(await spkiWithParameters(rsa.publicKey, new Uint8Array(0)))]);
    // The message the issue reported from Istio's Go workloads.
    expect(compressed?.parse).toBe("ecdsa: invalid uncompressed public key");
    expect(noNull?.parse).toMatch(/^x509: .*NULL/);
    await expect(issuedLeaf(fx.csrs.compressedP256)).rejects.toThrow(/EC public key must be an uncompressed point/);
    await expect(issuedLeaf(fx.csrs.rsaWithoutNullParameters)).rejects.toThrow(/rsaEncryption parameters must be NULL/);
  });
});
