/**
 * Records the life of every CertificateSigningRequest through one apiserver watch (as admin), so a test can
 * say what istiod did with the CSR API: who created each CSR, for which SPIFFE ID, who approved it, whether
 * the signer issued or failed it, and that it was deleted afterwards. istiod deletes its CSRs as soon as it
 * has the certificate, so polling would miss them; a watch sees every step.
 */
import { X509Certificate } from "node:crypto";
import { request } from "node:https";
import type { ClientRequest, IncomingMessage } from "node:http";
import { parseCsrPem } from "@edgeca/shared";
import type { ControlPlaneClient } from "../control-plane/index.ts";
import { waitUntil } from "./wait-until.ts";

export interface CsrCondition {
  readonly type: string;
  readonly reason: string;
  readonly message: string;
}

/** What the watch saw of one CSR. */
export interface CsrRecord {
  readonly name: string;
  readonly username: string;
  readonly signerName: string;
  readonly expirationSeconds: number | undefined;
  readonly usages: readonly string[];
  /** The URI SANs of spec.request (the SPIFFE ID istiod forwarded). */
  readonly uris: readonly string[];
  readonly createdAt: number;
  conditions: CsrCondition[];
  issuedAt: number | undefined;
  /** The serial number (hex, upper case as node:crypto prints it) of the issued leaf. */
  serial: string | undefined;
  deletedAt: number | undefined;
}

interface CsrObject {
  metadata?: { name?: string; resourceVersion?: string };
  spec?: { username?: string; signerName?: string; expirationSeconds?: number; usages?: string[]; request?: string };
  status?: { certificate?: string; conditions?: { type?: string; reason?: string; message?: string }[] };
}

export class CsrWatch {
  readonly records = new Map<string, CsrRecord>();
  private req: ClientRequest | undefined;
  private stopped = false;
  private failure: Error | undefined;

  private constructor(private readonly cp: ControlPlaneClient) {}

  /** Starts watching from now (existing CSRs are listed first and recorded as they are). */
  static async start(cp: ControlPlaneClient): Promise<CsrWatch> {
    const watch = new CsrWatch(cp);
    const list = (await cp.admin.request("GET", "/apis/certificates.k8s.io/v1/certificatesigningrequests")) as {
      metadata?: { resourceVersion?: string };
      items?: CsrObject[];
    };
    for (const item of list.items ?? []) watch.apply("ADDED", item);
    watch.open(list.metadata?.resourceVersion ?? "");
    return watch;
  }

  /** Records whose SPIFFE ID is `spiffeId`, in creation order. */
  forSpiffeId(spiffeId: string): CsrRecord[] {
    return [...this.records.values()].filter((r) => r.uris.includes(spiffeId)).sort((a, b) => a.createdAt - b.createdAt);
  }

  /** Waits (bounded) until `predicate` holds for the records; returns its value. */
  async waitFor<T>(what: string, timeoutMs: number, predicate: (records: readonly CsrRecord[]) => T | undefined): Promise<T> {
    return await waitUntil({
      probe: () => {
        if (this.failure !== undefined) throw this.failure;
        return Promise.resolve(predicate([...this.records.values()]));
      },
      timeoutMs,
      intervalMs: 100,
      failure: (why) => new Error(`CSR watch: ${what} (${why}); seen: ${JSON.stringify([...this.records.values()])}`),
    });
  }

  stop(): void {
    this.stopped = true;
    this.req?.destroy();
  }

  private open(resourceVersion: string): void {
    const url = new URL(`/apis/certificates.k8s.io/v1/certificatesigningrequests?watch=true&allowWatchBookmarks=false&resourceVersion=${resourceVersion}`, this.cp.server);
    this.req = request(url, { ca: this.cp.caPem, cert: this.cp.adminCertPem, key: this.cp.adminKeyPem, agent: false }, (res) => {
      this.read(res);
    });
    this.req.on("error", (error) => {
      if (!this.stopped) this.failure = new Error(`CSR watch failed: ${error.message}`);
    });
    this.req.end();
  }

  private read(res: IncomingMessage): void {
    let pending = "";
    let lastVersion = "";
    res.setEncoding("utf8");
    res.on("data", (chunk: string) => {
      pending += chunk;
      const lines = pending.split("\n");
      pending = lines.pop() ?? "";
      for (const line of lines) {
        if (line.trim() === "") continue;
        const event = JSON.parse(line) as { type: string; object: CsrObject };
        lastVersion = event.object.metadata?.resourceVersion ?? lastVersion;
        this.apply(event.type, event.object);
      }
    });
    res.on("end", () => {
      // The apiserver ends watches after a while (minRequestTimeout); carry on from where it stopped.
      if (!this.stopped) this.open(lastVersion);
    });
  }

  private apply(type: string, object: CsrObject): void {
    const name = object.metadata?.name;
    if (name === undefined) return;
    let record = this.records.get(name);
    if (record === undefined) {
      const spec = object.spec ?? {};
      record = {
        name,
        username: spec.username ?? "",
        signerName: spec.signerName ?? "",
        expirationSeconds: spec.expirationSeconds,
        usages: spec.usages ?? [],
        uris: urisOf(spec.request),
        createdAt: Date.now(),
        conditions: [],
        issuedAt: undefined,
        serial: undefined,
        deletedAt: undefined,
      };
      this.records.set(name, record);
    }
    if (type === "DELETED") record.deletedAt ??= Date.now();
    record.conditions = (object.status?.conditions ?? []).map((c) => ({ type: c.type ?? "", reason: c.reason ?? "", message: c.message ?? "" }));
    const certificate = object.status?.certificate ?? "";
    if (certificate !== "" && record.issuedAt === undefined) {
      record.issuedAt = Date.now();
      record.serial = serialOf(certificate);
    }
  }
}

function urisOf(requestB64: string | undefined): string[] {
  if (requestB64 === undefined) return [];
  try {
    return [...parseCsrPem(Buffer.from(requestB64, "base64").toString("utf8")).names.uri];
  } catch {
    return [];
  }
}

function serialOf(certificateB64: string): string | undefined {
  try {
    return new X509Certificate(Buffer.from(certificateB64, "base64")).serialNumber;
  } catch {
    return undefined;
  }
}
