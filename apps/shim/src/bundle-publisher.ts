/**
 * Publishes the signer's trust bundle where relying parties read it:
 *   - a Secret (default istio-system/external-ca-cert, key root-cert.pem), which istiod in RA mode mounts
 *     and appends to every chain (docs/facts.md "istiod in RA mode");
 *   - a ClusterTrustBundle per signer name (certificates.k8s.io/v1beta1, where served), named
 *     `<signer name with / replaced by :>:<suffix>` as the API requires for signer-linked bundles (KEP-3257).
 * Each target is compared with what the cluster holds and written only when it differs.
 */
/* eslint-disable @typescript-eslint/no-misused-spread -- @kubernetes/client-node models are data-only classes (a static attribute map, no instance methods); the API serialises object literals and spread copies identically. */
import { CertificatesV1beta1Api, CoreV1Api, type KubeConfig } from "@kubernetes/client-node";
import { kubeMessage, kubeStatus } from "./kube-error.ts";
import type { Logger } from "./logger.ts";

export interface BundlePublisherOptions {
  readonly kubeConfig: KubeConfig;
  /** The Secret and ClusterTrustBundle APIs; by default clients of `kubeConfig` (unit tests pass fakes). */
  readonly apis?: { readonly core: CoreV1Api; readonly certificates: CertificatesV1beta1Api };
  readonly signerNames: readonly string[];
  readonly secret: { readonly namespace: string; readonly name: string; readonly key: string } | undefined;
  readonly clusterTrustBundle: { readonly mode: "auto" | "true"; readonly suffix: string } | undefined;
  readonly logger: Logger;
  /** Called with the target ("secret" or "clustertrustbundle") after each write. */
  readonly onWrite?: (target: "secret" | "clustertrustbundle") => void;
}

/** The name of the ClusterTrustBundle linked to `signerName`. */
export function clusterTrustBundleName(signerName: string, suffix: string): string {
  return `${signerName.replaceAll("/", ":")}:${suffix}`;
}

export class BundlePublisher {
  readonly #o: BundlePublisherOptions;
  readonly #core: CoreV1Api;
  readonly #certs: CertificatesV1beta1Api;
  #ctbServed: boolean | undefined;

  constructor(options: BundlePublisherOptions) {
    this.#o = options;
    this.#core = options.apis?.core ?? options.kubeConfig.makeApiClient(CoreV1Api);
    this.#certs = options.apis?.certificates ?? options.kubeConfig.makeApiClient(CertificatesV1beta1Api);
  }

  /** Brings every target up to `pem`. Failures are logged per target; resolves true if all succeeded. */
  async publish(pem: string): Promise<boolean> {
    let ok = true;
    if (this.#o.secret !== undefined) {
      try {
        await this.#publishSecret(this.#o.secret, pem);
      } catch (error) {
        ok = false;
        this.#o.logger.error("could not publish the trust bundle Secret", { secret: `${this.#o.secret.namespace}/${this.#o.secret.name}`, error: kubeMessage(error) });
      }
    }
    let served = false;
    try {
      served = this.#o.clusterTrustBundle !== undefined && (await this.#clusterTrustBundleServed());
    } catch (error) {
      ok = false;
      this.#o.logger.error("could not discover whether the ClusterTrustBundle API is served", { error: kubeMessage(error) });
    }
    if (this.#o.clusterTrustBundle !== undefined && served) {
      for (const signerName of this.#o.signerNames) {
        const name = clusterTrustBundleName(signerName, this.#o.clusterTrustBundle.suffix);
        try {
          await this.#publishClusterTrustBundle(name, signerName, pem);
        } catch (error) {
          ok = false;
          this.#o.logger.error("could not publish the ClusterTrustBundle", { clusterTrustBundle: name, error: kubeMessage(error) });
        }
      }
    }
    return ok;
  }

  async #publishSecret(target: { namespace: string; name: string; key: string }, pem: string): Promise<void> {
    const { namespace, name, key } = target;
    const encoded = Buffer.from(pem, "utf8").toString("base64");
    let secret;
    try {
      secret = await this.#core.readNamespacedSecret({ name, namespace });
    } catch (error) {
      if (kubeStatus(error) !== 404) throw error;
      await this.#core.createNamespacedSecret({ namespace, body: { metadata: { name, namespace }, type: "Opaque", data: { [key]: encoded } } });
      this.#written("secret", `${namespace}/${name}`);
      return;
    }
    const current = secret.data?.[key];
    if (current !== undefined && Buffer.from(current, "base64").toString("utf8") === pem) return;
    secret.data = { ...secret.data, [key]: encoded };
    await this.#core.replaceNamespacedSecret({ name, namespace, body: secret });
    this.#written("secret", `${namespace}/${name}`);
  }

  async #publishClusterTrustBundle(name: string, signerName: string, pem: string): Promise<void> {
    let bundle;
    try {
      bundle = await this.#certs.readClusterTrustBundle({ name });
    } catch (error) {
      if (kubeStatus(error) !== 404) throw error;
      await this.#certs.createClusterTrustBundle({ body: { metadata: { name }, spec: { signerName, trustBundle: pem } } });
      this.#written("clustertrustbundle", name);
      return;
    }
    if (bundle.spec.trustBundle === pem) return;
    bundle.spec = { ...bundle.spec, trustBundle: pem };
    await this.#certs.replaceClusterTrustBundle({ name, body: bundle });
    this.#written("clustertrustbundle", name);
  }

  #written(target: "secret" | "clustertrustbundle", name: string): void {
    this.#o.onWrite?.(target);
    this.#o.logger.info("published the trust bundle", { target, name });
  }

  /** In "auto" mode, asks discovery once whether certificates.k8s.io/v1beta1 serves clustertrustbundles. */
  async #clusterTrustBundleServed(): Promise<boolean> {
    if (this.#o.clusterTrustBundle?.mode === "true") return true;
    if (this.#ctbServed !== undefined) return this.#ctbServed;
    try {
      const resources = await this.#certs.getAPIResources();
      this.#ctbServed = resources.resources.some((r) => r.name === "clustertrustbundles");
    } catch (error) {
      if (kubeStatus(error) !== 404) throw error;
      this.#ctbServed = false;
    }
    this.#o.logger.info(this.#ctbServed ? "ClusterTrustBundle API served; publishing there too" : "ClusterTrustBundle API not served; publishing the Secret only");
    return this.#ctbServed;
  }
}
