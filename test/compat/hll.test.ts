// Differential: HyperLogLog (PFADD, PFCOUNT, PFMERGE, PFDEBUG, PFSELFTEST)
// against a real redis-server, byte for byte. GET after each step shows the
// value itself: header, cached cardinality, sparse opcodes or dense
// registers must equal Redis's, through the sparse → dense promotion.
import { describe, test } from 'vitest';
import { useServers, type Step } from './harness.js';
import { prng } from '../../src/util/prng.js';


const range = (from: number, n: number, prefix = 'e') => Array.from({ length: n }, (_, i) => `${prefix}${from + i}`);

/** A header: magic, encoding, 3 zero bytes, cached cardinality (8 bytes). */
function header(encoding: number, card: number[] = [0, 0, 0, 0, 0, 0, 0, 0]): Buffer {
  return Buffer.from([72, 89, 76, 76, encoding, 0, 0, 0, ...card]);
}
const STALE = [0, 0, 0, 0, 0, 0, 0, 0x80];

/** A dense HLL whose 16384 six-bit registers all hold v. */
function denseAll(v: number): Buffer {
  const regs = Buffer.alloc(12288);
  for (let i = 0; i < 16384; i++) {
    const bit = i * 6;
    const at = bit >> 3;
    const fb = bit & 7;
    regs[at] |= (v << fb) & 0xff;
    if (fb > 2) regs[at + 1] |= v >> (8 - fb);
  }
  return Buffer.concat([header(0, STALE), regs]);
}

