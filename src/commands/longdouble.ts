// INCRBYFLOAT's (and HINCRBYFLOAT's) arithmetic as Redis does it: in C's long double (x86-64: the
// x87 80-bit format, a 64-bit significand), parsed with strtold and printed
// with "%.17Lf" minus trailing zeros. Emulated exactly with BigInt so that
// replies match Redis byte for byte — e.g. SET k 0.3; INCRBYFLOAT k 5000 gives
// "5000.29999999999999982", which neither double nor decimal arithmetic gives.

/** A finite long double: (-1)^neg × mant × 2^exp, mant 0 or with exactly 64 bits. */
export interface LongDouble {
  neg: boolean;
  mant: bigint;
  exp: number;
}

const BITS = 64;
const TOP = 1n << 63n;
/** Largest binary exponent of the leading bit (x87 extended: 16383); beyond it is ±inf. */
const MAX_EXP = 16383;
/** Smallest normal leading-bit exponent; smaller magnitudes underflow (strtold's ERANGE). */
const MIN_EXP = -16382;
/** Redis's MAX_LONG_DOUBLE_CHARS: longer strings are not parsed. */
const MAX_CHARS = 5 * 1024;

function bitLength(n: bigint): number {
  return n === 0n ? 0 : n.toString(2).length;
}

/**
 * n × 2^e (n ≥ 0, exact) rounded to a 64-bit significand, to nearest, ties to
 * even (the default rounding mode). Returns null on overflow (±inf).
 */
function roundBinary(neg: boolean, n: bigint, e: number): LongDouble | null {
  if (n === 0n) return { neg, mant: 0n, exp: 0 };
  const bl = bitLength(n);
  let mant: bigint;
  if (bl <= BITS) {
    mant = n << BigInt(BITS - bl);
    e -= BITS - bl;
  } else {
    const shift = BigInt(bl - BITS);
    mant = n >> shift;
    const rem = n & ((1n << shift) - 1n);
    const half = 1n << (shift - 1n);
    if (rem > half || (rem === half && (mant & 1n) === 1n)) mant += 1n;
    e += bl - BITS;
    if (mant === 1n << 64n) {
      mant = TOP;
      e += 1;
    }
  }
  if (e + 63 > MAX_EXP) return null;
  return { neg, mant, exp: e };
}

/** p / q (p ≥ 0, q > 0) rounded to a 64-bit significand. */
function roundRational(neg: boolean, p: bigint, q: bigint): LongDouble | null {
  if (p === 0n) return { neg, mant: 0n, exp: 0 };
  // Scale so the quotient has at least 66 bits: 64 kept, the rest and the remainder decide rounding.
  const shift = Math.max(0, bitLength(q) - bitLength(p) + BITS + 2);
  const num = p << BigInt(shift);
  const quo = num / q;
  const sticky = num % q === 0n ? 0n : 1n;
  // Folding the remainder into one sticky bit below the quotient keeps ties exact.
  return roundBinary(neg, (quo << 1n) | sticky, -shift - 1);
}

const DEC = /^([+-]?)(?:(\d+)\.?(\d*)|\.(\d+))(?:[eE]([+-]?\d+))?$/;
const HEX = /^([+-]?)0[xX](?:([0-9a-fA-F]+)\.?([0-9a-fA-F]*)|\.([0-9a-fA-F]+))(?:[pP]([+-]?\d+))?$/;
const INF = /^([+-]?)inf(inity)?$/i;

/**
 * Redis's string2ld: strtold over the whole string; no leading space; NaN
 * refused; overflow to ±inf and underflow to 0 refused (ERANGE). "inf" itself
 * parses (as ±Infinity, returned as a number).
 */
export function parseLongDouble(s: string): LongDouble | number | null {
  if (s.length === 0 || s.length >= MAX_CHARS) return null;
  const inf = INF.exec(s);
  if (inf !== null) return inf[1] === '-' ? -Infinity : Infinity;
  let neg: boolean;
  let r: LongDouble | null;
  let nonzero: boolean;
  const d = DEC.exec(s);
  if (d !== null) {
    neg = d[1] === '-';
    const intDigits = d[2] ?? '';
    const frac = d[3] ?? d[4] ?? '';
    const e10 = Number(d[5] ?? '0') - frac.length;
    const digits = BigInt((intDigits + frac).replace(/^0+/, '') || '0');
    nonzero = digits !== 0n;
    if (!nonzero) return { neg, mant: 0n, exp: 0 };
    // Exponents far outside the range decide themselves without huge powers of ten.
    const magnitude = e10 + (intDigits + frac).replace(/^0+/, '').length;
    if (magnitude > 4940) return null;
    if (magnitude < -4960) return null;
    r = e10 >= 0 ? roundBinary(neg, digits * 10n ** BigInt(e10), 0) : roundRational(neg, digits, 10n ** BigInt(-e10));
  } else {
    const h = HEX.exec(s);
    if (h === null) return null;
    neg = h[1] === '-';
    const intDigits = h[2] ?? '';
    const frac = h[3] ?? h[4] ?? '';
    const digits = BigInt('0x' + (intDigits + frac || '0'));
    nonzero = digits !== 0n;
    if (!nonzero) return { neg, mant: 0n, exp: 0 };
    const e2 = Number(h[5] ?? '0') - 4 * frac.length;
    if (Math.abs(e2) > 20000) return null;
    r = roundBinary(neg, digits, e2);
  }
  if (r === null) return null; // overflow: ERANGE with HUGE_VALL
  if (r.exp + 63 < MIN_EXP) return null; // underflow (subnormals are not modelled): treated as ERANGE
  return r;
}

