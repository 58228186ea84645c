/**
 * The first demo (issue 2): fresh CA material, the local signer (real Worker in workerd behind the
 * mTLS edge emulator), Istio-shaped certificate requests over mTLS, and each answer verified twice —
 * with `edgeca verify`'s checks and with `openssl verify` when openssl is installed.
 */
import { execFile } from "node:child_process";
import { webcrypto } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { Problem, SignResponse } from "@edgeca/shared";
import { initMaterial, postJson, startLocalSigner, type LocalSigner } from "../signer/index.ts";
import { formatVerification, parseCertificates, verifyChain } from "../verify/index.ts";
import { createIstioCsr, type IstioCsrOptions } from "./istio-csr.ts";

const SIGNER_NAME = "example.com/foo";
const USAGES = ["digital signature", "key encipherment", "server auth", "client auth"];
const ISTIOD = "system:serviceaccount:istio-system:istiod";

interface Case {
  readonly title: string;
  readonly csr: IstioCsrOptions;
  readonly spiffeId: string;
  /** What the signer should do with it. */
  readonly expect: "issued" | "refused";
}

const CASES: readonly Case[] = [
  {
    title: "sidecar (RSA-2048, subject O=, critical URI SAN)",
    csr: { keyType: "RSA-2048", uris: ["spiffe://cluster.local/ns/default/sa/bookinfo-productpage"] },
    spiffeId: "spiffe://cluster.local/ns/default/sa/bookinfo-productpage",
    expect: "issued",
  },
  {
    title: "ztunnel-style (ECDSA P-256, empty subject)",
    csr: { keyType: "P-256", uris: ["spiffe://cluster.local/ns/bookinfo/sa/bookinfo-ratings"] },
    spiffeId: "spiffe://cluster.local/ns/bookinfo/sa/bookinfo-ratings",
    expect: "issued",
  },
  {
    title: "a workload from another trust domain (must be refused)",
    csr: { keyType: "P-256", uris: ["spiffe://evil.example/ns/default/sa/intruder"] },
    spiffeId: "spiffe://evil.example/ns/default/sa/intruder",
    expect: "refused",
  },
];

const run = promisify(execFile);

async function opensslVerify(rootPath: string, chainPath: string, leafPath: string): Promise<string> {
  try {
    const { stdout } = await run("openssl", ["verify", "-CAfile", rootPath, "-untrusted", chainPath, leafPath]);
    return stdout.trim();
  } catch (error) {
    const e = error as NodeJS.ErrnoException & { stdout?: string; stderr?: string };
    if (e.code === "ENOENT") return "skipped (openssl not installed)";
    return `FAILED: ${(e.stdout ?? "") + (e.stderr ?? "")}`.trim();
  }
}

/** Runs the demo, printing as it goes; resolves to the exit status (0 when every case went as intended). */
export async function runFirstDemo(print: (line: string) => void = console.log): Promise<number> {
  const started = performance.now();
  print("edgeca demo: a certificate for an Istio-shaped request, from a signer whose keys live outside the cluster\n");
  print("1. edgeca init: a root CA, an issuing CA, a client CA and the shim's client certificate");
  const dir = await initMaterial();
  print(`   material in ${dir} (the root's key stays in offline/, never goes to the Worker)`);
  print("2. edgeca signer serve: the real Worker in workerd, behind the mTLS edge emulator");
  let signer: LocalSigner | undefined;
  const scratch = await mkdtemp(join(tmpdir(), "edgeca-demo-"));
  let unexpected = 0;
  try {
    signer = await startLocalSigner({ dir });
    print(`   listening on ${signer.url}`);
    const client = { certPem: await readFile(join(dir, "client-cert.pem"), "utf8"), keyPem: await readFile(join(dir, "client-key.pem"), "utf8") };
    const rootPath = join(dir, "root-cert.pem");
    const roots = parseCertificates(await readFile(rootPath, "utf8"), rootPath);
    print("3. POST /v1/sign over mTLS, as the shim does for every approved CSR\n");
    for (const [index, c] of CASES.entries()) {
      print(`-- ${c.title}`);
      const { csrPem, keys } = await createIstioCsr(c.csr);
      const t0 = performance.now();
      const answer = await postJson({
        url: signer.url,
        path: "/v1/sign",
        caPem: signer.serverCaPem,
        client,
        json: { signerName: SIGNER_NAME, csr: csrPem, usages: USAGES, expirationSeconds: 86_400, requestor: { username: ISTIOD } },
      });
      const ms = (performance.now() - t0).toFixed(0);
      if (answer.status !== 200) {
        const problem = Problem.safeParse(JSON.parse(answer.body));
        const detail = problem.success ? `${problem.data.code}: ${problem.data.detail}` : answer.body.slice(0, 200);
        print(`   ${answer.status} in ${ms} ms — ${detail}`);
        if (c.expect === "refused") print("   refused, as intended\n");
        else unexpected += 1;
        continue;
      }
      if (c.expect === "refused") {
        print("   UNEXPECTED: issued a certificate that policy should refuse\n");
        unexpected += 1;
        continue;
      }
      const issued = SignResponse.parse(JSON.parse(answer.body));
      print(`   200 in ${ms} ms — serial ${issued.serialNumber}, valid ${issued.notBefore} → ${issued.notAfter}`);
      const chain = parseCertificates(issued.certificateChain, "certificateChain");
      const verification = verifyChain({ chain, roots, spiffeId: c.spiffeId });
      print(formatVerification(verification).replace(/^/gm, "   "));
      const [leaf] = chain;
      const chainPath = join(scratch, `chain-${index}.pem`);
      const leafPath = join(scratch, `leaf-${index}.pem`);
      await writeFile(chainPath, issued.certificateChain);
      await writeFile(leafPath, leaf === undefined ? "" : leaf.toString());
      print(`   openssl verify: ${await opensslVerify(rootPath, chainPath, leafPath)}`);
      // The certificate must carry the requester's key, nothing else (what the shim checks too).
      const requested = Buffer.from(await webcrypto.subtle.exportKey("spki", keys.publicKey));
      const keyMatches = leaf?.publicKey.export({ type: "spki", format: "der" }).equals(requested) ?? false;
      print(`   public key is the CSR's: ${keyMatches ? "yes" : "NO"}`);
      if (!verification.ok || !keyMatches) unexpected += 1;
      print("");
    }
  } finally {
    await signer?.stop();
    await rm(scratch, { recursive: true, force: true });
  }
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  print(`signer stopped. ${CASES.length} requests, ${unexpected === 0 ? "every one handled as intended" : `${unexpected} UNEXPECTED`} (${seconds} s).`);
  print(`Where the keys are: the issuing CA's key in ${join(dir, "worker", "secrets.json")} (what \`wrangler secret bulk\` uploads to the Worker),`);
  print(`the root's and the client CA's keys in ${join(dir, "offline")}; the cluster side holds only the shim's client key. No CA key ever reached a cluster.`);
  return unexpected === 0 ? 0 : 1;
}
