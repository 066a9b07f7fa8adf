// Unit tests of the blocking commands' timeout argument (src/commands/timeout.ts)
// and of the numkeys/end/COUNT parser of the multi-pops (src/commands/mpop.ts).
// Every verdict below is what redis-server 7.0.15 gave: BLPOP on a list that
// holds elements parses the timeout, then pops at once (accepted) or replies
// the error. Among accepted timeouts, the milliseconds of a positive one follow
// from Redis's ceill(seconds × 1000) in long double, and a negative one above
// -1 ms is -0, which blocks forever (checked with a missing key).

import { describe, expect, it } from 'vitest';
import { COUNT_NOT_POSITIVE, NUMKEYS_NOT_POSITIVE, mpopParse } from '../src/commands/mpop.js';
import { isSubnormalLongDouble } from '../src/commands/longdouble.js';
import { TIMEOUT_NEGATIVE, TIMEOUT_NOT_FLOAT, parseTimeout, readTimeout } from '../src/commands/timeout.js';
import { Recorder } from './helpers/recorder.js';

describe('parseTimeout (Redis 7.0 seconds)', () => {
  it('reads seconds as milliseconds, rounding up', () => {
    const cases: [string, number][] = [
      ['0', 0],
      ['-0', 0],
      ['0.0', 0],
      ['1', 1000],
      ['+1', 1000],
      ['1.5', 1500],
      ['.5', 500],
      ['5.', 5000],
      ['1.e1', 10000],
      ['1e3', 1000000],
      ['2.5', 2500],
      ['0.0001', 1], // ceil, so a short wait and not forever
      ['0.0015', 2],
      ['1.0001', 1001],
      ['1e-400', 1], // far below a double's range, fine in long double
      ['0x10', 16000], // strtold reads hex floats
      ['0X10', 16000],
      ['0x1.8p1', 3000],
      ['0x.8', 500],
      ['1e15', 1e18],
    ];
    for (const [arg, ms] of cases) expect([arg, parseTimeout(arg)]).toEqual([arg, ms]);
  });

  it('long double arithmetic decides the boundaries', () => {
    // 0.001 as a long double times 1000 rounds to just under 1: ceil gives 1,
    // and the negative, ceil'd to -0, is accepted (it blocks forever).
    expect(parseTimeout('0.001')).toBe(1);
    expect(parseTimeout('-0.001')).toBe(0);
    expect(parseTimeout('-0.0001')).toBe(0);
    expect(parseTimeout('-0.0009999999999999999999')).toBe(0);
    expect(parseTimeout('-0.002')).toBe('negative');
    expect(parseTimeout('-0.9999')).toBe('negative');
    expect(parseTimeout('-1')).toBe('negative');
    expect(parseTimeout('-.5')).toBe('negative');
    // Just under 2^63 ms is accepted; a product whose ceiling is 2^63 is out of
    // long long's range and converts to LLONG_MIN: negative.
    expect(parseTimeout('9223372036854775.807')).toBe(9223372036854775807); // 2^63 - 1, as a double
    expect(parseTimeout('9223372036854775.808')).toBe('negative');
    expect(parseTimeout('9223372036854775.8075')).toBe('negative');
    expect(parseTimeout('9223372036854775807')).toBe('negative');
    expect(parseTimeout('1e16')).toBe('negative');
    expect(parseTimeout('1e17')).toBe('negative');
    expect(parseTimeout('1e400')).toBe('negative');
    expect(parseTimeout('1.1e4932')).toBe('negative'); // finite, but ×1000 overflows to inf
    expect(parseTimeout('-1.1e4932')).toBe('negative');
    expect(parseTimeout('-9223372036854775.807')).toBe('negative');
  });

  it('infinities are negative (LLONG_MIN), NaN and non-numbers are not floats', () => {
    for (const arg of ['inf', '+inf', '-inf', 'INF', 'infinity', '-Infinity']) expect([arg, parseTimeout(arg)]).toEqual([arg, 'negative']);
    const notFloats = ['abc', '', ' 1', '1 ', '\t1', 'nan', 'NaN', '-nan', 'infinit', '0x', '1e', '1e+', '.', '-', '+', '--1', '1_0', '0b1', '1d', '1f', '1L', '1,5', '١'];
    for (const arg of notFloats) expect([arg, parseTimeout(arg)]).toEqual([arg, 'not-float']);
    // string2ld refuses strings of MAX_LONG_DOUBLE_CHARS (5120) bytes or more.
    expect(parseTimeout('0'.repeat(5118) + '1')).toBe(1000);
    expect(parseTimeout('0'.repeat(5119) + '1')).toBe('not-float');
  });

  it('overflow and underflow to zero are not floats; subnormals are numbers', () => {
    expect(parseTimeout('1e5000')).toBe('not-float');
    expect(parseTimeout('1.2e4932')).toBe('not-float');
    expect(parseTimeout('1e-5000')).toBe('not-float');
    expect(parseTimeout('1e-4932')).toBe(1); // normal
    expect(parseTimeout('1e-4940')).toBe(1); // subnormal: ERANGE, but not 0
    expect(parseTimeout('-1e-4940')).toBe(0);
    expect(parseTimeout('3.6e-4951')).toBe(1); // about the smallest subnormal
    expect(parseTimeout('1.83e-4951')).toBe(1); // rounds up to it
    expect(parseTimeout('1.8e-4951')).toBe('not-float'); // rounds to 0
    expect(parseTimeout('0x1p-16445')).toBe(1); // the smallest subnormal
    expect(parseTimeout('0x1p-16446')).toBe('not-float'); // half of it: a tie, to even, 0
    expect(parseTimeout('0x1.1p-16446')).toBe(1);
    expect(parseTimeout('3.3e-4932')).toBe(1);
    expect(parseTimeout('-3.3e-4932')).toBe(0);
  });

  it('readTimeout writes Redis error text', () => {
    const w = new Recorder();
    expect(readTimeout('x', w)).toBeNull();
    expect(w.reply()).toEqual({ err: 4, msg: 'ERR timeout is not a float or out of range' });
    const w2 = new Recorder();
    expect(readTimeout('-1', w2)).toBeNull();
    expect(w2.reply()).toEqual({ err: 4, msg: 'ERR timeout is negative' });
    expect([TIMEOUT_NOT_FLOAT, TIMEOUT_NEGATIVE]).toEqual(['ERR timeout is not a float or out of range', 'ERR timeout is negative']);
    const w3 = new Recorder();
    expect(readTimeout('0.25', w3)).toBe(250);
    expect(w3.calls).toEqual([]);
  });
});