/** v × k (k > 0 an integer), rounded once; null when the product overflows. */
export function mulLongDouble(v: LongDouble, k: bigint): LongDouble | null {
  if (v.mant === 0n) return v;
  return roundBinary(v.neg, v.mant * k, v.exp);
}

/**
 * True when strtold reads s as a nonzero subnormal: 2^-16446 < |v| < 2^-16382
 * (half the smallest subnormal, which rounds to 0 by ties-to-even, up to the
 * smallest normal). strtold flags these with ERANGE, but string2ld refuses
 * only an ERANGE result of 0 or ±HUGE_VAL, so Redis accepts them. parseLongDouble
 * does not model subnormals (it returns null); callers that need Redis's exact
 * verdict on such inputs ask this.
 */
export function isSubnormalLongDouble(s: string): boolean {
  if (s.length === 0 || s.length >= MAX_CHARS) return false;
  const d = DEC.exec(s);
  if (d !== null) {
    const frac = d[3] ?? d[4] ?? '';
    const sig = ((d[2] ?? '') + frac).replace(/^0+/, '');
    if (sig === '') return false;
    const e10 = Number(d[5] ?? '0') - frac.length;
    // |v| lies in [10^(magnitude-1), 10^magnitude).
    const magnitude = e10 + sig.length;
    if (magnitude > -4900 || magnitude < -4960) return false; // 2^-16382 ≈ 3.4e-4932, 2^-16446 ≈ 1.8e-4951
    const q = 10n ** BigInt(-e10); // v = sig / q
    const p = BigInt(sig);
    return p << 16446n > q && p << 16382n < q;
  }
  const h = HEX.exec(s);
  if (h === null) return false;
  const frac = h[3] ?? h[4] ?? '';
  const digits = BigInt('0x' + ((h[2] ?? '') + frac || '0'));
  if (digits === 0n) return false;
  // v = digits × 2^e2; with k = e2 + 16446: v > 2^-16446 ⇔ digits × 2^k > 1, v < 2^-16382 ⇔ digits < 2^(64 - k).
  const k = Number(h[5] ?? '0') - 4 * frac.length + 16446;
  const bl = bitLength(digits);
  if (bl + k <= 0 || k > 64) return false;
  const above = k >= 0 ? (digits << BigInt(k)) > 1n : digits > 1n << BigInt(-k);
  return above && digits < 1n << BigInt(64 - k);
}

/** a + b, rounded once; null when the sum overflows. */
export function addLongDouble(a: LongDouble, b: LongDouble): LongDouble | null {
  if (a.mant === 0n) return b.mant === 0n ? { neg: a.neg && b.neg, mant: 0n, exp: 0 } : b;
  if (b.mant === 0n) return a;
  const e = Math.min(a.exp, b.exp);
  const x = (a.neg ? -a.mant : a.mant) << BigInt(a.exp - e);
  const y = (b.neg ? -b.mant : b.mant) << BigInt(b.exp - e);
  const sum = x + y;
  if (sum === 0n) return { neg: false, mant: 0n, exp: 0 };
  return roundBinary(sum < 0n, sum < 0n ? -sum : sum, e);
}

/** printf("%.17Lf") of v, then Redis's LD_STR_HUMAN trimming: trailing zeros and '.', "-0" → "0". */
export function formatLongDoubleHuman(v: LongDouble): string {
  const FRAC = 17n;
  const scale = 10n ** FRAC;
  let x: bigint; // |v| × 10^17, rounded to nearest, ties to even
  if (v.exp >= 0) x = (v.mant << BigInt(v.exp)) * scale;
  else {
    const den = 1n << BigInt(-v.exp);
    const num = v.mant * scale;
    x = num / den;
    const rem = num % den;
    if (rem * 2n > den || (rem * 2n === den && (x & 1n) === 1n)) x += 1n;
  }
  const whole = (x / scale).toString();
  const frac = (x % scale).toString().padStart(17, '0').replace(/0+$/, '');
  const text = frac === '' ? whole : `${whole}.${frac}`;
  return v.neg && text !== '0' ? `-${text}` : text;
}

/**
 * INCRBYFLOAT's step: current + incr as Redis computes it. Returns the reply
 * text, 'nan-or-inf' when the sum is not finite, or 'not-float' when either
 * string is not a long double.
 */
export function incrByFloatText(current: string, incr: string): string | 'not-float' | 'nan-or-inf' {
  const a = parseLongDouble(current);
  const b = parseLongDouble(incr);
  if (a === null || b === null) return 'not-float';
  if (typeof a === 'number' || typeof b === 'number') return 'nan-or-inf'; // ±inf in, never finite out
  const sum = addLongDouble(a, b);
  if (sum === null) return 'nan-or-inf';
  return formatLongDoubleHuman(sum);
}
