/**
 * The real signer client with a hold: for CSR names the test marks, the signer's (real) answer is kept
 * back until the test releases it. Not a mock: the request goes to the real Worker and its answer is
 * returned unchanged; only the timing is controlled, because a CSR "deleted while in flight" needs the
 * deletion to land between the signer's answer and the status write, which no real part can arrange.
 * When the real client sends batches, so does this one (the shim then batches as in production); a held
 * name holds its whole batch's answer.
 */
import type { BatchSigner, SignerClient } from "../../src/signer-client.ts";

export interface HeldSigner extends SignerClient {
  /** Holds answers for `csrName` until `release(csrName)`; resolves once one is being held. */
  hold(csrName: string): Promise<void>;
  release(csrName: string): void;
  /** How many sign calls were made for `csrName`. */
  calls(csrName: string): number;
}

export function holdable(inner: SignerClient): HeldSigner {
  const held = new Map<string, { reached: () => void; reachedPromise: Promise<void>; release: () => void; released: Promise<void> }>();
  const calls = new Map<string, number>();
  const called = (name: string): void => { calls.set(name, (calls.get(name) ?? 0) + 1); };
  const gate = async (name: string): Promise<void> => {
    const g = held.get(name);
    if (g === undefined) return;
    g.reached();
    await g.released;
  };
  const signer: HeldSigner = {
    async sign(request, signal) {
      const name = request.object?.name ?? "";
      called(name);
      const answer = await inner.sign(request, signal);
      await gate(name);
      return answer;
    },
    bundle: (signal) => inner.bundle(signal),
    close: () => { inner.close(); },
    hold(csrName) {
      let reached = (): void => undefined;
      let release = (): void => undefined;
      const reachedPromise = new Promise<void>((r) => (reached = r));
      const released = new Promise<void>((r) => (release = r));
      held.set(csrName, { reached, reachedPromise, release, released });
      return reachedPromise;
    },
    release(csrName) {
      held.get(csrName)?.release();
      held.delete(csrName);
    },
    calls: (csrName) => calls.get(csrName) ?? 0,
  };
  if (!isBatchSigner(inner)) return signer;
  const batching: HeldSigner & BatchSigner = {
    ...signer,
    async signBatch(requests, signal) {
      const names = requests.map((r) => r.object?.name ?? "");
      for (const name of names) called(name);
      const outcomes = await inner.signBatch(requests, signal);
      for (const name of names) await gate(name);
      return outcomes;
    },
  };
  return batching;
}

function isBatchSigner(signer: SignerClient): signer is SignerClient & BatchSigner {
  return "signBatch" in signer && typeof signer.signBatch === "function";
}
