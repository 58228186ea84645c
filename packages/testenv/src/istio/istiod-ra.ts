/**
 * istiod in RA mode (`EXTERNAL_CA=ISTIOD_RA_KUBERNETES_API`), as far as the Kubernetes API sees it
 * (istio/istio `security/pkg/pki/ra/k8s_ra.go`, `security/pkg/k8s/chiron/utils.go`): for each workload
 * request it creates a CSR named `csr-workload-<random>` for the configured signer with the four usages and
 * `expirationSeconds`, approves it itself through `/approval`, watches it by name for at most 60 s, takes
 * `status.certificate`, and deletes the CSR. It runs as the `istio-system/istiod` ServiceAccount.
 */
import { CertificatesV1Api, KubeConfig, Watch } from "@kubernetes/client-node";
import type { V1CertificateSigningRequest } from "@kubernetes/client-node";

/** The usages istiod asks for (chiron `SignCSRK8s` callers). */
export const ISTIOD_USAGES = ["digital signature", "key encipherment", "server auth", "client auth"] as const;

/** istiod's watch timeout (`certWatchTimeout`). */
export const ISTIOD_WAIT_MS = 60_000;

export interface RaRequest {
  readonly csrPem: string;
  /** The agent's requested TTL; its default is 24 h. */
  readonly expirationSeconds?: number;
}

/** What happened to one request. */
export type RaOutcome =
  | { readonly status: "issued"; readonly csrName: string; readonly certificateChain: string; readonly latencyMs: number }
  | { readonly status: "failed" | "denied"; readonly csrName: string; readonly reason: string; readonly message: string; readonly latencyMs: number }
  | { readonly status: "timeout"; readonly csrName: string; readonly latencyMs: number };

export interface IstiodRaOptions {
  /** A kubeconfig (YAML) authenticating as istiod's ServiceAccount. */
  readonly kubeconfig: string;
  readonly signerName: string;
  /** How long to wait for the certificate; istiod waits 60 s. */
  readonly waitMs?: number;
  /**
   * istiod itself ignores `Failed` and keeps waiting until its timeout. For a readable demo the emulator
   * returns as soon as a `Failed` or `Denied` condition appears (default true), with the recorded reason.
   */
  readonly stopOnFailure?: boolean;
  /** The CSRs' `generateName`; istiod's is `csr-workload-` (the default). The demo's greedy identity names its own. */
  readonly csrNamePrefix?: string;
}

interface CsrStatus {
  readonly certificate?: string;
  readonly conditions?: readonly { readonly type: string; readonly reason?: string; readonly message?: string }[];
}

/** One istiod replica's CSR client. */
export class IstiodRa {
  private readonly kc = new KubeConfig();
  private readonly api: CertificatesV1Api;

  constructor(private readonly options: IstiodRaOptions) {
    this.kc.loadFromString(options.kubeconfig);
    this.api = this.kc.makeApiClient(CertificatesV1Api);
  }

  /** Runs the whole RA exchange for one workload request; the CSR is deleted afterwards whatever happened. */
  async sign(request: RaRequest): Promise<RaOutcome> {
    const created = await this.api.createCertificateSigningRequest({
      body: {
        apiVersion: "certificates.k8s.io/v1",
        kind: "CertificateSigningRequest",
        metadata: { generateName: this.options.csrNamePrefix ?? "csr-workload-" },
        spec: {
          request: Buffer.from(request.csrPem, "utf8").toString("base64"),
          signerName: this.options.signerName,
          usages: [...ISTIOD_USAGES],
          expirationSeconds: request.expirationSeconds ?? 86_400,
        },
      },
    });
    const started = Date.now();
    const name = created.metadata?.name;
    if (name === undefined) throw new Error("the apiserver returned a CSR without a name");
    try {
      // istiod approves its own CSR: approval is not a policy decision (docs/architecture.md "Why the split").
      created.status = {
        conditions: [
          {
            type: "Approved",
            status: "True",
            reason: "IstiodRaApproval",
            message: `CSR (${name}) for the workload certificate is approved`,
            lastUpdateTime: new Date(),
          },
        ],
      };
      await this.api.replaceCertificateSigningRequestApproval({ name, body: created });
      const status = await this.waitForOutcome(name, this.options.waitMs ?? ISTIOD_WAIT_MS);
      const latencyMs = Date.now() - started;
      if (status === undefined) return { status: "timeout", csrName: name, latencyMs };
      if (status.certificate !== undefined && status.certificate !== "") {
        return { status: "issued", csrName: name, certificateChain: Buffer.from(status.certificate, "base64").toString("utf8"), latencyMs };
      }
      const refusal = status.conditions?.find((c) => c.type === "Failed" || c.type === "Denied");
      return {
        status: refusal?.type === "Denied" ? "denied" : "failed",
        csrName: name,
        reason: refusal?.reason ?? "",
        message: refusal?.message ?? "",
        latencyMs,
      };
    } finally {
      await this.api.deleteCertificateSigningRequest({ name }).catch(() => undefined);
    }
  }

  /** Watches the CSR by name (`fieldSelector=metadata.name=…`) until it has a certificate, or a refusal, or time runs out. */
  private async waitForOutcome(name: string, waitMs: number): Promise<CsrStatus | undefined> {
    const stopOnFailure = this.options.stopOnFailure ?? true;
    const decided = (status: CsrStatus | undefined): boolean =>
      status !== undefined &&
      ((status.certificate !== undefined && status.certificate !== "") ||
        (stopOnFailure && (status.conditions ?? []).some((c) => c.type === "Failed" || c.type === "Denied")));

    return await new Promise<CsrStatus | undefined>((resolve, reject) => {
      let settled = false;
      let controller: AbortController | undefined;
      const finish = (value: CsrStatus | undefined, error?: unknown): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        controller?.abort();
        if (error === undefined) resolve(value);
        else reject(error instanceof Error ? error : new Error(`watching CSR ${name} failed: ${JSON.stringify(error)}`));
      };
      const timer = setTimeout(() => {
        finish(undefined);
      }, waitMs);
      const onEvent = (_phase: string, object: V1CertificateSigningRequest): void => {
        const status = object.status as CsrStatus | undefined;
        if (decided(status)) finish(status);
      };
      // A watch that ends early (the apiserver closes watches now and then) is reopened until the deadline.
      const open = (): void => {
        if (settled) return;
        new Watch(this.kc)
          .watch(
            "/apis/certificates.k8s.io/v1/certificatesigningrequests",
            { fieldSelector: `metadata.name=${name}` },
            onEvent,
            (error: unknown) => {
              if (settled) return;
              if (error instanceof Error && error.name !== "AbortError") {
                finish(undefined, error);
                return;
              }
              setTimeout(open, 100);
            },
          )
          .then((c) => {
            controller = c;
            if (settled) c.abort();
          })
          .catch((error: unknown) => {
            finish(undefined, error);
          });
      };
      open();
    });
  }
}
