// Unit tests of the bitmap commands (src/commands/resp/bits.ts) and of the
// store's mutable-bytes strings (src/store/bytes.ts): what the differential
// suite cannot show. Redis-exact replies are checked in test/compat/bits.test.ts.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { respBitCommands } from '../src/commands/resp/bits.js';
import { respStringCommands } from '../src/commands/resp/strings.js';
import type { CommandContext } from '../src/commands/types.js';
import { Bytes, MAX_BYTES_LENGTH } from '../src/store/bytes.js';
import { Keyspace } from '../src/store/keyspace.js';
import { Recorder, type Reply } from './helpers/recorder.js';

const specs = new Map([...respBitCommands, ...respStringCommands].map((c) => [c.name, c]));

function run(store: Keyspace, config: Map<string, string>, ...args: string[]): Reply {
  const spec = specs.get(args[0].toLowerCase())!;
  const w = new Recorder();
  spec.run(args, w, { store, server: { config }, counters: { settings: { notifyKeyspaceEvents: 0 } } } as unknown as CommandContext);
  return w.reply();
}

function fresh(): { store: Keyspace; cmd: (...args: string[]) => Reply; config: Map<string, string> } {
  const store = new Keyspace();
  const config = new Map<string, string>();
  return { store, config, cmd: (...args) => run(store, config, ...args) };
}

const TOO_BIG = { err: 4, msg: 'ERR string exceeds maximum allowed size (proto-max-bulk-len)' };
const BAD_OFFSET = { err: 4, msg: 'ERR bit offset is not an integer or out of range' };

/** Naive models over a byte array: bit i, and the first bit equal to b in [from, to], or -1. */
const bitOf = (a: Uint8Array, i: number) => (i >> 3 < a.length ? (a[i >> 3] >> (7 - (i & 7))) & 1 : 0);
function naiveFind(a: Uint8Array, from: number, to: number, b: number): number {
  for (let i = from; i <= to; i++) if (bitOf(a, i) === b) return i;
  return -1;
}
function naiveCount(a: Uint8Array, from: number, to: number): number {
  let n = 0;
  for (let i = from; i <= to; i++) n += bitOf(a, i);
  return n;
}

describe('strings written by bit commands', () => {
  it('SETBIT changes one Bytes in place; get() gives the string, cached until the next change', () => {
    const { store, cmd } = fresh();
    cmd('SET', 'k', 'ab');
    expect(typeof store.getRaw('k')).toBe('string');
    expect(cmd('SETBIT', 'k', '6', '1')).toBe(0);
    const raw = store.getRaw('k');
    expect(raw).toBeInstanceOf(Bytes);
    expect(cmd('SETBIT', 'k', '100', '1')).toBe(0);
    expect(store.getRaw('k')).toBe(raw); // the same object: no copy of the string per SETBIT
    const s1 = store.get('k');
    expect(s1).toBe('cb' + '\0'.repeat(10) + '\x08');
    expect(store.get('k')).toBe(s1);
    expect(store.getRaw('k')).toBe(raw); // reading does not change the representation
    cmd('SETBIT', 'k', '0', '1');
    expect(store.get('k')).toBe('\xe3b' + '\0'.repeat(10) + '\x08');
    cmd('SET', 'k', 'plain');
    expect(store.getRaw('k')).toBe('plain');
  });

  it('growth keeps earlier bytes and zero-fills, across capacity doublings', () => {
    const { store, cmd } = fresh();
    const model: number[] = [];
    for (let i = 0; i < 3000; i += 7) {
      cmd('SETBIT', 'k', String(i * 9), '1');
      model.push(i * 9);
    }
    const b = store.getRaw('k') as Bytes;
    expect(b.length).toBe(Math.floor(model[model.length - 1] / 8) + 1);
    expect(cmd('BITCOUNT', 'k')).toBe(model.length);
    const a = Buffer.from(store.get('k') as string, 'latin1');
    expect(naiveCount(a, 0, a.length * 8 - 1)).toBe(model.length);
    for (const i of model) expect(bitOf(a, i)).toBe(1);
  });

  it('SETBIT and BITFIELD keep the TTL; BITOP clears the destination TTL', () => {
    const { store, cmd } = fresh();
    cmd('SET', 'k', 'x', 'PX', '100000');
    cmd('SETBIT', 'k', '50', '1');
    expect(store.pttl('k')).toBeGreaterThan(0);
    cmd('BITFIELD', 'k', 'SET', 'u8', '100', '3');
    expect(store.pttl('k')).toBeGreaterThan(0);
    cmd('SET', 'd', 'x', 'PX', '100000');
    cmd('BITOP', 'OR', 'd', 'k');
    expect(store.pttl('d')).toBe(-1);
    expect(store.get('d')).toBe(store.get('k'));
  });

  it('BITOP writes a Bytes; string commands read it as a string', () => {
    const { store, cmd } = fresh();
    cmd('SET', 'a', 'abc');
    expect(cmd('BITOP', 'NOT', 'd', 'a')).toBe(3);
    expect(store.getRaw('d')).toBeInstanceOf(Bytes);
    expect(cmd('GET', 'd')).toBe('\x9e\x9d\x9c');
    // APPEND appends to the bytes in place (Redis's raw string stays raw).
    const before = store.getRaw('d');
    expect(cmd('APPEND', 'd', 'z')).toBe(4);
    expect(store.getRaw('d')).toBe(before);
    expect(cmd('GET', 'd')).toBe('\x9e\x9d\x9cz');
  });
});

