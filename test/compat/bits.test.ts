// Differential: bitmap commands (SETBIT, GETBIT, BITCOUNT, BITPOS, BITOP,
// BITFIELD, BITFIELD_RO) against a real redis-server, byte for byte; then
// seeded random streams that mix them with the string commands that read and
// rewrite the same keys (GET, APPEND, SETRANGE, ...).
import { describe, test } from 'vitest';
import { useServers, type Step } from './harness.js';
import { prng } from '../../src/util/prng.js';

const ones = Buffer.alloc(5, 0xff);
const binary = Buffer.from([0, 1, 2, 0x80, 0x7f, 0xff, 0x10, 0xaa, 0x55]);
const long = Buffer.from(Array.from({ length: 3000 }, (_, i) => (i * 37 + (i >> 3)) & 0xff));

describe('bitmaps', () => {
  const s = useServers();

  test('SETBIT / GETBIT: values, growth, offsets, errors', () =>
    s.same([
      ['SETBIT', 'k', '7', '1'],
      ['GET', 'k'],
      ['SETBIT', 'k', '7', '1'],
      ['SETBIT', 'k', '7', '0'],
      ['GET', 'k'],
      ['SETBIT', 'k', '0', '1'],
      ['SETBIT', 'k', '100', '0'],
      ['STRLEN', 'k'],
      ['GET', 'k'],
      ['GETBIT', 'k', '0'],
      ['GETBIT', 'k', '1'],
      ['GETBIT', 'k', '100'],
      ['GETBIT', 'k', '1000000'],
      ['GETBIT', 'nokey', '5'],
      ['EXISTS', 'nokey'],
      ['SETBIT', 'big', '1000000', '1'],
      ['STRLEN', 'big'],
      ['BITCOUNT', 'big'],
      ['GETBIT', 'big', '1000000'],
      ['SETBIT', 'k', '4294967295', '2'],
      ['SETBIT', 'k', '4294967296', '1'],
      ['SETBIT', 'k', '-1', '1'],
      ['SETBIT', 'k', '1', '-1'],
      ['SETBIT', 'k', '1', 'x'],
      ['SETBIT', 'k', '1', ''],
      ['SETBIT', 'k', 'x', '1'],
      ['SETBIT', 'k', '01', '1'],
      ['SETBIT', 'k', '+1', '1'],
      ['SETBIT', 'k', '#1', '1'],
      ['SETBIT', 'k', '1.5', '1'],
      ['SETBIT', 'k', '99999999999999999999', '1'],
      ['GETBIT', 'k', '4294967295'],
      ['GETBIT', 'k', '4294967296'],
      ['GETBIT', 'k', '-1'],
      ['GETBIT', 'k', 'abc'],
      ['SET', 'n', '12345'],
      ['GETBIT', 'n', '2'],
      ['GETBIT', 'n', '3'],
      ['SETBIT', 'n', '0', '1'],
      ['GET', 'n'],
      ['SETBIT', 'k'],
      ['SETBIT', 'k', '1'],
      ['GETBIT', 'k'],
      ['GETBIT', 'k', '1', '2'],
    ]));

  test('offsets are bounded by proto-max-bulk-len', async () => {
    try {
      await s.same([
        ['CONFIG', 'SET', 'proto-max-bulk-len', '1048576'],
        ['SETBIT', 'z', '8388608', '1'],
        ['GETBIT', 'z', '8388608'],
        ['SETBIT', 'z', '8388607', '1'],
        ['STRLEN', 'z'],
        ['BITFIELD', 'z', 'GET', 'u8', '8388607', 'GET', 'u8', '8388608'],
        ['BITFIELD', 'z', 'SET', 'u8', '8388607', '1', 'SET', 'i64', '#131071', '-1'],
        ['STRLEN', 'z'],
        ['BITCOUNT', 'z'],
        ['BITPOS', 'z', '1', '-3'],
        ['BITFIELD', 'z', 'GET', 'u8', '#1048576'],
      ]);
    } finally {
      await Promise.all([s.redis, s.ours].map((c) => c.call(['CONFIG', 'SET', 'proto-max-bulk-len', '536870912'])));
    }
  });

  test('SETBIT keeps the TTL; SET after SETBIT clears it', () =>
    s.same([
      ['SET', 'k', 'abc', 'EX', '1000'],
      ['SETBIT', 'k', '3', '1'],
      ['TTL', 'k'],
      ['GET', 'k'],
      ['SETBIT', 'k', '200', '1'],
      ['TTL', 'k'],
      ['BITFIELD', 'k', 'SET', 'u8', '0', '65'],
      ['TTL', 'k'],
      ['GET', 'k'],
      ['SET', 'k', 'x'],
      ['TTL', 'k'],
    ]));

  test('WRONGTYPE and argument checks come in Redis 7.0 order', () =>
    s.same([
      ['LPUSH', 'l', 'a'],
      ['HSET', 'h', 'f', 'v'],
      ['SETBIT', 'l', '1', '1'],
      ['SETBIT', 'l', '1', '2'],
      ['SETBIT', 'l', '-1', '1'],
      ['GETBIT', 'l', '1'],
      ['GETBIT', 'l', '-1'],
      ['BITCOUNT', 'l'],
      ['BITCOUNT', 'l', 'a', 'b'],
      ['BITCOUNT', 'l', '0'],
      ['BITPOS', 'l', '1'],
      ['BITPOS', 'l', '2'],
      ['BITPOS', 'l', 'x'],
      ['BITPOS', 'l', '1', 'a'],
      ['BITOP', 'AND', 'd', 'l'],
      ['BITOP', 'AND', 'd', 'nokey', 'h'],
      ['BITOP', 'OR', 'l', 'nokey'],
      ['TYPE', 'l'],
      ['BITOP', 'NOT', 'd', 'l'],
      ['BITFIELD', 'l', 'GET', 'u8', '0'],
      ['BITFIELD', 'l', 'SET', 'u8', '0', '1'],
      ['BITFIELD', 'l', 'GET', 'u99', '0'],
      ['BITFIELD', 'l'],
      ['BITFIELD_RO', 'l', 'GET', 'u8', '0'],
      ['BITFIELD_RO', 'l', 'SET', 'u8', '0', '1'],
      ['BITFIELD_RO', 'l'],
      ['LRANGE', 'l', '0', '-1'],
    ]));

  test('BITCOUNT: whole string, BYTE and BIT ranges, negative indexes', () => {
    const steps: Step[] = [
      ['SET', 's', 'foobar'],
      ['SET', 'ones', ones],
      ['SET', 'bin', binary],
      ['SET', 'long', long],
      ['SET', 'e', ''],
      ['BITCOUNT', 's'],
      ['BITCOUNT', 'e'],
      ['BITCOUNT', 'e', '0', '-1'],
      ['BITCOUNT', 'e', '0', '-1', 'BIT'],
      ['BITCOUNT', 'nokey'],
      ['BITCOUNT', 'nokey', 'a', 'b'],
      ['BITCOUNT', 'nokey', '0'],
      ['BITCOUNT', 'nokey', '0', '1', 'foo'],
      ['BITCOUNT', 's', '0'],
      ['BITCOUNT', 's', '0', '1', '2', '3'],
      ['BITCOUNT', 's', 'a', '1'],
      ['BITCOUNT', 's', '1', 'a'],
      ['BITCOUNT', 's', '0', '1', 'foo'],
      ['BITCOUNT', 's', '-1', '-2', 'foo'],
      ['BITCOUNT', 's', '-1', '-2', 'bit'],
      ['BITCOUNT', 's', '0', '-1', 'bit\0x'],
      ['BITCOUNT', 's', '9223372036854775807', '-9223372036854775808'],
      ['BITCOUNT', 's', '-9223372036854775808', '9223372036854775807'],
      ['BITCOUNT', 's', '-9223372036854775808', '9223372036854775807', 'BIT'],
      ['BITCOUNT', 's', '9223372036854775808', '1'],
      ['BITCOUNT', 'long'],
      ['BITCOUNT', 'long', '17', '2900'],
      ['BITCOUNT', 'long', '101', '2999', 'bit'],
    ];
    for (const key of ['s', 'ones', 'bin']) {
      for (const [a, b] of [['0', '0'], ['1', '1'], ['0', '-1'], ['-3', '-1'], ['-100', '100'], ['2', '1'], ['5', '100'], ['-1', '-1'], ['100', '200']]) {
        steps.push(['BITCOUNT', key, a, b], ['BITCOUNT', key, a, b, 'BYTE']);
      }
      for (const [a, b] of [['0', '0'], ['1', '6'], ['3', '12'], ['7', '8'], ['0', '-1'], ['-9', '-2'], ['-100', '5'], ['5', '4'], ['13', '13'], ['8', '15'], ['9', '1000'], ['-1', '-1']]) {
        steps.push(['BITCOUNT', key, a, b, 'BIT'], ['BITCOUNT', key, a, b, 'bit']);
      }
    }
    return s.same(steps);
  });

  test('BITPOS: bit 0 and 1, BYTE and BIT ranges, all-ones, all-zeros and empty strings', () => {
    const steps: Step[] = [
      ['SET', 's', 'foobar'],
      ['SET', 'ones', ones],
      ['SET', 'zeros', Buffer.alloc(4)],
      ['SET', 'bin', binary],
      ['SET', 'e', ''],
      ['SET', 'long', Buffer.concat([Buffer.alloc(2000), Buffer.from([0x01]), Buffer.alloc(500, 0xff), Buffer.from([0xfe])])],
      ['BITPOS', 'nokey', '0'],
      ['BITPOS', 'nokey', '1'],
      ['BITPOS', 'nokey', '1', 'a'],
      ['BITPOS', 'nokey', '0', '5', '10', 'BIT'],
      ['BITPOS', 'nokey', '2'],
      ['BITPOS', 'nokey', 'x'],
      ['BITPOS', 'nokey', '-1'],
      ['BITPOS', 'e', '0'],
      ['BITPOS', 'e', '1'],
      ['BITPOS', 'e', '0', '0'],
      ['BITPOS', 'e', '0', '0', '-1'],
      ['BITPOS', 'e', '1', '0', '-1', 'BIT'],
      ['BITPOS', 's', '1', 'a'],
      ['BITPOS', 's', '1', '0', 'a'],
      ['BITPOS', 's', '1', '0', 'a', 'foo'],
      ['BITPOS', 's', '1', 'a', '0', 'foo'],
      ['BITPOS', 's', '1', '0', '1', 'foo'],
      ['BITPOS', 's', '1', '0', '1', 'bit', 'x'],
      ['BITPOS', 's', '0', '-9223372036854775808', '9223372036854775807'],
      ['BITPOS', 's', '1', '9223372036854775807'],
      ['BITPOS', 'long', '1'],
      ['BITPOS', 'long', '0', '2000'],
      ['BITPOS', 'long', '0', '2001'],
      ['BITPOS', 'long', '0', '2001', '2500'],
      ['BITPOS', 'long', '0', '2001', '-1'],
      ['BITPOS', 'long', '1', '16000', '-1', 'BIT'],
      ['BITPOS', 'long', '0', '16008', '-1', 'BIT'],
      ['BITPOS', 'long', '0', '16008', '24015', 'BIT'],
    ];
    for (const key of ['s', 'ones', 'zeros', 'bin']) {
      for (const bit of ['0', '1']) {
        steps.push(['BITPOS', key, bit]);
        for (const a of ['0', '1', '2', '-1', '-2', '-100', '100']) steps.push(['BITPOS', key, bit, a]);
        for (const [a, b] of [['0', '0'], ['1', '2'], ['0', '-1'], ['-3', '-1'], ['2', '1'], ['-100', '100'], ['3', '100']]) {
          steps.push(['BITPOS', key, bit, a, b], ['BITPOS', key, bit, a, b, 'byte']);
        }
        for (const [a, b] of [['0', '0'], ['1', '6'], ['3', '12'], ['7', '8'], ['0', '-1'], ['-9', '-2'], ['5', '4'], ['13', '13'], ['9', '1000'], ['-1', '-1'], ['8', '15'], ['2', '3']]) {
          steps.push(['BITPOS', key, bit, a, b, 'BIT']);
        }
      }
    }
    return s.same(steps);
  });

  test('BITOP AND/OR/XOR/NOT: lengths, missing keys, empty results, errors', () =>
    s.same([
      ['SET', 'a', 'foobar'],
      ['SET', 'b', 'abcdef'],
      ['SET', 'c', Buffer.from([0xff, 0x0f])],
      ['SET', 'e', ''],
      ['SET', 'long', long],
      ['BITOP', 'AND', 'd', 'a', 'b'],
      ['GET', 'd'],
      ['BITOP', 'or', 'd', 'a', 'c'],
      ['GET', 'd'],
      ['BITOP', 'XOR', 'd', 'a', 'b', 'c'],
      ['GET', 'd'],
      ['BITOP', 'AND', 'd', 'a', 'c'],
      ['GET', 'd'],
      ['BITOP', 'AND', 'd', 'a', 'nokey'],
      ['GET', 'd'],
      ['BITOP', 'OR', 'd', 'nokey', 'c'],
      ['GET', 'd'],
      ['BITOP', 'NOT', 'd', 'c'],
      ['GET', 'd'],
      ['BITOP', 'NOT', 'd', 'long'],
      ['GET', 'd'],
      ['BITOP', 'XOR', 'd', 'long', 'a', 'long'],
      ['GET', 'd'],
      ['BITOP', 'AND', 'd', 'long', 'long'],
      ['GET', 'd'],
      ['BITOP', 'NOT', 'd', 'nokey'],
      ['EXISTS', 'd'],
      ['SET', 'd', 'x', 'EX', '1000'],
      ['BITOP', 'OR', 'd', 'e', 'nokey'],
      ['EXISTS', 'd'],
      ['SET', 'd', 'x', 'EX', '1000'],
      ['BITOP', 'OR', 'd', 'a'],
      ['TTL', 'd'],
      ['BITOP', 'OR', 'a', 'a', 'c'],
      ['GET', 'a'],
      ['LPUSH', 'd', 'x'],
      ['BITOP', 'AND', 'd', 'b'],
      ['TYPE', 'd'],
      ['BITOP', 'NOT', 'd', 'a', 'b'],
      ['BITOP', 'NOT', 'd'],
      ['BITOP', 'NAND', 'd', 'a'],
      ['BITOP', 'AND\0', 'd', 'a'],
      ['BITOP', 'DIFF', 'd', 'a', 'b'],
      ['BITOP', 'AND', 'd'],
      ['BITOP'],
    ]));

  test('BITFIELD GET/SET/INCRBY, widths, signedness, # offsets', () =>
    s.same([
      ['BITFIELD', 'k', 'SET', 'u8', '0', '255', 'GET', 'u8', '0', 'GET', 'i8', '0', 'GET', 'u4', '0', 'GET', 'i4', '4'],
      ['GET', 'k'],
      ['BITFIELD', 'k', 'SET', 'i5', '3', '-7', 'GET', 'i5', '3', 'GET', 'u5', '3', 'GET', 'u16', '0'],
      ['GET', 'k'],
      ['BITFIELD', 'k', 'INCRBY', 'u2', '100', '1', 'INCRBY', 'u2', '100', '1', 'INCRBY', 'u2', '100', '1', 'INCRBY', 'u2', '100', '1'],
      ['BITFIELD', 'k', 'SET', 'i64', '0', '-9223372036854775808', 'GET', 'i64', '0', 'GET', 'u63', '0', 'GET', 'u63', '1'],
      ['BITFIELD', 'k', 'SET', 'i64', '5', '9223372036854775807', 'GET', 'i64', '5', 'GET', 'i63', '6', 'GET', 'u1', '5'],
      ['BITFIELD', 'k', 'SET', 'u63', '7', '9223372036854775807', 'GET', 'u63', '7', 'INCRBY', 'u63', '7', '1'],
      ['GET', 'k'],
      ['BITFIELD', 'k', 'SET', 'u8', '#1', '65', 'SET', 'u8', '#2', '66', 'GET', 'u8', '#1', 'GET', 'i16', '#1', 'GET', 'u8', '#0'],
      ['BITFIELD', 'k', 'GET', 'i64', '#67108863'],
      ['BITFIELD', 'k', 'GET', 'i64', '#67108864'],
      ['BITFIELD', 'k', 'GET', 'u8', '#-1'],
      ['BITFIELD', 'k', 'GET', 'u8', '#'],
      ['BITFIELD', 'k', 'GET', 'u8', '##1'],
      ['BITFIELD', 'k', 'GET', 'i64', '#9223372036854775807'],
      ['BITFIELD', 'k', 'GET', 'i64', '#144115188075855872'],
      ['BITFIELD', 'k', 'GET', 'u8', '4294967295'],
      ['BITFIELD', 'k', 'GET', 'u8', '4294967296'],
      ['BITFIELD', 'k', 'GET', 'u8', '-1'],
      ['BITFIELD', 'k', 'GET', 'i64', '1000000000'],
      ['BITFIELD', 'nokey', 'GET', 'u8', '0', 'GET', 'i64', '100'],
      ['EXISTS', 'nokey'],
      ['BITFIELD', 'k'],
      ['BITFIELD_RO', 'k'],
      ['BITFIELD_RO', 'k', 'GET', 'u8', '0', 'GET', 'i16', '#1'],
      ['BITFIELD_RO', 'nokey', 'GET', 'u8', '0'],
      ['BITFIELD_RO', 'k', 'GET', 'u8', '0', 'SET', 'u8', '0', '1'],
      ['BITFIELD_RO', 'k', 'INCRBY', 'u8', '0', '1'],
      ['BITFIELD_RO', 'k', 'OVERFLOW', 'SAT', 'GET', 'u8', '0'],
      ['bitfield', 'k', 'get', 'u8', '0', 'Set', 'u8', '0', '7', 'incrBY', 'u8', '0', '1'],
      ['SET', 'n', '12345'],
      ['BITFIELD', 'n', 'GET', 'u8', '0', 'INCRBY', 'u8', '0', '1'],
      ['GET', 'n'],
    ]));

  test('BITFIELD overflow: WRAP, SAT, FAIL for signed and unsigned, SET and INCRBY', () => {
    const steps: Step[] = [];
    for (const mode of ['WRAP', 'SAT', 'FAIL', 'wrap', 'sat', 'fail']) {
      steps.push(
        ['BITFIELD', 'k', 'OVERFLOW', mode, 'SET', 'u8', '0', '256', 'SET', 'u8', '8', '-1', 'SET', 'i8', '16', '128', 'SET', 'i8', '24', '-129'],
        ['BITFIELD', 'k', 'OVERFLOW', mode, 'INCRBY', 'u2', '100', '1', 'INCRBY', 'u2', '100', '3', 'INCRBY', 'u2', '100', '-5'],
        ['BITFIELD', 'k', 'OVERFLOW', mode, 'INCRBY', 'i4', '40', '7', 'INCRBY', 'i4', '40', '1', 'INCRBY', 'i4', '40', '-100'],
        ['BITFIELD', 'k', 'OVERFLOW', mode, 'SET', 'i64', '64', '9223372036854775807', 'INCRBY', 'i64', '64', '1', 'INCRBY', 'i64', '64', '-9223372036854775808'],
        ['BITFIELD', 'k', 'OVERFLOW', mode, 'INCRBY', 'i64', '64', '-9223372036854775808', 'INCRBY', 'i64', '64', '-1'],
        ['BITFIELD', 'k', 'OVERFLOW', mode, 'SET', 'u63', '200', '-1', 'INCRBY', 'u63', '200', '9223372036854775807', 'INCRBY', 'u63', '200', '-9223372036854775808'],
        ['BITFIELD', 'k', 'OVERFLOW', mode, 'SET', 'i1', '300', '1', 'SET', 'i1', '300', '-1', 'INCRBY', 'i1', '300', '-1', 'SET', 'u1', '301', '2'],
        ['GET', 'k'],
      );
    }
    // Redis compares in wrapping int64 arithmetic: SET i22 with -2^63 under SAT stores the maximum.
    for (const mode of ['WRAP', 'SAT', 'FAIL']) {
      for (const t of ['i22', 'i63', 'i64', 'u22', 'u63', 'i1']) {
        for (const v of ['-9223372036854775808', '9223372036854775807', '-4611686018427387905', '4611686018427387904']) {
          steps.push(['BITFIELD', 'q', 'OVERFLOW', mode, 'SET', t, '52', v, 'GET', t, '52', 'INCRBY', t, '52', v, 'INCRBY', t, '52', v]);
        }
      }
    }
    steps.push(
      ['GET', 'q'],
      ['BITFIELD', 'k', 'INCRBY', 'u8', '0', '300', 'OVERFLOW', 'FAIL', 'INCRBY', 'u8', '0', '300', 'OVERFLOW', 'SAT', 'INCRBY', 'u8', '0', '300', 'OVERFLOW', 'WRAP', 'INCRBY', 'u8', '0', '300'],
      ['BITFIELD', 'f', 'OVERFLOW', 'FAIL', 'INCRBY', 'u2', '0', '10'],
      ['EXISTS', 'f'],
      ['GET', 'f'],
      ['BITFIELD', 'f2', 'OVERFLOW', 'FAIL', 'SET', 'i8', '#3', '1000'],
      ['STRLEN', 'f2'],
    );
    return s.same(steps);
  });

  test('BITFIELD argument errors', () =>
    s.same([
      ['BITFIELD', 'k', 'GET', 'u64', '0'],
      ['BITFIELD', 'k', 'GET', 'i65', '0'],
      ['BITFIELD', 'k', 'GET', 'i0', '0'],
      ['BITFIELD', 'k', 'GET', 'u0', '0'],
      ['BITFIELD', 'k', 'GET', 'U8', '0'],
      ['BITFIELD', 'k', 'GET', 'x8', '0'],
      ['BITFIELD', 'k', 'GET', 'u', '0'],
      ['BITFIELD', 'k', 'GET', '', '0'],
      ['BITFIELD', 'k', 'GET', 'u08', '0'],
      ['BITFIELD', 'k', 'GET', 'u-1', '0'],
      ['BITFIELD', 'k', 'GET', 'u8x', '0'],
      ['BITFIELD', 'k', 'GET', 'u8\0x', '0'],
      ['BITFIELD', 'k', 'GET', 'u8', 'x'],
      ['BITFIELD', 'k', 'GET', 'u8', ''],
      ['BITFIELD', 'k', 'GET', 'u8'],
      ['BITFIELD', 'k', 'SET', 'u8', '0'],
      ['BITFIELD', 'k', 'SET', 'u8', '0', 'x'],
      ['BITFIELD', 'k', 'SET', 'u8', '0', '1.5'],
      ['BITFIELD', 'k', 'SET', 'u8', '0', '9223372036854775808'],
      ['BITFIELD', 'k', 'INCRBY', 'u8', '0'],
      ['BITFIELD', 'k', 'INCRBY', 'u8', '0', ''],
      ['BITFIELD', 'k', 'OVERFLOW'],
      ['BITFIELD', 'k', 'OVERFLOW', 'x'],
      ['BITFIELD', 'k', 'OVERFLOW', 'SAT', 'x'],
      ['BITFIELD', 'k', 'foo'],
      ['BITFIELD', 'k', 'GET', 'u8', '0', 'foo'],
      ['BITFIELD', 'k', 'SET', 'u8', '0', '1', 'GET', 'u99', '0'],
      ['EXISTS', 'k'],
      ['BITFIELD', 'k', 'SET', 'u8', '4294967295', '1', 'GET', 'u8', 'x'],
      ['EXISTS', 'k'],
      ['BITFIELD'],
      ['BITFIELD_RO'],
    ]));

  test('bit commands on values written by string commands and back', () =>
    s.same([
      ['SET', 'k', 'hello'],
      ['SETBIT', 'k', '1', '0'],
      ['APPEND', 'k', ' world'],
      ['SETBIT', 'k', '87', '1'],
      ['GET', 'k'],
      ['SETRANGE', 'k', '20', 'xyz'],
      ['SETBIT', 'k', '170', '1'],
      ['GETRANGE', 'k', '18', '-1'],
      ['STRLEN', 'k'],
      ['INCR', 'k'],
      ['SET', 'num', '10'],
      ['SETBIT', 'num', '15', '1'],
      ['INCR', 'num'],
      ['GET', 'num'],
      ['SETBIT', 'num', '14', '0'],
      ['INCR', 'num'],
      ['INCRBYFLOAT', 'num', '0.5'],
      ['SETBIT', 'num', '30', '1'],
      ['GETDEL', 'num'],
      ['SETBIT', 'num', '3', '1'],
      ['RENAME', 'num', 'moved'],
      ['SETBIT', 'moved', '4', '1'],
      ['GET', 'moved'],
      ['TYPE', 'moved'],
      ['MGET', 'moved', 'k'],
      ['GETSET', 'moved', 'plain'],
      ['BITCOUNT', 'moved'],
      ['BITOP', 'XOR', 'x', 'moved', 'k'],
      ['SETBIT', 'x', '0', '1'],
      ['APPEND', 'x', '!'],
      ['GET', 'x'],
    ]));
});