describe('isSubnormalLongDouble', () => {
  it('is true exactly between half the smallest subnormal and the smallest normal', () => {
    for (const s of ['1e-4940', '-1e-4940', '3.3e-4932', '0x1p-16383', '0x1p-16445', '0x3p-16447', '0x0.0002p-16430', '0.00001e-4935']) {
      expect([s, isSubnormalLongDouble(s)]).toEqual([s, true]);
    }
    for (const s of ['0', '1', '1e-4931', '3.4e-4932', '0x1p-16382', '0x1p-16446', '0x0.0001p-16430', '1.8e-4951', '1e-5000', '1e5000', 'inf', 'nan', '', 'x', ' 1e-4940']) {
      expect([s, isSubnormalLongDouble(s)]).toEqual([s, false]);
    }
  });
});

describe('mpopParse (LMPOP, ZMPOP and their blocking forms)', () => {
  const ENDS = ['left', 'right'] as const;
  const parse = (args: string[], at = 1) => {
    const w = new Recorder();
    const r = mpopParse(args, at, ENDS, w);
    return r ?? w.reply();
  };
  const SYNTAX = { err: 4, msg: 'ERR syntax error' };
  const NUMKEYS = { err: 4, msg: NUMKEYS_NOT_POSITIVE };
  const COUNT = { err: 4, msg: COUNT_NOT_POSITIVE };

  it('reads keys, the end and COUNT', () => {
    expect(parse(['lmpop', '1', 'k', 'LEFT'])).toEqual({ keys: ['k'], end: 'left', count: 1 });
    expect(parse(['lmpop', '2', 'a', 'b', 'Right', 'count', '7'])).toEqual({ keys: ['a', 'b'], end: 'right', count: 7 });
    expect(parse(['lmpop', '1', 'left', 'left'])).toEqual({ keys: ['left'], end: 'left', count: 1 });
    // A blocking form: the timeout at 1, numkeys at 2.
    expect(parse(['blmpop', '0', '1', 'k', 'RIGHT', 'COUNT', '2'], 2)).toEqual({ keys: ['k'], end: 'right', count: 2 });
    expect(parse(['lmpop', '1', 'k', 'LEFT', 'COUNT', '9223372036854775807'])).toEqual({ keys: ['k'], end: 'left', count: 2 ** 63 });
    const w = new Recorder();
    expect(mpopParse(['zmpop', '1', 'z', 'max'], 1, ['min', 'max'] as const, w)).toEqual({ keys: ['z'], end: 'max', count: 1 });
  });

  it('answers Redis errors in Redis order', () => {
    for (const n of ['0', '-1', 'abc', '1.5', '01', '', '9223372036854775808']) expect(parse(['lmpop', n, 'k', 'LEFT'])).toEqual(NUMKEYS);
    expect(parse(['lmpop', '2', 'k', 'LEFT'])).toEqual(SYNTAX);
    expect(parse(['lmpop', '9223372036854775807', 'k', 'LEFT'])).toEqual(SYNTAX);
    expect(parse(['lmpop', '1', 'k', 'MIN'])).toEqual(SYNTAX);
    expect(parse(['lmpop', '1', 'k', 'LEFT', 'COUNT'])).toEqual(SYNTAX);
    expect(parse(['lmpop', '1', 'k', 'LEFT', 'x'])).toEqual(SYNTAX);
    for (const c of ['0', '-1', 'x', '1.0', '9223372036854775808']) expect(parse(['lmpop', '1', 'k', 'LEFT', 'COUNT', c])).toEqual(COUNT);
    expect(parse(['lmpop', '1', 'k', 'LEFT', 'COUNT', '1', 'COUNT', '1'])).toEqual(SYNTAX);
    expect(parse(['lmpop', '1', 'k', 'LEFT', 'COUNT', '0', 'COUNT', '1'])).toEqual(COUNT);
    expect(parse(['lmpop', '1', 'k', 'LEFT', 'COUNT', '1', 'extra'])).toEqual(SYNTAX);
  });
});
