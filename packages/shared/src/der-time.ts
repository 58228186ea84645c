/** X.509 Time (RFC 5280 §4.1.2.5): UTCTime through 2049, GeneralizedTime from 2050, always UTC with seconds. */
import { der, DerError, Tag } from "./der.ts";

const encoder = new TextEncoder();
const pad = (n: number, w = 2): string => String(n).padStart(w, "0");

/** Encodes a Time; milliseconds are dropped (RFC 5280 forbids fractional seconds). */
export function writeTime(date: Date): Uint8Array {
  const y = date.getUTCFullYear();
  const rest = `${pad(date.getUTCMonth() + 1)}${pad(date.getUTCDate())}${pad(date.getUTCHours())}${pad(date.getUTCMinutes())}${pad(date.getUTCSeconds())}Z`;
  if (y >= 1950 && y < 2050) return der(Tag.UTC_TIME, encoder.encode(`${pad(y % 100)}${rest}`));
  return der(Tag.GENERALIZED_TIME, encoder.encode(`${pad(y, 4)}${rest}`));
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
