/**
 * The latency collector: one watch on the CSRs of a signer (`fieldSelector=spec.signerName=…`) that notes
 * when each certificate was first seen, and any Failed or Denied condition. A watch that ends is reopened
 * from the last resourceVersion (a relist when it is too old), until stop().
 */
import type { IncomingMessage } from "node:http";
import { setTimeout as sleep } from "node:timers/promises";
import type { BenchKubeClient } from "./bench-kube-client.ts";
import { withRetries } from "./kube-retry.ts";

const CSR_PATH = "/apis/certificates.k8s.io/v1/certificatesigningrequests";

export interface Observation {
  /** `Date.now()` when the watch delivered the first version with a certificate. */
  readonly observedMs: number;
  /** `metadata.creationTimestamp` (whole seconds). */
  readonly creationTimestampMs: number;
  /** `status.certificate`, decoded: the PEM chain. */
  readonly certificatePem: string;
}

export interface Refusal {
  readonly type: string;
  readonly reason: string;
  readonly message: string;
}

interface CsrObject {
  readonly metadata?: { readonly name?: string; readonly resourceVersion?: string; readonly creationTimestamp?: string };
  readonly status?: {
    readonly certificate?: string;
    readonly conditions?: readonly { readonly type?: string; readonly reason?: string; readonly message?: string }[];
  };
}

interface WatchEvent {
  readonly type?: string;
  readonly object?: CsrObject & { readonly code?: number };
}

export class CsrCollector {
  readonly issued = new Map<string, Observation>();
  readonly refused = new Map<string, Refusal>();
  private resourceVersion = "";
  private stopped = false;
  private stream: IncomingMessage | undefined;
  private loop: Promise<void> | undefined;
  /** The last error that made the collector reopen its watch (for the report when something is lost). */
  lastError = "";

  private constructor(
    private readonly client: BenchKubeClient,
    private readonly signerName: string,
    private readonly namePrefix: string,
  ) {}

  /** Lists, then watches from the list's resourceVersion; resolves once the first watch is open. */
  static async start(client: BenchKubeClient, signerName: string, namePrefix: string): Promise<CsrCollector> {
    const collector = new CsrCollector(client, signerName, namePrefix);
    await collector.relist();
    const first = await collector.openWatch();
    collector.loop = collector.run(first);
    return collector;
  }

  /** Number of our CSRs that are decided (issued or refused). */
  get decided(): number {
    let refusedOnly = 0;
    for (const name of this.refused.keys()) if (!this.issued.has(name)) refusedOnly++;
    return this.issued.size + refusedOnly;
  }

  /** Waits until `expected` CSRs are decided or `deadlineMs` (epoch ms) passes; true when all are. */
  async waitFor(expected: number, deadlineMs: number, signal?: AbortSignal): Promise<boolean> {
    while (this.decided < expected && Date.now() < deadlineMs) {
      signal?.throwIfAborted();
      await sleep(50);
    }
    return this.decided >= expected;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.stream?.destroy();
    await this.loop;
  }

  private get selector(): string {
    return `fieldSelector=${encodeURIComponent(`spec.signerName=${this.signerName}`)}`;
  }

  private async relist(): Promise<void> {
    const answer = await withRetries(() => this.client.send("GET", `${CSR_PATH}?${this.selector}`), `listing CSRs of ${this.signerName}`);
    const list = answer.json as { metadata?: { resourceVersion?: string }; items?: CsrObject[] };
    for (const item of list.items ?? []) this.note(item);
    this.resourceVersion = list.metadata?.resourceVersion ?? "";
  }

  private async openWatch(): Promise<IncomingMessage> {
    const query = `${this.selector}&watch=1&allowWatchBookmarks=true&timeoutSeconds=300&resourceVersion=${encodeURIComponent(this.resourceVersion)}`;
    const res = await this.client.open("GET", `${CSR_PATH}?${query}`, undefined, 120_000);
    if (res.statusCode !== 200) {
      res.resume();
      throw new Error(`watching CSRs of ${this.signerName}: HTTP ${res.statusCode ?? 0}`);
    }
    this.stream = res;
    return res;
  }

  /** Reads watches until stop(); every reopen waits a little, so a broken apiserver is not hammered. */
  private async run(first: IncomingMessage): Promise<void> {
    let res: IncomingMessage | undefined = first;
    // stop() flips the flag while this loop awaits: read it through a call, not a narrowed property.
    const stopped = (): boolean => this.stopped;
    while (!stopped()) {
      try {
        res ??= await this.openWatch();
        if (stopped()) res.destroy();
        const expired = await this.read(res);
        if (expired) await this.relist();
      } catch (error) {
        if (!stopped()) this.lastError = String(error);
      }
      res = undefined;
      if (!stopped()) await sleep(100);
    }
  }

  /** Consumes one watch stream; true when the apiserver said the resourceVersion is too old (410). */
  private async read(res: IncomingMessage): Promise<boolean> {
    let pending = "";
    res.setEncoding("utf8");
    for await (const chunk of res) {
      pending += chunk as string;
      let newline = pending.indexOf("\n");
      while (newline >= 0) {
        const line = pending.slice(0, newline);
        pending = pending.slice(newline + 1);
        newline = pending.indexOf("\n");
        if (line.trim() === "") continue;
        const event = JSON.parse(line) as WatchEvent;
        if (event.type === "ERROR") {
          if (event.object?.code === 410) return true;
          throw new Error(`watch error: ${line.slice(0, 300)}`);
        }
        const rv = event.object?.metadata?.resourceVersion;
        if (rv !== undefined) this.resourceVersion = rv;
        if (event.type !== "BOOKMARK" && event.object !== undefined) this.note(event.object);
      }
    }
    return false;
  }

  private note(object: CsrObject): void {
    const name = object.metadata?.name;
    if (name?.startsWith(this.namePrefix) !== true || this.issued.has(name)) return;
    const certificate = object.status?.certificate;
    if (certificate !== undefined && certificate !== "") {
      this.issued.set(name, {
        observedMs: Date.now(),
        creationTimestampMs: Date.parse(object.metadata?.creationTimestamp ?? ""),
        certificatePem: Buffer.from(certificate, "base64").toString("utf8"),
      });
      return;
    }
    const refusal = object.status?.conditions?.find((c) => c.type === "Failed" || c.type === "Denied");
    if (refusal !== undefined && !this.refused.has(name)) {
      this.refused.set(name, { type: refusal.type ?? "", reason: refusal.reason ?? "", message: refusal.message ?? "" });
    }
  }
}