function generate(seed: number, n: number): Step[] {
  const r = prng(seed);
  const pick = <T>(a: readonly T[]): T => a[Math.floor(r() * a.length)];
  const int = (lo: number, hi: number) => String(lo + Math.floor(r() * (hi - lo + 1)));
  const key = () => pick(['a', 'b', 'c', 'd']);
  const value = () => pick(['', '0', '1', 'abc', '\xff\xff', '\x00\x01', 'foobar', '123', '\x80']);
  const bitOff = () => (r() < 0.9 ? int(0, 80) : pick(['4294967296', '-1', 'x', '1000']));
  const idx = () => (r() < 0.9 ? int(-12, 12) : pick(['-100', '100', 'x']));
  const type = () => (r() < 0.9 ? `${pick(['i', 'u'])}${int(1, 63)}` : pick(['i64', 'u64', 'i0', 'x8']));
  const fieldOff = () => (r() < 0.3 ? `#${int(0, 5)}` : int(0, 70));
  const num = () => pick(['0', '1', '-1', '7', '100', '-128', '255', '9223372036854775807', '-9223372036854775808', String(Math.floor(r() * 1e6) - 5e5)]);
  const fieldOp = (): string[] => {
    const k = r();
    if (k < 0.15) return ['OVERFLOW', pick(['WRAP', 'SAT', 'FAIL'])];
    if (k < 0.45) return ['GET', type(), fieldOff()];
    if (k < 0.7) return ['SET', type(), fieldOff(), num()];
    return ['INCRBY', type(), fieldOff(), num()];
  };
  const fieldOps = (): string[] => Array.from({ length: 1 + Math.floor(r() * 4) }, fieldOp).flat();
  const gens: (() => Step)[] = [
    () => ['SETBIT', key(), bitOff(), pick(['0', '1', '1', '2'])],
    () => ['SETBIT', key(), bitOff(), pick(['0', '1'])],
    () => ['GETBIT', key(), bitOff()],
    () => ['BITCOUNT', key()],
    () => ['BITCOUNT', key(), idx(), idx(), ...(r() < 0.5 ? [pick(['BIT', 'BYTE'])] : [])],
    () => ['BITPOS', key(), pick(['0', '1'])],
    () => ['BITPOS', key(), pick(['0', '1']), idx(), ...(r() < 0.7 ? [idx()] : []), ...(r() < 0.3 ? [pick(['BIT', 'BYTE'])] : [])],
    () => ['BITPOS', key(), pick(['0', '1']), idx(), idx(), 'BIT'],
    () => ['BITOP', pick(['AND', 'OR', 'XOR']), key(), key(), ...(r() < 0.5 ? [key()] : [])],
    () => ['BITOP', 'NOT', key(), key()],
    () => ['BITFIELD', key(), ...fieldOps()],
    () => ['BITFIELD_RO', key(), 'GET', type(), fieldOff()],
    () => ['GET', key()],
    () => ['SET', key(), value()],
    () => ['APPEND', key(), value()],
    () => ['SETRANGE', key(), int(0, 12), value()],
    () => ['GETRANGE', key(), idx(), idx()],
    () => ['STRLEN', key()],
    () => ['INCR', key()],
    () => ['DEL', key()],
    () => ['RENAME', key(), key()],
    () => ['EXPIRE', key(), '100'],
    () => ['TTL', key()],
    () => ['LPUSH', key(), 'x'],
    () => ['SADD', key(), 'x'],
  ];
  return Array.from({ length: n }, () => pick(gens)());
}

describe('randomised bitmap streams', () => {
  const s = useServers();
  const seeds = Number(process.env.COMPAT_SEEDS ?? 6);
  for (let seed = 1; seed <= seeds; seed++) {
    test(`seed ${seed}: 600 commands`, () => s.same(generate(seed, 600)));
  }
});
