// Argument parsing shared by commands, with Redis's rules and wording. A
// command parses its arguments with these, then applies them to the store.

import { ErrCode, type ReplyWriter } from '../protocol/reply.js';

export const WRONGTYPE = 'WRONGTYPE Operation against a key holding the wrong kind of value';
export const NOT_INTEGER = 'ERR value is not an integer or out of range';
export const NOT_FLOAT = 'ERR value is not a valid float';
export const SYNTAX = 'ERR syntax error';

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const DECIMAL = /^-?(0|[1-9][0-9]*)$/;

/**
 * Parses a base-10 signed 64-bit integer exactly as Redis's string2ll: no
 * spaces, no '+', no leading zeros. Returns null if invalid or out of range.
 * Values outside ±2^53 come back as bigint.
 */
export function parseInt64(s: string): number | bigint | null {
  if (s.length === 0 || s.length > 20 || !DECIMAL.test(s) || s === '-0') return null;
  if (s.length < 16) return Number(s);
  const b = BigInt(s);
  if (b < INT64_MIN || b > INT64_MAX) return null;
  return Number.isSafeInteger(Number(b)) ? Number(b) : b;
}

const FLOAT = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/**
 * Parses a double as Redis does (strtod over the whole string): decimal or
 * exponent forms, "inf"/"+inf"/"-inf" (any case, also "infinity"). NaN,
 * empty strings and trailing garbage are rejected (null).
 */
export function parseFloat64(s: string): number | null {
  if (FLOAT.test(s)) return Number(s);
  const l = s.toLowerCase();
  if (l === 'inf' || l === '+inf' || l === 'infinity' || l === '+infinity') return Infinity;
  if (l === '-inf' || l === '-infinity') return -Infinity;
  return null;
}

/** Writes WRONGTYPE (book: err 3). */
export function wrongType(w: ReplyWriter): void {
  w.err(ErrCode.BadType, WRONGTYPE);
}

export function notInteger(w: ReplyWriter): void {
  w.err(ErrCode.BadArg, NOT_INTEGER);
}

export function syntaxError(w: ReplyWriter): void {
  w.err(ErrCode.BadArg, SYNTAX);
}
