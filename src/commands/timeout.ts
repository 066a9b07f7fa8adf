// The timeout argument of the blocking commands (BLPOP, BLMOVE, BLMPOP,
// BZPOPMIN, BZMPOP, ...) read exactly as Redis 7.0's getTimeoutFromObjectOrReply
// reads it in seconds: a long double (strtold over the whole string, as
// string2ld), times 1000.0 in long double, rounded up (ceill) and converted
// to a C long long. 0 means wait forever.

import { ErrCode, type ReplyWriter } from '../protocol/reply.js';
import { isSubnormalLongDouble, mulLongDouble, parseLongDouble } from './longdouble.js';

export const TIMEOUT_NOT_FLOAT = 'ERR timeout is not a float or out of range';
export const TIMEOUT_NEGATIVE = 'ERR timeout is negative';

/**
 * A blocking command's timeout in milliseconds (0: forever), or which error
 * Redis 7.0 gives. What follows from Redis's arithmetic, all checked against
 * redis-server 7.0.15:
 * - hex floats ("0x1p3") and "1." / ".5" are numbers; leading or trailing
 *   blanks, "nan" and strings of 5120 bytes or more are not ('not-float');
 * - the product is rounded up: "0.0001" waits 1 ms, "1.0001" 1001 ms, and a
 *   negative timeout above -1 ms is -0, i.e. 0, forever: "-0.0001" blocks
 *   forever while "-0.002" is 'negative'; "-0.001" is accepted too, because
 *   0.001 as a long double times 1000 rounds to just under 1 (so "0.001" is
 *   1 ms);
 * - "inf", "1e16" (1e19 ms) and anything else past LLONG_MAX ms converts to
 *   LLONG_MIN on x86-64 (the "integer indefinite" value), hence 'negative';
 * - a long double overflow ("1.2e4932") or an underflow to 0 ("1e-5000") is
 *   'not-float'; a subnormal ("1e-4940") is a number: 1 ms ("-1e-4940": 0).
 * The result can reach 2^63 - 1, beyond 2^53: as a JS number it loses its last
 * digits, which no wait can tell apart. (Redis then adds the current unix
 * time, and a sum past LLONG_MAX wraps to a deadline its timer never reaches:
 * such a client, too, waits until it is served.)
 */
export function parseTimeout(arg: string): number | 'not-float' | 'negative' {
  const v = parseLongDouble(arg);
  if (v === null) {
    // A subnormal: times 1000 still a sliver above (or below) 0, which ceil makes 1 (or -0).
    if (isSubnormalLongDouble(arg)) return arg.startsWith('-') ? 0 : 1;
    return 'not-float';
  }
  if (typeof v === 'number') return 'negative'; // ±inf × 1000 converts to LLONG_MIN
  const ms = mulLongDouble(v, 1000n);
  if (ms === null) return 'negative'; // the product overflowed to ±inf: LLONG_MIN again
  if (ms.mant === 0n) return 0; // 0 and -0
  // A 64-bit significand at exponent ≥ 0 is at least 2^63: out of long long's range.
  if (ms.exp >= 0) return 'negative';
  // |product| = whole + a fraction (fraction true when it is not 0).
  const whole = ms.exp <= -64 ? 0n : ms.mant >> BigInt(-ms.exp);
  const fraction = whole << BigInt(-ms.exp) !== ms.mant;
  if (ms.neg) return whole === 0n ? 0 : 'negative'; // ceil(-x) = -floor(x)
  const up = fraction ? whole + 1n : whole;
  if (up >= 1n << 63n) return 'negative'; // ceil reached 2^63: LLONG_MIN
  return Number(up);
}

/** parseTimeout for a command: the milliseconds, or null after writing Redis's error (book: err 4). */
export function readTimeout(arg: string, w: ReplyWriter): number | null {
  const t = parseTimeout(arg);
  if (t === 'not-float') {
    w.err(ErrCode.BadArg, TIMEOUT_NOT_FLOAT);
    return null;
  }
  if (t === 'negative') {
    w.err(ErrCode.BadArg, TIMEOUT_NEGATIVE);
    return null;
  }
  return t;
}
