import { describe, expect, it } from "vitest";
import { CsrError, parseCsrDer, parseCsrPem, parseSpkiDer } from "./csr.ts";
import { der, DerError, DerReader, Tag } from "./der.ts";
import { MalformedInputError } from "./malformed-input-error.ts";
import { decodePem, encodePem, PemError } from "./pem.ts";
import { parseWorkloadId, SpiffeError } from "./spiffe.ts";

/** What `fn` throws. */
function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error("expected a throw");
}

describe("MalformedInputError: one base for input that is not well formed", () => {
  it("is the base of DER, PEM and CSR faults, each keeping its own name and message", () => {
    const derFault = thrown(() => new DerReader(Uint8Array.of(0x30, 0x80)).expect(Tag.SEQUENCE, "x"));
    const pemFault = thrown(() => decodePem("junk", "CERTIFICATE"));
    const csrFault = thrown(() => parseCsrDer(der(Tag.SEQUENCE)));
    for (const [error, type, name] of [
      [derFault, DerError, "DerError"],
      [pemFault, PemError, "PemError"],
      [csrFault, CsrError, "CsrError"],
    ] as const) {
      expect(error).toBeInstanceOf(type);
      expect(error).toBeInstanceOf(MalformedInputError);
      expect((error as Error).name).toBe(name);
    }
    expect((derFault as Error).message).toBe("x: indefinite length");
  });

  it("lets the CSR parsers wrap every malformed layer below them, PEM included, with what was being read", () => {
    // PEM framing fails before any DER is read: parseCsrPem lets the PemError through as it is.
    expect(thrown(() => parseCsrPem("-----BEGIN CERTIFICATE REQUEST-----\n-----END CERTIFICATE REQUEST-----\n"))).toBeInstanceOf(PemError);
    // A DER fault inside the request becomes a CsrError that names the structure and keeps the cause.
    const wrapped = thrown(() => parseCsrPem(encodePem(Uint8Array.of(0x30, 0x03, 0x02, 0x01, 0x01), "CERTIFICATE REQUEST")));
    expect(wrapped).toBeInstanceOf(CsrError);
    expect((wrapped as Error).message).toMatch(/^CSR: /);
    expect((wrapped as Error).cause).toBeInstanceOf(MalformedInputError);
    const spki = thrown(() => parseSpkiDer(Uint8Array.of(0x30, 0x00)));
    expect(spki).toBeInstanceOf(CsrError);
    expect((spki as Error).message).toMatch(/^pkixPublicKey: /);
  });

  it("does not cover a SPIFFE ID the policy refuses (the signer answers it 422, not 400), nor unrelated errors", () => {
    const spiffe = thrown(() => parseWorkloadId("spiffe://cluster.local/not-a-workload"));
    expect(spiffe).toBeInstanceOf(SpiffeError);
    expect(spiffe).not.toBeInstanceOf(MalformedInputError);
    expect(new TypeError("x")).not.toBeInstanceOf(MalformedInputError);
  });
});