describe('HyperLogLog', () => {
  const s = useServers();

  test('PFADD and PFCOUNT: creation, replies, the cached cardinality in GET', () =>
    s.same([
      ['PFADD', 'h'],
      ['GET', 'h'],
      ['PFADD', 'h'],
      ['PFCOUNT', 'h'],
      ['PFADD', 'h', 'a', 'b', 'c'],
      ['GET', 'h'],
      ['PFCOUNT', 'h'],
      ['GET', 'h'],
      ['PFADD', 'h', 'a', 'b'],
      ['GET', 'h'],
      ['PFADD', 'h', 'a', 'd'],
      ['GET', 'h'],
      ['PFCOUNT', 'h'],
      ['PFCOUNT', 'nokey'],
      ['PFADD', 'bin', '', '\x00', '\xff\xfe', 'a'.repeat(7), 'b'.repeat(8), 'c'.repeat(9), 'd'.repeat(1000)],
      ['GET', 'bin'],
      ['PFCOUNT', 'bin'],
      ['STRLEN', 'h'],
      ['TYPE', 'h'],
      ['PFDEBUG', 'ENCODING', 'h'],
      ['PFDEBUG', 'DECODE', 'h'],
      ['EXPIRE', 'h', '100'],
      ['PFADD', 'h', 'zz'],
      ['TTL', 'h'],
      ['PFCOUNT', 'h'],
      ['TTL', 'h'],
      ['PFADD'],
      ['PFCOUNT'],
      ['PFMERGE'],
    ]));

  test('PFADD one batch at a time through the sparse → dense promotion (GET after each)', () => {
    const steps: Step[] = [];
    for (let i = 0; i < 60; i++) {
      steps.push(['PFADD', 'h', ...range(i * 100, 100)], ['GET', 'h'], ['PFDEBUG', 'ENCODING', 'h']);
      if (i % 7 === 0) steps.push(['PFCOUNT', 'h'], ['GET', 'h']);
    }
    steps.push(['PFCOUNT', 'h'], ['PFADD', 'h', ...range(0, 100)], ['PFCOUNT', 'h']);
    return s.same(steps);
  });

  test('one element per PFADD around the promotion point, and with a PFCOUNT between', () => {
    const steps: Step[] = [['PFADD', 'h', ...range(0, 1200, 'x')]];
    for (let i = 1200; i < 2400; i++) {
      steps.push(['PFADD', 'h', `x${i}`]);
      if (i % 3 === 0) steps.push(['PFCOUNT', 'h']);
      if (i % 50 === 0) steps.push(['GET', 'h']);
    }
    steps.push(['GET', 'h'], ['PFDEBUG', 'ENCODING', 'h']);
    return s.same(steps);
  });

  test('large cardinalities: counts and dense bytes', () => {
    const steps: Step[] = [];
    for (let i = 0; i < 20; i++) {
      steps.push(['PFADD', 'big', ...range(i * 5000, 5000, 'big')]);
      steps.push(['PFCOUNT', 'big']);
    }
    steps.push(['GET', 'big']);
    return s.same(steps);
  });

  test('PFCOUNT of several keys (the union), sparse and dense, missing keys', () =>
    s.same([
      ['PFADD', 's1', ...range(0, 50)],
      ['PFADD', 's2', ...range(25, 50)],
      ['PFADD', 'd1', ...range(0, 3000)],
      ['PFADD', 'd2', ...range(2000, 4000)],
      ['PFCOUNT', 's1', 's2'],
      ['PFCOUNT', 's1', 'nokey'],
      ['PFCOUNT', 'nokey', 'nokey2'],
      ['PFCOUNT', 's1', 's1'],
      ['PFCOUNT', 'd1', 'd2'],
      ['PFCOUNT', 's1', 'd1', 's2', 'd2', 'nokey'],
      ['GET', 's1'],
      ['GET', 'd1'],
    ]));

  test('PFMERGE: sparse into sparse, with a dense source, into itself, into an existing key', () =>
    s.same([
      ['PFADD', 's1', ...range(0, 40)],
      ['PFADD', 's2', ...range(30, 40)],
      ['PFADD', 'd1', ...range(0, 3000)],
      ['PFMERGE', 'm1', 's1', 's2'],
      ['GET', 'm1'],
      ['PFDEBUG', 'ENCODING', 'm1'],
      ['PFCOUNT', 'm1'],
      ['PFMERGE', 'm2', 's1', 'd1'],
      ['GET', 'm2'],
      ['PFDEBUG', 'ENCODING', 'm2'],
      ['PFCOUNT', 'm2'],
      ['PFMERGE', 's1', 's2'],
      ['GET', 's1'],
      ['PFMERGE', 's2'],
      ['GET', 's2'],
      ['PFMERGE', 'empty'],
      ['GET', 'empty'],
      ['PFMERGE', 'empty2', 'nokey'],
      ['GET', 'empty2'],
      ['PFMERGE', 's2', 'd1'],
      ['GET', 's2'],
      ['PFCOUNT', 's2'],
      ['PFCOUNT', 's2', 'd1', 'm1'],
      ['SET', 'str', 'x'],
      ['PFMERGE', 'm3', 's1', 'str'],
      ['EXISTS', 'm3'],
      ['PFMERGE', 'str', 's1'],
      ['GET', 'str'],
    ]));

  test('PFMERGE of many small sparse HLLs grows the sparse destination past 3000 bytes', () => {
    const steps: Step[] = [];
    const keys: string[] = [];
    for (let i = 0; i < 30; i++) {
      keys.push(`k${i}`);
      steps.push(['PFADD', `k${i}`, ...range(i * 80, 80)]);
    }
    steps.push(['PFMERGE', 'dst', ...keys.slice(0, 10)], ['GET', 'dst'], ['PFDEBUG', 'ENCODING', 'dst']);
    steps.push(['PFMERGE', 'dst', ...keys], ['GET', 'dst'], ['PFDEBUG', 'ENCODING', 'dst'], ['PFCOUNT', 'dst']);
    steps.push(['PFCOUNT', ...keys]);
    return s.same(steps);
  });

  test('registers above 32 force the dense encoding (a crafted dense source)', () =>
    s.same([
      ['SET', 'd', denseAll(40)],
      ['PFCOUNT', 'd'],
      ['GET', 'd'],
      ['PFADD', 's', 'a', 'b'],
      ['PFMERGE', 's', 'd'],
      ['PFDEBUG', 'ENCODING', 's'],
      ['GET', 's'],
      ['PFCOUNT', 's'],
      ['SET', 'd51', denseAll(51)],
      ['PFCOUNT', 'd51'],
      ['SET', 'd63', denseAll(63)],
      ['PFCOUNT', 'd63'],
      ['GET', 'd63'],
      ['SET', 'd1', denseAll(1)],
      ['PFCOUNT', 'd1'],
      ['PFCOUNT', 'd1', 'd'],
      ['SET', 'd0', denseAll(0)],
      ['PFCOUNT', 'd0'],
      ['PFADD', 'd0', 'x'],
      ['PFDEBUG', 'ENCODING', 'd0'],
      ['GET', 'd0'],
    ]));

  test('WRONGTYPE: other types and strings that are not HyperLogLogs', () =>
    s.same([
      ['LPUSH', 'list', 'a'],
      ['PFADD', 'list', 'x'],
      ['PFCOUNT', 'list'],
      ['PFCOUNT', 'nokey', 'list'],
      ['PFMERGE', 'list', 'nokey'],
      ['PFMERGE', 'd', 'list'],
      ['PFDEBUG', 'ENCODING', 'list'],
      ['SET', 'plain', 'hello'],
      ['PFADD', 'plain', 'x'],
      ['PFCOUNT', 'plain'],
      ['PFCOUNT', 'plain', 'plain'],
      ['SET', 'num', '12345'],
      ['PFADD', 'num', 'x'],
      ['SET', 'short', 'HYLL\x01'],
      ['PFCOUNT', 'short'],
      ['SET', 'badenc', Buffer.concat([header(2), Buffer.from([0x7f, 0xff])])],
      ['PFCOUNT', 'badenc'],
      ['PFADD', 'badenc', 'a'],
      ['SET', 'badmagic', Buffer.concat([Buffer.from('HYLX\x01\0\0\0'), Buffer.alloc(8), Buffer.from([0x7f, 0xff])])],
      ['PFCOUNT', 'badmagic'],
      ['SET', 'shortdense', header(0)],
      ['PFCOUNT', 'shortdense'],
      ['PFADD', 'shortdense', 'x'],
      ['SET', 'longdense', Buffer.concat([denseAll(1), Buffer.from('x')])],
      ['PFCOUNT', 'longdense'],
      ['PFADD', 'h', 'a'],
      ['APPEND', 'h', 'x'],
      ['PFDEBUG', 'DECODE', 'h'],
      ['GET', 'plain'],
      ['GET', 'num'],
    ]));

  test('INVALIDOBJ: corrupted sparse values', () =>
    s.same([
      // Opcodes covering 16383 registers, not 16384.
      ['SET', 'c', Buffer.concat([header(1, STALE), Buffer.from([0x7f, 0xfe])])],
      ['PFCOUNT', 'c'],
      ['PFCOUNT', 'c', 'c'],
      ['PFMERGE', 'dst', 'c'],
      ['EXISTS', 'dst'],
      ['PFDEBUG', 'GETREG', 'c'],
      ['PFDEBUG', 'TODENSE', 'c'],
      ['PFDEBUG', 'DECODE', 'c'],
      ['PFADD', 'c', 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j'],
      ['GET', 'c'],
      ['PFADD', 'c', ...range(0, 200)],
      ['GET', 'c'],
      // A valid cached cardinality is returned without looking at the registers.
      ['SET', 'cached', Buffer.concat([header(1, [7, 0, 0, 0, 0, 0, 0, 0]), Buffer.from([0x7f, 0xfe])])],
      ['PFCOUNT', 'cached'],
      ['PFCOUNT', 'cached', 'cached'],
      // Too many registers; a VAL run past the end; an XZERO cut in half; no opcodes at all.
      ['SET', 'over', Buffer.concat([header(1, STALE), Buffer.from([0x7f, 0xff, 0x80])])],
      ['PFCOUNT', 'over'],
      ['PFADD', 'over', 'a'],
      ['PFDEBUG', 'DECODE', 'over'],
      ['SET', 'valpast', Buffer.concat([header(1, STALE), Buffer.from([0x7f, 0xfd, 0x83])])],
      ['PFCOUNT', 'valpast'],
      ['PFMERGE', 'valpast', 'valpast'],
      ['SET', 'cut', Buffer.concat([header(1, STALE), Buffer.from([0x7f])])],
      ['PFCOUNT', 'cut'],
      ['PFDEBUG', 'DECODE', 'cut'],
      ['SET', 'none', header(1, STALE)],
      ['PFCOUNT', 'none'],
      ['PFADD', 'none', 'a'],
      ['PFDEBUG', 'DECODE', 'none'],
      // Two VALs and ZERO runs: valid, written by hand.
      ['SET', 'hand', Buffer.concat([header(1, STALE), Buffer.from([0x80, 0x84, 0x3f, 0x7f, 0xbd])])],
      ['PFCOUNT', 'hand'],
      ['PFDEBUG', 'DECODE', 'hand'],
      ['PFADD', 'hand', ...range(0, 30)],
      ['GET', 'hand'],
    ]));

  test('PFDEBUG: GETREG, DECODE, ENCODING, TODENSE, errors', () =>
    s.same([
      ['PFADD', 'h', ...range(0, 20)],
      ['PFDEBUG', 'DECODE', 'h'],
      ['PFDEBUG', 'decode', 'h'],
      ['PFDEBUG', 'ENCODING', 'h'],
      ['PFDEBUG', 'GETREG', 'h'],
      ['PFDEBUG', 'ENCODING', 'h'],
      ['GET', 'h'],
      ['PFDEBUG', 'DECODE', 'h'],
      ['PFDEBUG', 'TODENSE', 'h'],
      ['PFADD', 'h2', 'a'],
      ['PFDEBUG', 'TODENSE', 'h2'],
      ['GET', 'h2'],
      ['PFDEBUG', 'ENCODING', 'h2'],
      ['PFDEBUG', 'NOPE', 'h2'],
      ['PFDEBUG', 'NOPE', 'nokey'],
      ['PFDEBUG', 'GETREG', 'nokey'],
      ['PFDEBUG', 'GETREG'],
      ['PFDEBUG', 'GETREG', 'h', 'x'],
      ['SET', 's', 'x'],
      ['PFDEBUG', 'GETREG', 's'],
      ['PFSELFTEST'],
      ['PFSELFTEST', 'x'],
    ]));

  test('inside MULTI, with WATCH, after RENAME and COPY', () =>
    s.same([
      ['PFADD', 'h', 'a'],
      ['MULTI'],
      ['PFADD', 'h', 'b'],
      ['PFCOUNT', 'h'],
      ['PFADD', 'h', 'b'],
      ['EXEC'],
      ['RENAME', 'h', 'h2'],
      ['PFCOUNT', 'h2'],
      ['COPY', 'h2', 'h3'],
      ['PFADD', 'h3', 'c'],
      ['PFCOUNT', 'h2', 'h3'],
      ['GET', 'h2'],
      ['GET', 'h3'],
    ]));

  for (let seed = 1; seed <= Number(process.env.COMPAT_SEEDS ?? 4); seed++) {
    test(`seed ${seed}: random PFADD / PFCOUNT / PFMERGE / GET / SETRANGE streams`, () => {
      const r = prng(seed);
      const pick = <T>(a: readonly T[]): T => a[Math.floor(r() * a.length)];
      const key = () => pick(['a', 'b', 'c', 'd']);
      const elements = () => {
        const n = pick([0, 1, 2, 5, 20, 200, 1000]);
        const base = Math.floor(r() * 20000);
        return range(base, n, pick(['e', 'f', '']));
      };
      const steps: Step[] = [];
      for (let i = 0; i < 300; i++) {
        const x = r();
        if (x < 0.35) steps.push(['PFADD', key(), ...elements()]);
        else if (x < 0.5) steps.push(['PFCOUNT', key()]);
        else if (x < 0.6) steps.push(['PFCOUNT', key(), key(), ...(r() < 0.5 ? [key()] : [])]);
        else if (x < 0.7) steps.push(['PFMERGE', key(), key(), ...(r() < 0.5 ? [key()] : [])]);
        else if (x < 0.85) steps.push(['GET', key()]);
        else if (x < 0.9) steps.push(['PFDEBUG', pick(['ENCODING', 'DECODE', 'TODENSE']), key()]);
        else if (x < 0.93) steps.push(['SETRANGE', key(), String(16 + Math.floor(r() * 4)), pick(['\x00', '\x7f', '\x80', '\x3f\x3f'])]);
        else if (x < 0.96) steps.push(['DEL', key()]);
        else if (x < 0.98) steps.push(['SET', key(), pick(['x', 'HYLL'])]);
        else steps.push(['PFDEBUG', 'GETREG', key()]);
      }
      for (const k of ['a', 'b', 'c', 'd']) steps.push(['GET', k]);
      return s.same(steps);
    });
  }
});
