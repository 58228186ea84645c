/**
 * A KubeConfig whose API calls share one keep-alive connection pool.
 *
 * @kubernetes/client-node 2.x builds a new undici Agent for every request (`applySecurityAuthentication`
 * → `createDispatcher`), so each call opens its own TLS connection to kube-apiserver: under a burst of CSRs
 * that is a TLS handshake per status write on both sides, which costs more CPU than the write itself. This
 * subclass keeps the first dispatcher and hands it to every later request while the TLS material is the
 * same (server, CA, client certificate and key: inline data, or files with their modification time), like
 * client-go's one transport per rest.Config. A rotated file gets a new pool; the old one is closed once its
 * requests finish. Bearer tokens travel as headers and are unaffected.
 */
import { statSync } from "node:fs";
import { KubeConfig, type RequestContext } from "@kubernetes/client-node";
import { ApiserverClient } from "./apiserver-client.ts";

type Dispatcher = NonNullable<ReturnType<RequestContext["getDispatcher"]>>;

export class PooledKubeConfig extends KubeConfig {
  #pool: { readonly key: string; readonly dispatcher: Dispatcher } | undefined;

  /** A pooled copy of `kc` (same clusters, users, contexts and current context). */
  static from(kc: KubeConfig): PooledKubeConfig {
    if (kc instanceof PooledKubeConfig) return kc;
    const pooled = new PooledKubeConfig();
    pooled.loadFromOptions({ clusters: kc.clusters, users: kc.users, contexts: kc.contexts, currentContext: kc.currentContext });
    return pooled;
  }

  override async applySecurityAuthentication(context: RequestContext): Promise<void> {
    await super.applySecurityAuthentication(context);
    const fresh = context.getDispatcher();
    if (fresh === undefined) return;
    const key = this.#tlsKey();
    if (this.#pool?.key === key) {
      // The fresh agent has opened no connection; dropping it costs nothing.
      context.setDispatcher(this.#pool.dispatcher);
      return;
    }
    const old = this.#pool;
    this.#pool = { key, dispatcher: fresh };
    if (old !== undefined) void old.dispatcher.close().catch(() => undefined);
  }

  /** Closes the pooled connections, also the JSON client's (on shutdown); later requests open a new pool. */
  async close(): Promise<void> {
    ApiserverClient.close(this);
    const pool = this.#pool;
    this.#pool = undefined;
    await pool?.dispatcher.close();
  }

  #tlsKey(): string {
    const cluster = this.getCurrentCluster();
    const user = this.getCurrentUser();
    const file = (path: string | undefined): string => {
      if (path === undefined || path === "") return "-";
      try {
        return `${path}@${statSync(path).mtimeMs}`;
      } catch {
        return `${path}@missing`;
      }
    };
    return [
      cluster?.server,
      cluster?.caData,
      file(cluster?.caFile),
      String(cluster?.skipTLSVerify),
      cluster?.tlsServerName,
      user?.certData,
      file(user?.certFile),
      user?.keyData,
      file(user?.keyFile),
    ].join("|");
  }
}
