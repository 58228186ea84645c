/** X.509 Time (RFC 5280 §4.1.2.5): UTCTime through 2049, GeneralizedTime from 2050, always UTC with seconds. */
import { DerError, Tag } from "./der.ts";

/** RFC 5280 §4.1.2.5: UTCTime for years 1950–2049, GeneralizedTime otherwise. */
function isUtcTimeYear(year: number): boolean {
  return year >= 1950 && year < 2050;
}

/** Bytes the Time element of `date` takes (header included): 15 for UTCTime, 17 for GeneralizedTime. */
export function timeSize(date: Date): number {
  return isUtcTimeYear(date.getUTCFullYear()) ? 15 : 17;
}

function digits(out: Uint8Array, at: number, value: number, width: number): number {
  for (let i = width - 1; i >= 0; i--) {
    out[at + i] = 0x30 + (value % 10);
    value = Math.floor(value / 10);
  }
  return at + width;
}

/**
 * Writes the Time element of `date` at `at` (milliseconds dropped: RFC 5280 forbids fractional seconds);
 * returns the offset after it. Digits are written as ASCII directly, no string is built.
 */
export function writeTimeAt(out: Uint8Array, at: number, date: Date): number {
  const year = date.getUTCFullYear();
  const utc = isUtcTimeYear(year);
  out[at++] = utc ? Tag.UTC_TIME : Tag.GENERALIZED_TIME;
  out[at++] = utc ? 13 : 15;
  at = utc ? digits(out, at, year % 100, 2) : digits(out, at, year, 4);
  at = digits(out, at, date.getUTCMonth() + 1, 2);
  at = digits(out, at, date.getUTCDate(), 2);
  at = digits(out, at, date.getUTCHours(), 2);
  at = digits(out, at, date.getUTCMinutes(), 2);
  at = digits(out, at, date.getUTCSeconds(), 2);
  out[at++] = 0x5a; // "Z"
  return at;
}

/** Encodes a Time; milliseconds are dropped (RFC 5280 forbids fractional seconds). */
export function writeTime(date: Date): Uint8Array {
  const out = new Uint8Array(timeSize(date));
  writeTimeAt(out, 0, date);
  return out;
}

/** Decodes the content of a UTCTime or GeneralizedTime in the RFC 5280 profile. */
export function readTime(tag: number, content: Uint8Array): Date {
  const text = String.fromCharCode(...content);
  const m =
    tag === Tag.UTC_TIME
      ? /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(text)
      : tag === Tag.GENERALIZED_TIME
        ? /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(text)
        : null;
  if (m === null) throw new DerError(`Time: not an RFC 5280 UTCTime/GeneralizedTime: ${JSON.stringify(text)}`);
  const [, ys = "", mo = "", d = "", h = "", mi = "", s = ""] = m;
  let year = Number(ys);
  if (tag === Tag.UTC_TIME) year += year < 50 ? 2000 : 1900;
  const date = new Date(Date.UTC(year, Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s)));
  if (Number.isNaN(date.getTime()) || date.getUTCDate() !== Number(d)) throw new DerError(`Time: invalid date ${text}`);
  return date;
}
