/**
 * Fakes of the Secret and ClusterTrustBundle calls BundlePublisher makes, over in-memory objects: reads of
 * missing objects are 404s, creates of existing ones 409s. Discovery serves clustertrustbundles when
 * `served`, else answers 404 like an apiserver without certificates.k8s.io/v1beta1. Faults are scripted
 * per call.
 */
import type { CertificatesV1beta1Api, CoreV1Api, V1APIResourceList, V1beta1ClusterTrustBundle, V1Secret } from "@kubernetes/client-node";
import { apiError } from "./kube-errors.ts";

type SecretApi = Pick<CoreV1Api, "readNamespacedSecret" | "createNamespacedSecret" | "replaceNamespacedSecret">;
type BundleApi = Pick<CertificatesV1beta1Api, "readClusterTrustBundle" | "createClusterTrustBundle" | "replaceClusterTrustBundle" | "getAPIResources">;
type Op = "readSecret" | "createSecret" | "replaceSecret" | "readBundle" | "createBundle" | "replaceBundle" | "discover";

export class FakeBundleApis {
  readonly secrets = new Map<string, V1Secret>();
  readonly bundles = new Map<string, V1beta1ClusterTrustBundle>();
  /** Whether discovery lists clustertrustbundles; undefined = the group version is not served (404). */
  served: boolean | undefined = true;
  /** Every call, as "<op> <name>". */
  readonly calls: string[] = [];
  readonly #faults: { op: Op; error: Error }[] = [];

  /** The fakes as the client types BundlePublisher takes; only the calls above exist. */
  get apis(): { core: CoreV1Api; certificates: CertificatesV1beta1Api } {
    const core: SecretApi = {
      readNamespacedSecret: ({ namespace, name }) => this.#call("readSecret", `${namespace}/${name}`, () => this.#read(this.secrets, `${namespace}/${name}`)),
      createNamespacedSecret: ({ namespace, body }) => this.#call("createSecret", `${namespace}/${body.metadata?.name ?? ""}`, () => this.#create(this.secrets, `${namespace}/${body.metadata?.name ?? ""}`, body)),
      replaceNamespacedSecret: ({ namespace, name, body }) => this.#call("replaceSecret", `${namespace}/${name}`, () => this.#replace(this.secrets, `${namespace}/${name}`, body)),
    };
    const certificates: BundleApi = {
      readClusterTrustBundle: ({ name }) => this.#call("readBundle", name, () => this.#read(this.bundles, name)),
      createClusterTrustBundle: ({ body }) => this.#call("createBundle", body.metadata?.name ?? "", () => this.#create(this.bundles, body.metadata?.name ?? "", body)),
      replaceClusterTrustBundle: ({ name, body }) => this.#call("replaceBundle", name, () => this.#replace(this.bundles, name, body)),
      getAPIResources: () => this.#call("discover", "certificates.k8s.io/v1beta1", (): V1APIResourceList => {
        if (this.served === undefined) throw apiError(404);
        const resources = this.served ? [{ name: "clustertrustbundles", kind: "ClusterTrustBundle", namespaced: false, singularName: "clustertrustbundle", verbs: ["get"] }] : [];
        return { groupVersion: "certificates.k8s.io/v1beta1", resources };
      }),
    };
    return { core: core as CoreV1Api, certificates: certificates as CertificatesV1beta1Api };
  }

  /** Makes the next call of `op` fail with `error`. */
  fail(op: Op, error: Error): void {
    this.#faults.push({ op, error });
  }

  #call<T>(op: Op, name: string, run: () => T): Promise<T> {
    this.calls.push(`${op} ${name}`);
    const index = this.#faults.findIndex((f) => f.op === op);
    if (index >= 0) return Promise.reject(this.#faults.splice(index, 1)[0]?.error ?? new Error("fault"));
    try {
      return Promise.resolve(run());
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
  }

  #read<T>(store: Map<string, T>, key: string): T {
    const found = store.get(key);
    if (found === undefined) throw apiError(404);
    return structuredClone(found);
  }

  #create<T>(store: Map<string, T>, key: string, body: T): T {
    if (store.has(key)) throw apiError(409);
    store.set(key, structuredClone(body));
    return structuredClone(body);
  }

  #replace<T>(store: Map<string, T>, key: string, body: T): T {
    if (!store.has(key)) throw apiError(404);
    store.set(key, structuredClone(body));
    return structuredClone(body);
  }
}
