import "reflect-metadata";
import { webcrypto } from "node:crypto";
import * as x509 from "@peculiar/x509";
import { describe, expect, test } from "vitest";
import { useControlPlane } from "../vitest/index.ts";
import { clusterGrant, eventually, uniqueName } from "./test-helpers.ts";

const cp = useControlPlane();
const csrs = "/apis/certificates.k8s.io/v1/certificatesigningrequests";
const signerName = "kubernetes.io/kube-apiserver-client";
const ecdsa = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" } as const;

async function newCsr(subject: string): Promise<x509.Pkcs10CertificateRequest> {
  const keys = await webcrypto.subtle.generateKey(ecdsa, false, ["sign", "verify"]);
  return await x509.Pkcs10CertificateRequestGenerator.create({ name: subject, keys, signingAlgorithm: ecdsa });
}

function csrObject(name: string, csr: x509.Pkcs10CertificateRequest): unknown {
  return {
    apiVersion: "certificates.k8s.io/v1",
    kind: "CertificateSigningRequest",
    metadata: { name },
    spec: {
      request: Buffer.from(csr.toString("pem")).toString("base64"),
      signerName,
      usages: ["digital signature", "client auth"],
      expirationSeconds: 600,
    },
  };
}

/** A throwaway CA that issues a certificate for the CSR's key: the content the status write carries. */
async function issue(csr: x509.Pkcs10CertificateRequest): Promise<string> {
  const caKeys = await webcrypto.subtle.generateKey(ecdsa, false, ["sign", "verify"]);
  const cert = await x509.X509CertificateGenerator.create({
    subject: csr.subject,
    issuer: "CN=test issuer",
    publicKey: csr.publicKey,
    signingKey: caKeys.privateKey,
    signingAlgorithm: ecdsa,
    notBefore: new Date(Date.now() - 60_000),
    notAfter: new Date(Date.now() + 600_000),
  });
  return cert.toString("pem");
}

interface CsrState {
  metadata: { resourceVersion?: string };
  status?: { certificate?: string; conditions?: { type: string; status: string }[] };
}

function messageOf(status: unknown): string {
  return typeof status === "object" && status !== null && "message" in status && typeof status.message === "string" ? status.message : "";
}

async function getCsr(name: string): Promise<CsrState> {
  return (await cp.admin.request("GET", `${csrs}/${name}`)) as CsrState;
}

describe("CertificateSigningRequests on the real apiserver", () => {
  test("a kubernetes.io signer's CSR is approved via /approval, and only an identity with `sign` may set its certificate", async () => {
    const name = uniqueName("csr");
    const csr = await newCsr("CN=edgeca-test-user, O=edgeca");
    await cp.admin.request("POST", csrs, csrObject(name, csr));

    const pending = await getCsr(name);
    await cp.admin.request("PUT", `${csrs}/${name}/approval`, {
      ...pending,
      status: { conditions: [{ type: "Approved", status: "True", reason: "EdgecaTest", message: "approved by the test" }] },
    });
    const approved = await getCsr(name);
    expect(approved.status?.conditions?.map((c) => `${c.type}=${c.status}`)).toEqual(["Approved=True"]);
    expect(approved.metadata.resourceVersion).not.toBe(pending.metadata.resourceVersion);

    // A "signer" that RBAC lets update the status subresource but that holds no `sign` on the signer name.
    const ns = uniqueName("signer");
    const sa = "would-be-signer";
    const [role, binding] = clusterGrant(uniqueName("csr-status"), ns, sa, [
      { apiGroups: ["certificates.k8s.io"], resources: ["certificatesigningrequests"], verbs: ["get", "list", "watch"] },
      { apiGroups: ["certificates.k8s.io"], resources: ["certificatesigningrequests/status"], verbs: ["update"] },
    ]);
    await cp.admin.request("POST", "/apis/rbac.authorization.k8s.io/v1/clusterroles", role);
    await cp.admin.request("POST", "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings", binding);
    const signer = cp.clientForToken(await cp.mintToken({ namespace: ns, serviceAccount: sa }));
    const certificate = Buffer.from(await issue(csr)).toString("base64");
    const withCertificate = async (): Promise<unknown> => ({ ...(await getCsr(name)), status: { ...approved.status, certificate } });

    // RBAC allows the update (after its cache catches up); the CertificateSigning plugin then refuses it.
    const refused = await eventually(
      async () => signer.send("PUT", `${csrs}/${name}/status`, await withCertificate()),
      (r) => messageOf(r.json).includes("user not permitted to sign"),
    );
    expect(refused.status).toBe(403);
    expect(messageOf(refused.json)).toContain(`user not permitted to sign requests with signerName "${signerName}"`);
    expect((await getCsr(name)).status?.certificate).toBeUndefined();

    const [signRole, signBinding] = clusterGrant(uniqueName("csr-sign"), ns, sa, [
      { apiGroups: ["certificates.k8s.io"], resources: ["signers"], verbs: ["sign"], resourceNames: [signerName] },
    ]);
    await cp.admin.request("POST", "/apis/rbac.authorization.k8s.io/v1/clusterroles", signRole);
    await cp.admin.request("POST", "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings", signBinding);
    const written = await eventually(
      async () => signer.send("PUT", `${csrs}/${name}/status`, await withCertificate()),
      (r) => r.status === 200,
    );
    expect(written.status).toBe(200);
    expect((await getCsr(name)).status?.certificate).toBe(certificate);
  });

  test("CertificateSubjectRestriction refuses a kube-apiserver-client CSR for the system:masters group", async () => {
    const csr = await newCsr("CN=intruder, O=system:masters");
    const res = await cp.admin.send("POST", csrs, csrObject(uniqueName("masters"), csr));
    expect(res.status).toBe(403);
    expect(res.text).toContain("system:masters");
  });
});
