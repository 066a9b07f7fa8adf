// The protocol-neutral reply writer. Commands speak only this interface; each
// wire codec (book binary, RESP2) implements it by encoding straight into the
// connection's outgoing buffer. Strings are "binary strings": one JS char per
// byte (latin1), so any byte sequence round-trips unchanged.

/** Error codes of the book's protocol; RESP ignores the code and sends the message. */
export const enum ErrCode {
  Unknown = 1, // unknown command, also wrong number of arguments
  TooBig = 2, // the response exceeded k_max_msg
  BadType = 3, // WRONGTYPE
  BadArg = 4, // a malformed argument
}

export interface ReplyWriter {
  /** Absent value: book tag 0, RESP `$-1`. */
  nil(): void;
  /** An error. `msg` is Redis's full error line (e.g. "ERR syntax error"). */
  err(code: ErrCode, msg: string): void;
  /** A (binary) string: book tag 2, RESP bulk string. */
  str(s: string): void;
  /** A status reply such as OK or PONG: RESP `+OK`; the book protocol sends a str. */
  status(s: string): void;
  /** A 64-bit signed integer: book tag 3, RESP `:n`. */
  int(n: number | bigint): void;
  /** A double: book tag 4 (f64), RESP bulk string formatted as Redis does. */
  dbl(d: number): void;
  /** The header of an array of n values; the n values follow. */
  arr(n: number): void;
  /** RESP's null array (`*-1`); the book protocol sends nil. */
  nilArr(): void;
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
