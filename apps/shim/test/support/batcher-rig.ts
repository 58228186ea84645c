/**
 * The SignBatcher on a scripted transport (a SignerClient that records each request and answers when the
 * test says) and a ManualClock, for sign-batcher.test.ts and sign-batcher-wait.test.ts: what is tested
 * there is which calls go out when and together.
 */
import type { SignRequest, SignResponse } from "@edgeca/shared";
import { createLogger, type LogRecord } from "../../src/logger.ts";
import type { SignOutcome } from "../../src/sign-batch-wire.ts";
import { SignBatcher } from "../../src/sign-batcher.ts";
import type { BatchSigner, SignerClient } from "../../src/signer-client.ts";
import { ManualClock } from "./manual-clock.ts";

/** One request the scripted transport received, answered by `answer`. */
interface Sent {
  readonly endpoint: "v1/sign" | "v1/sign-batch";
  readonly names: readonly string[];
  answer(outcomes?: readonly SignOutcome[]): void;
}

const request = (name: string): SignRequest => ({ signerName: "example.com/foo", csr: "pem", usages: ["client auth"], requestor: { username: "istiod" }, object: { name, uid: `uid-${name}` } });
export const issued = (name: string): SignResponse => ({ certificateChain: `chain of ${name}`, serialNumber: "0a", notBefore: "2026-01-01T00:00:00Z", notAfter: "2026-01-02T00:00:00Z" });
const nameOf = (r: SignRequest): string => r.object?.name ?? "";

/** A transport that records every request and answers each when the test calls its `answer` (default: all issued). */
function scripted(): SignerClient & BatchSigner & { readonly sent: Sent[] } {
  const sent: Sent[] = [];
  return {
    sent,
    sign: (r) => new Promise<SignResponse>((resolve, reject) => {
      sent.push({ endpoint: "v1/sign", names: [nameOf(r)], answer: (o = [issued(nameOf(r))]) => { const [x] = o; if (x instanceof Error) reject(x); else if (x !== undefined) resolve(x); } });
    }),
    signBatch: (rs) => new Promise<SignOutcome[]>((resolve) => {
      sent.push({ endpoint: "v1/sign-batch", names: rs.map(nameOf), answer: (o = rs.map((r) => issued(nameOf(r)))) => { resolve([...o]); } });
    }),
    bundle: () => Promise.reject(new Error("not used")),
    close: () => undefined,
  };
}

/** A batcher over the scripted transport; `waitMs` 0 (no batch wait) unless a test is about it. */
export function rig(batchMax: number, concurrency: number, waitMs = 0) {
  const transport = scripted();
  const logs: LogRecord[] = [];
  const clock = new ManualClock(1_000_000);
  const batcher = new SignBatcher({ inner: transport, batchMax, concurrency, waitMs, clock, logger: createLogger({ level: "debug", sink: (r) => logs.push(r) }) });
  const results = new Map<string, { ok: boolean; value: unknown }>();
  const sign = (name: string, signal?: AbortSignal): Promise<void> =>
    batcher.sign(request(name), signal).then((v) => { results.set(name, { ok: true, value: v }); }, (e: unknown) => { results.set(name, { ok: false, value: e }); });
  const shape = (): string[] => transport.sent.map((s) => `${s.endpoint} ${s.names.join(",")}`);
  return { transport, batcher, clock, logs, results, sign, shape, advance: (ms: number) => { clock.advance(ms); } };
}

/** Lets settled promises run their continuations. */
export const flush = () => new Promise((resolve) => setImmediate(resolve));
export const names = (prefix: string, n: number): string[] => Array.from({ length: n }, (_v, i) => `${prefix}${i}`);
