// Differential: string values large enough to be held as bytes off V8's heap
// (BIG_VALUE, src/store/bytes.ts) answer every string command exactly as
// redis-server does — read whole or in part, changed in place, crossing the
// threshold either way, copied, renamed, dumped and restored.
import { describe, test } from 'vitest';
import { BIG_VALUE } from '../../src/store/bytes.js';
import { useServers } from './harness.js';

/** A binary value of n bytes: every byte value, CR/LF and NUL included. */
function bytes(n: number, seed: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + seed * 7 + (i >> 8)) & 0xff;
  return b;
}

const BIG = BIG_VALUE + 1000;
const big = bytes(BIG, 1);
const big2 = bytes(BIG + 17, 2);
const exact = bytes(BIG_VALUE, 3);
const under = bytes(BIG_VALUE - 1, 4);

describe('large string values', () => {
  const s = useServers();

  test('read whole and in part', () =>
    s.same([
      ['SET', 'k', big],
      ['GET', 'k'],
      ['STRLEN', 'k'],
      ['TYPE', 'k'],
      ['GETRANGE', 'k', '0', '9'],
      ['GETRANGE', 'k', '-10', '-1'],
      ['GETRANGE', 'k', '1000', '60000'],
      ['GETRANGE', 'k', '0', '-1'],
      ['GETRANGE', 'k', String(BIG), String(BIG + 10)],
      ['GETRANGE', 'k', '-5', '-10'],
      ['SUBSTR', 'k', '5', '100'],
      ['SET', 'e', exact],
      ['GET', 'e'],
      ['SET', 'u', under],
      ['GET', 'u'],
      ['MGET', 'k', 'missing', 'u', 'e'],
      ['GETSET', 'k', big2],
      ['GET', 'k'],
      ['SET', 'k', big, 'GET'],
      ['SET', 'k', 'small', 'GET'],
      ['SET', 'k', big, 'GET'],
      ['SET', 'k', big2, 'NX', 'GET'],
      ['GET', 'k'],
      ['GETEX', 'k', 'EX', '1000'],
      ['TTL', 'k'],
      ['GETEX', 'k', 'PERSIST'],
      ['TTL', 'k'],
      ['GETDEL', 'k'],
      ['EXISTS', 'k'],
      ['GETDEL', 'k'],
    ]));

  test('changed in place: APPEND, SETRANGE, SETBIT', () =>
    s.same([
      ['SET', 'k', big],
      ['APPEND', 'k', 'tail\r\n\0'],
      ['STRLEN', 'k'],
      ['GET', 'k'],
      ['APPEND', 'k', ''],
      ['SETRANGE', 'k', '10', 'middle'],
      ['GETRANGE', 'k', '0', '30'],
      ['SETRANGE', 'k', String(BIG + 100), 'past the end'],
      ['STRLEN', 'k'],
      ['GET', 'k'],
      ['SETRANGE', 'k', '0', ''],
      ['SETRANGE', 'k', '5', big2],
      ['GET', 'k'],
      ['SETBIT', 'k', '7', '1'],
      ['GETBIT', 'k', '7'],
      ['BITCOUNT', 'k', '0', '99'],
      ['GET', 'k'],
      ['APPEND', 'k', big],
      ['GET', 'k'],
      // Crossing the threshold upwards: small strings that grow past it.
      ['SET', 's', 'abc'],
      ['APPEND', 's', big],
      ['GET', 's'],
      ['SETRANGE', 'r', String(BIG_VALUE + 3), 'x'],
      ['GET', 'r'],
      ['STRLEN', 'r'],
      ['SET', 'u', under],
      ['APPEND', 'u', 'z'],
      ['GET', 'u'],
      // And downwards: a large value replaced by a small one.
      ['SET', 'k', 'tiny'],
      ['GET', 'k'],
      ['APPEND', 'k', '!'],
      ['GET', 'k'],
    ]));

  test('numbers, copies, dumps, transactions', () =>
    s.same([
      ['SET', 'k', big],
      ['INCR', 'k'],
      ['DECRBY', 'k', '5'],
      ['INCRBYFLOAT', 'k', '1.5'],
      ['GET', 'k'],
      ['COPY', 'k', 'c'],
      ['SETRANGE', 'c', '0', 'changed'],
      ['APPEND', 'c', 'more'],
      ['GETRANGE', 'k', '0', '10'],
      ['GETRANGE', 'c', '0', '10'],
      ['STRLEN', 'k'],
      ['STRLEN', 'c'],
      ['RENAME', 'c', 'd'],
      ['APPEND', 'd', 'x'],
      ['GET', 'd'],
      ['GET', 'k'],
      ['MSET', 'm1', big, 'm2', big2],
      ['MGET', 'm1', 'm2'],
      ['MSETNX', 'm1', 'x', 'm3', big],
      ['SETNX', 'm3', big],
      ['GET', 'm3'],
      ['SETEX', 'x', '100', big2],
      ['GET', 'x'],
      ['PSETEX', 'x', '100000', big],
      ['GET', 'x'],
      ['MULTI'],
      ['SET', 't', big2],
      ['APPEND', 't', 'q'],
      ['GET', 't'],
      ['EXEC'],
      ['DEL', 'k', 'd', 'm1', 'm2', 'm3', 'x', 't'],
      ['EXISTS', 'k'],
    ]));

  test("an overwritten value's buffer is reused for the next value of its length, never seen again", () => {
    const v = [1, 2, 3, 4, 5, 6].map((seed) => bytes(BIG, 10 + seed));
    return s.same([
      ['SET', 'a', v[0]],
      ['SET', 'b', v[1]],
      ['SET', 'a', v[2]],
      ['SET', 'c', v[3]],
      ['GET', 'a'],
      ['GET', 'b'],
      ['GET', 'c'],
      ['GETSET', 'b', v[4]],
      ['SET', 'c', v[5], 'GET'],
      ['SET', 'd', v[0]],
      ['SET', 'e', v[1]],
      ['MGET', 'a', 'b', 'c', 'd', 'e'],
      ['SETRANGE', 'd', '0', 'x'],
      ['SET', 'f', v[2]],
      ['MGET', 'a', 'b', 'c', 'd', 'e', 'f'],
      ['SET', 'a', 'small'],
      ['SET', 'g', v[3]],
      ['MGET', 'a', 'b', 'c', 'd', 'e', 'f', 'g'],
      ['SET', 'g', v[3]],
      ['GET', 'g'],
      ['RENAME', 'g', 'b'],
      ['SET', 'h', v[4]],
      ['MGET', 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'],
    ]);
  });

  test('a change in place is a change: WATCH sees APPEND and SETRANGE on a large value', () =>
    s.script(2, [
      [0, ['SET', 'k', big]],
      [0, ['WATCH', 'k']],
      [1, ['APPEND', 'k', 'x']],
      [0, ['MULTI']],
      [0, ['GET', 'k']],
      [0, ['EXEC']],
      [0, ['WATCH', 'k']],
      [1, ['SETRANGE', 'k', '3', 'yy']],
      [0, ['MULTI']],
      [0, ['STRLEN', 'k']],
      [0, ['EXEC']],
      [0, ['GETRANGE', 'k', '0', '9']],
    ]));

  test('DUMP and RESTORE round-trip a large value', () =>
    s.same([
      ['SET', 'k', big],
      ['EXISTS', 'k'],
      { cmd: ['EVAL', "local d = redis.call('DUMP', KEYS[1]) redis.call('RESTORE', KEYS[2], 0, d) return redis.call('GET', KEYS[2])", '2', 'k', 'r'] },
      ['STRLEN', 'r'],
      ['APPEND', 'r', 'y'],
      ['GETRANGE', 'r', '-3', '-1'],
      ['EVAL', "return redis.call('GET', KEYS[1])", '1', 'k'],
      ['EVAL', "return string.len(redis.call('GET', KEYS[1]))", '1', 'k'],
    ]));
});