describe('size guards', () => {
  it('refuses to grow a string past the longest V8 string, without creating or changing the key', () => {
    const { store, cmd } = fresh();
    // 4294967295 is within Redis's 512 MB, but byte 536870911 is past V8's 536870888-byte limit.
    expect(MAX_BYTES_LENGTH).toBeLessThan(2 ** 29);
    expect(cmd('SETBIT', 'k', '4294967295', '1')).toEqual(TOO_BIG);
    expect(store.has('k')).toBe(false);
    expect(cmd('BITFIELD', 'k', 'SET', 'u8', '4294967288', '1')).toEqual(TOO_BIG);
    expect(store.has('k')).toBe(false);
    cmd('SET', 'k', 'abc');
    expect(cmd('SETBIT', 'k', String(MAX_BYTES_LENGTH * 8), '1')).toEqual(TOO_BIG);
    expect(cmd('GET', 'k')).toBe('abc');
    // Reads that far are fine: they allocate nothing.
    expect(cmd('GETBIT', 'k', '4294967295')).toBe(0);
    expect(cmd('BITFIELD', 'k', 'GET', 'i64', '4294967295')).toEqual([0n]);
  });

  it('offsets stop at proto-max-bulk-len bytes', () => {
    const { cmd, config } = fresh();
    config.set('proto-max-bulk-len', '1000');
    expect(cmd('SETBIT', 'k', '8000', '1')).toEqual(BAD_OFFSET);
    expect(cmd('GETBIT', 'k', '8000')).toEqual(BAD_OFFSET);
    expect(cmd('SETBIT', 'k', '7999', '1')).toBe(0);
    expect(cmd('BITFIELD', 'k', 'GET', 'u8', '#1000')).toEqual(BAD_OFFSET);
    // A field starting before the limit may end past it (Redis allows it too).
    // Its old value: bit 7999 (set above) is the sign bit.
    expect(cmd('BITFIELD', 'k', 'SET', 'i64', '7999', '-1')).toEqual([-(2n ** 63n)]);
    expect(cmd('STRLEN', 'k')).toBe(1008);
  });
});

describe('the string and Bytes forms answer alike', () => {
  // BITCOUNT and BITPOS read a string in 1 MB slices and a Bytes as one view.
  it('across 1 MB slice boundaries', () => {
    const { store, cmd } = fresh();
    const MB = 1 << 20;
    const bytes = Buffer.alloc(2 * MB + 100);
    bytes[MB + 3] = 0x10;
    bytes.fill(0xff, 2 * MB - 2, 2 * MB + 5);
    cmd('SET', 's', bytes.toString('latin1'));
    cmd('SET', 'b', bytes.toString('latin1'));
    cmd('SETBIT', 'b', '0', '0'); // now a Bytes holding the same bytes
    expect(store.getRaw('b')).toBeInstanceOf(Bytes);
    for (const key of ['s', 'b']) {
      expect(cmd('BITCOUNT', key)).toBe(1 + 7 * 8);
      expect(cmd('BITPOS', key, '1')).toBe((MB + 3) * 8 + 3);
      expect(cmd('BITPOS', key, '1', String(MB + 4))).toBe((2 * MB - 2) * 8);
      expect(cmd('BITPOS', key, '0', String(2 * MB - 2), String(2 * MB + 4))).toBe(-1);
      expect(cmd('BITPOS', key, '0', String(2 * MB - 2))).toBe((2 * MB + 5) * 8);
      expect(cmd('BITCOUNT', key, String(MB), String(2 * MB))).toBe(1 + 3 * 8);
    }
  });

  it('BITCOUNT, BITPOS, GETBIT and BITFIELD GET match a bit-by-bit model on random strings and ranges', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 1, maxLength: 40 }),
        fc.array(fc.tuple(fc.integer({ min: -400, max: 400 }), fc.integer({ min: -400, max: 400 }), fc.constantFrom(0, 1)), { maxLength: 8 }),
        (arr, ranges) => {
          const { cmd } = fresh();
          const text = Buffer.from(arr).toString('latin1');
          cmd('SET', 's', text);
          cmd('SET', 'b', text);
          cmd('SETBIT', 'b', '0', String(bitOf(arr, 0)));
          const nbits = arr.length * 8;
          for (const key of ['s', 'b']) {
            expect(cmd('BITCOUNT', key)).toBe(naiveCount(arr, 0, nbits - 1));
            for (const [x, y, bit] of ranges) {
              // Redis's range rule: negatives count from the end, then clamp into the string.
              const f = Math.max(x < 0 ? x + nbits : x, 0);
              const t = Math.min(Math.max(y < 0 ? y + nbits : y, 0), nbits - 1);
              const inBits = !(x < 0 && y < 0 && x > y) && f <= t;
              expect(cmd('BITCOUNT', key, String(x), String(y), 'BIT')).toBe(inBits ? naiveCount(arr, f, t) : 0);
              expect(cmd('BITPOS', key, String(bit), String(x), String(y), 'BIT')).toBe(f <= t ? naiveFind(arr, f, t, bit) : -1);
              const off = Math.abs(x);
              expect(cmd('GETBIT', key, String(off))).toBe(bitOf(arr, off));
              const width = 1 + (Math.abs(y) % 63);
              let v = 0n;
              for (let i = 0; i < width; i++) v = (v << 1n) | BigInt(bitOf(arr, off + i));
              expect(cmd('BITFIELD_RO', key, 'GET', `u${width}`, String(off))).toEqual([v]);
            }
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});
