// The protocol-neutral reply writer. Commands speak only this interface; each
// wire codec (book binary, RESP2, RESP3) implements it by encoding straight
// into the connection's outgoing buffer. Strings are "binary strings": one JS
// char per byte (latin1), so any byte sequence round-trips unchanged.
//
// A command declares the *shape* of its reply (a map, a set, a double, pairs),
// never bytes; each encoding maps the shape onto what it has. RESP3 has a type
// for each shape; RESP2 and the book protocol flatten them as Redis does for a
// RESP2 client (map → array of 2n, set → array, bool → 0/1, double → bulk).

/** Error codes of the book's protocol; RESP ignores the code and sends the message. */
export const enum ErrCode {
  Unknown = 1, // unknown command, also wrong number of arguments
  TooBig = 2, // the response exceeded k_max_msg
  BadType = 3, // WRONGTYPE
  BadArg = 4, // a malformed argument
}

export interface ReplyWriter {
  /** Absent value: book tag 0, RESP2 `$-1`, RESP3 `_`. */
  nil(): void;
  /** An error. `msg` is Redis's full error line (e.g. "ERR syntax error"). */
  err(code: ErrCode, msg: string): void;
  /** Told of every error reply (INFO errorstats, failed_calls); set by the session per request. */
  errorSink?: ((msg: string) => void) | null;
  /** A (binary) string: book tag 2, RESP bulk string. */
  str(s: string): void;
  /**
   * The same reply as str() of the binary string held in b[0, n) — a large
   * value held as bytes (store/bytes.ts) — copied from b, never made a string.
   */
  bytes(b: Uint8Array, n: number): void;
  /** A status reply such as OK or PONG: RESP `+OK`; the book protocol sends a str. */
  status(s: string): void;
  /** A 64-bit signed integer: book tag 3, RESP `:n`. */
  int(n: number | bigint): void;
  /** A double: book tag 4 (f64), RESP2 bulk string formatted as Redis does (%.17g), RESP3 `,` (inf, -inf, nan). */
  dbl(d: number): void;
  /**
   * A double whose text Redis prints its own way (addReplyHumanLongDouble:
   * GEOPOS's coordinates): RESP2 a bulk string of `text`, RESP3 `,text`; book tag 4 (f64 d).
   */
  dblText(d: number, text: string): void;
  /** The header of an array of n values; the n values follow. */
  arr(n: number): void;
  /** A null array: RESP2 `*-1`, RESP3 `_`; the book protocol sends nil. */
  nilArr(): void;
  /** The header of a map of n key/value pairs (2n values follow): RESP3 `%n`; elsewhere an array of 2n. */
  map(n: number): void;
  /** The header of a set of n members: RESP3 `~n`; elsewhere an array. */
  set(n: number): void;
  /** A boolean: RESP3 `#t`/`#f`; elsewhere the integer 1 or 0. */
  bool(b: boolean): void;
  /**
   * Text meant for humans (INFO, CLIENT LIST): RESP3 verbatim string `=` with
   * its format, exactly three letters (`txt`, `mkd`); elsewhere a bulk (book: str).
   */
  verbatim(format: string, text: string): void;
  /** An integer beyond int64, in decimal: RESP3 `(`; elsewhere a bulk string (book: str). */
  bigNumber(digits: string): void;
  /** The header of an out-of-band push of n values (pub/sub): RESP3 `>n`; elsewhere an array. */
  push(n: number): void;
  /**
   * The header of an array of n pairs, each written as pair() then its two
   * values (ZRANGE … WITHSCORES, HRANDFIELD … WITHVALUES): RESP3 nests each
   * pair in an array of 2, RESP2 and the book protocol keep one flat array of 2n.
   */
  pairs(n: number): void;
  /** Starts one pair of a pairs() array (RESP3 `*2`; nothing elsewhere). */
  pair(): void;
}

/** Any integer-ish value as an int64 (fractions truncated, out-of-range saturated). */
export function toInt64(n: number | bigint): bigint {
  if (typeof n === 'number') {
    if (Number.isNaN(n)) return 0n;
    if (n >= 2 ** 63) return 2n ** 63n - 1n;
    if (n <= -(2 ** 63)) return -(2n ** 63n);
    return BigInt(Math.trunc(n));
  }
  return BigInt.asIntN(64, n);
}

/**
 * A double as Redis 7.0 replies with it: printf("%.17g") (17 significant
 * digits, so 1.1 reads "1.1000000000000001" and 1e20 "1e+20"), and inf/-inf.
 */
export function formatDouble17g(d: number): string {
  if (Number.isInteger(d) && Math.abs(d) < 1e17) return Object.is(d, -0) ? '-0' : String(d);
  if (d === Infinity) return 'inf';
  if (d === -Infinity) return '-inf';
  if (Number.isNaN(d)) return 'nan';
  const e = d.toExponential(16); // "-d.dddddddddddddddde±X": 17 significant digits, rounded exactly
  const ei = e.indexOf('e');
  const neg = e.charCodeAt(0) === 45; // '-'
  const digits = e.slice(neg ? 1 : 0, neg ? 2 : 1) + e.slice(neg ? 3 : 2, ei);
  const x = Number(e.slice(ei + 1));
  const sign = neg ? '-' : '';
  if (x < -4 || x >= 17) {
    const frac = trimZeros(digits.slice(1));
    const ex = Math.abs(x);
    return `${sign}${digits[0]}${frac === '' ? '' : '.' + frac}e${x < 0 ? '-' : '+'}${ex < 10 ? '0' : ''}${ex}`;
  }
  if (x >= 0) {
    const frac = trimZeros(digits.slice(x + 1));
    return `${sign}${digits.slice(0, x + 1)}${frac === '' ? '' : '.' + frac}`;
  }
  return `${sign}0.${trimZeros('0'.repeat(-x - 1) + digits)}`;
}

function trimZeros(s: string): string {
  let n = s.length;
  while (n > 0 && s.charCodeAt(n - 1) === 48) n--;
  return s.slice(0, n);
}
