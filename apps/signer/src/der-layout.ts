/**
 * A DER structure described once, then sized and written from that one description (the certificate
 * profile, certificate-profile.ts, is written with it). Each part knows its size and how to write
 * itself, side by side; a constructed element's header comes from the sizes of its parts. Writing checks
 * every element and every field against its size, so a part whose two halves disagree fails naming the
 * part instead of producing DER with a wrong length.
 *
 * Parts are built once at module load; sizing and writing allocate nothing but the caller's array.
 */
import { headerSize, writeHeader } from "@edgeca/shared";

/** One element or run of bytes of a structure, for a context `C` (what varies per written structure). */
export interface Part<C> {
  /** What it is in the profile, for messages. */
  readonly name: string;
  /** Bytes it takes for `c`, header included. */
  size(c: C): number;
  /** Writes it for `c` at `at`; returns the offset after it. */
  write(out: Uint8Array, at: number, c: C): number;
}

/** A layout fault: sizing and writing disagree. A bug in the profile, never bad input. */
function disagreement(name: string, wrote: number, sized: number): Error {
  return new Error(`certificate profile: ${name} wrote ${wrote} bytes, sized ${sized}`);
}

class Constructed<C> implements Part<C> {
  // The content size last computed and for which context: writing right after sizing (the builder's
  // order) reuses it instead of sizing every subtree again at each level.
  private sizedFor: C | undefined = undefined;
  private sizedContent = 0;

  constructor(
    readonly name: string,
    private readonly tag: number,
    private readonly parts: readonly Part<C>[],
  ) {}

  private content(c: C): number {
    if (this.sizedFor === c) return this.sizedContent;
    let n = 0;
    for (const p of this.parts) n += p.size(c);
    this.sizedFor = c;
    this.sizedContent = n;
    return n;
  }

  size(c: C): number {
    this.sizedFor = undefined;
    const n = this.content(c);
    return headerSize(n) + n;
  }

  write(out: Uint8Array, at: number, c: C): number {
    const content = this.content(c);
    this.sizedFor = undefined;
    at = writeHeader(out, at, this.tag, content);
    const start = at;
    for (const p of this.parts) at = p.write(out, at, c);
    if (at - start !== content) throw disagreement(this.name, at - start, content);
    return at;
  }
}

class Bytes<C> implements Part<C> {
  constructor(
    readonly name: string,
    private readonly get: (c: C) => Uint8Array,
  ) {}

  size(c: C): number {
    return this.get(c).length;
  }

  write(out: Uint8Array, at: number, c: C): number {
    const bytes = this.get(c);
    out.set(bytes, at);
    return at + bytes.length;
  }
}

class Field<C> implements Part<C> {
  constructor(
    readonly name: string,
    private readonly sizeOf: (c: C) => number,
    private readonly writeAt: (out: Uint8Array, at: number, c: C) => number,
  ) {}

  size(c: C): number {
    return this.sizeOf(c);
  }

  write(out: Uint8Array, at: number, c: C): number {
    const end = this.writeAt(out, at, c);
    const sized = this.sizeOf(c);
    if (end - at !== sized) throw disagreement(this.name, end - at, sized);
    return end;
  }
}

/** A constructed element: `tag`, the DER length of its parts, then the parts in order. */
export function element<C>(name: string, tag: number, parts: readonly Part<C>[]): Part<C> {
  return new Constructed(name, tag, parts);
}

/** Bytes already encoded: a constant of the profile, or DER that comes whole from the issuer or the request. */
export function bytes<C>(name: string, get: (c: C) => Uint8Array): Part<C> {
  return new Bytes(name, get);
}

/** The same bytes for every structure. */
export function constant<C>(name: string, value: Uint8Array): Part<C> {
  return new Bytes(name, () => value);
}

/** Bytes written in place: `size` and `write` side by side, checked against each other on every write. */
export function field<C>(name: string, size: (c: C) => number, write: (out: Uint8Array, at: number, c: C) => number): Part<C> {
  return new Field(name, size, write);
}
