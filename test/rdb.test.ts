// Persistence in Redis's RDB format (src/persist): CRC-64 and LZF against known
// vectors, the compact encodings, round trips of every type and TTL
// (fast-check), the older encodings redis-server 7.0 still loads, refusals,
// corrupt and truncated files (always an RdbError with an offset, never
// another exception), and the server end to end: SAVE, loading at start-up,
// a bad file stopping the start, DUMP/RESTORE, INFO and CONFIG.
// The differential half (against redis-server) is test/compat/rdb.test.ts.

import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import Redis from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { Crc64, crc64 } from '../src/persist/crc64.js';
import { lzfCompress, lzfDecompress, LzfError } from '../src/persist/lzf.js';
import { ListpackBuilder, canonicalInt, decodeIntset, decodeListpack, encodeIntset, CompactError } from '../src/persist/compact.js';
import { DumpError, LIMITS, RdbError, T, dumpPayload, loadRdb, rdbBytes, rdbTypeOf, restorePayload } from '../src/persist/rdb.js';
import { Bytes, Keyspace, List, ZSet, type Stored, type Value } from '../src/store/keyspace.js';
import { startServer as spawnServer, type TestServer } from './helpers/server.js';

const SERVER = fileURLToPath(new URL('../dist/cli/server.js', import.meta.url));

// ---------------------------------------------------------------- helpers

const MONO_NOW = 1000;
const UNIX_NOW = 1_700_000_000_000;
const OFFSET = UNIX_NOW - MONO_NOW;
const SAVE = { compression: true, checksum: true, redisVersion: '7.0.0', unixNowMs: UNIX_NOW, unixOffsetMs: OFFSET, usedMem: 1234 };
const LOAD = { checksum: true, unixNowMs: UNIX_NOW, unixOffsetMs: OFFSET };

const bin = (s: string): Buffer => Buffer.from(s, 'latin1');

/** A value in a comparable form (collections ordered where order is not part of the value). */
function norm(v: Stored): unknown {
  if (typeof v === 'string') return ['string', v];
  if (v instanceof Bytes) return ['string', v.toString()];
  if (v instanceof List) return ['list', v.toArray()];
  if (v instanceof Set) return ['set', [...v].sort()];
  if (v instanceof Map) return ['hash', [...v].sort((a, b) => (a[0] < b[0] ? -1 : 1))];
  return ['zset', [...v].map((e) => [e.name, e.score])];
}

/** The keyspace as [key, value, ms left or null], sorted by key. */
function snapshot(ks: Keyspace): unknown[] {
  return [...ks.keys()].sort().map((k) => {
    const d = ks.deadline(k);
    return [k, norm(ks.getRaw(k)!), d === undefined ? null : d - ks.now()];
  });
}

const fresh = (): Keyspace => new Keyspace(() => MONO_NOW);

/** Any bytes as a binary string; integers, edge cases and long repetitive runs are drawn often. */
const bytesArb = fc.array(fc.integer({ min: 0, max: 255 }), { maxLength: 40 }).map((a) => String.fromCharCode(...a));
const strArb = fc.oneof(
  bytesArb,
  fc.integer().map(String),
  fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map(String),
  fc.constantFrom('', '0', '-0', '007', '+1', '127', '128', '-4096', '4095', '32768', '8388608', '2147483648', '-2147483649', '9223372036854775808'),
  fc.tuple(bytesArb, fc.integer({ min: 2, max: 40 })).map(([s, n]) => s.repeat(n)),
);
const scoreArb = fc.oneof(
  fc.integer({ min: -1000, max: 1000 }),
  fc.double({ noNaN: true }),
  fc.constantFrom(Infinity, -Infinity, 0.1, 1 / 3, -0, 1e17, 2 ** 53, 2 ** 63),
);
const valueArb: fc.Arbitrary<Value | Bytes> = fc.oneof(
  strArb,
  strArb.map((s) => Bytes.fromString(s)),
  fc.array(strArb, { minLength: 1, maxLength: 300 }).map((items) => {
    const l = new List();
    for (const s of items) l.pushBack(s);
    return l;
  }),
  fc.uniqueArray(strArb, { minLength: 1, maxLength: 40 }).map((items) => new Set(items)),
  fc.uniqueArray(fc.integer({ min: -(2 ** 40), max: 2 ** 40 }).map(String), { minLength: 1, maxLength: 40 }).map((items) => new Set(items)),
  fc.uniqueArray(fc.tuple(strArb, strArb), { minLength: 1, maxLength: 40, selector: (t) => t[0] }).map((pairs) => new Map(pairs)),
  fc.uniqueArray(fc.tuple(strArb, scoreArb), { minLength: 1, maxLength: 40, selector: (t) => t[0] }).map((pairs) => {
    const z = new ZSet();
    for (const [n, s] of pairs) z.add(n, s);
    return z;
  }),
);
const ttlArb = fc.option(fc.integer({ min: 1, max: 10 ** 10 }), { nil: undefined });

/** A hand-built RDB file: header, body, EOF, CRC-64. */
function rdbFile(body: number[] | Buffer, version = 10, checksum = true): Buffer {
  const head = Buffer.concat([bin(`REDIS${String(version).padStart(4, '0')}`), Buffer.from(body), Buffer.from([0xff])]);
  const crc = Buffer.alloc(8);
  if (checksum) new Crc64().update(head).writeLE(crc, 0);
  return Buffer.concat([head, crc]);
}

/** A raw (length-prefixed) RDB string, for short strings. */
const rstr = (s: string): number[] => [s.length, ...bin(s)];

/** A ziplist of the given entries (strings, or numbers stored in the given integer encoding), as Redis ≤ 6.2 wrote them. */
function ziplist(items: (string | number)[]): Buffer {
  const entries: Buffer[] = [];
  let prev = 0;
  for (const it of items) {
    const prevlen = prev < 254 ? Buffer.from([prev]) : Buffer.concat([Buffer.from([254]), Buffer.alloc(4)]);
    if (prev >= 254) prevlen.writeUInt32LE(prev, 1);
    let body: Buffer;
    if (typeof it === 'number') {
      if (it >= 0 && it <= 12) body = Buffer.from([0xf1 + it]);
      else if (it >= -128 && it <= 127) body = Buffer.from([0xfe, it & 0xff]);
      else {
        body = Buffer.alloc(3);
        body[0] = 0xc0;
        body.writeInt16LE(it, 1);
      }
    } else if (it.length < 64) body = Buffer.concat([Buffer.from([it.length]), bin(it)]);
    else body = Buffer.concat([Buffer.from([0x40 | (it.length >> 8), it.length & 0xff]), bin(it)]);
    const e = Buffer.concat([prevlen, body]);
    entries.push(e);
    prev = e.length;
  }
  const all = Buffer.concat(entries);
  const out = Buffer.alloc(10 + all.length + 1);
  out.writeUInt32LE(out.length, 0);
  out.writeUInt32LE(10 + all.length - (entries.at(-1)?.length ?? 0), 4);
  out.writeUInt16LE(items.length, 8);
  all.copy(out, 10);
  out[out.length - 1] = 0xff;
  return out;
}

/** An RDB length-prefixed blob (14-bit length). */
const blob = (b: Buffer): number[] => [0x40 | (b.length >> 8), b.length & 0xff, ...b];

/** loadRdb that must fail: returns the RdbError. */
function loadError(data: Uint8Array, checksum = true): RdbError {
  try {
    loadRdb(data, fresh(), { ...LOAD, checksum });
  } catch (e) {
    if (e instanceof RdbError) return e;
    throw new Error(`expected an RdbError, got ${(e as Error).stack}`);
  }
  throw new Error('expected the load to fail');
}

// ---------------------------------------------------------------- CRC-64, LZF

describe('CRC-64 (Jones, as Redis)', () => {
  test('known vectors', () => {
    expect(crc64(bin('123456789'))).toBe(0xe9c6d914c4b8d9can);
    expect(crc64(new Uint8Array(0))).toBe(0n);
    // The footer of a DUMP redis-server 7.0.15 made of the string "hello": CRC-64 of the bytes before it.
    const dump = Buffer.from('000568656c6c6f0a006372df766534200a', 'hex');
    expect(new Crc64().update(dump, 0, dump.length - 8).equalsLE(dump, dump.length - 8)).toBe(true);
  });

  test('incremental updates equal one pass', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.nat(300), (data, cut) => {
        const k = Math.min(cut, data.length);
        expect(new Crc64().update(data, 0, k).update(data, k).value()).toBe(crc64(data));
      }),
    );
  });
});

describe('LZF', () => {
  // DUMP payloads redis-server 7.0.15 produced for these strings (rdbcompression yes).
  const vectors: [string, string][] = [
    ['x'.repeat(100), '00c3094064017878e057000178780a005db7f663bb08625f'],
    ['abc'.repeat(10), '00c30b1e0361626361e00f020162630a008874be6d67e59d2a'],
    [
      'The quick brown fox jumps over the lazy dog. The quick brown fox jumps over the lazy dog.',
      '00c33740591f54686520717569636b2062726f776e20666f78206a756d7073206f7665722074201e0a6c617a7920646f672e2054200de01d2c01672e0a007a86b0ece8f2e2f4',
    ],
  ];

  test.each(vectors)('compresses as redis-server does: %#', (s, hex) => {
    expect(Buffer.from(dumpPayload(s, { compression: true })).toString('hex')).toBe(hex);
    expect(restorePayload(Buffer.from(hex, 'hex'))).toBe(s);
  });

  test('round trips any bytes, or declines when it would not save 4 bytes', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.uint8Array({ maxLength: 2000 }), fc.tuple(fc.uint8Array({ minLength: 1, maxLength: 20 }), fc.nat(400)).map(([b, n]) => Buffer.concat(Array(n).fill(b)))),
        (data) => {
          const packed = lzfCompress(data, data.length - 4);
          if (packed === null) return;
          expect(packed.length).toBeLessThanOrEqual(data.length - 4);
          expect(Buffer.from(lzfDecompress(packed, data.length))).toEqual(Buffer.from(data));
        },
      ),
    );
  });

  test('malformed input is an LzfError at an offset, never an exception of another kind', () => {
    expect(() => lzfDecompress(Uint8Array.from([0x20, 0x00]), 3)).toThrow(LzfError); // reference before the start
    expect(() => lzfDecompress(Uint8Array.from([0x05, 0x61]), 6)).toThrow(/past the compressed data/);
    expect(() => lzfDecompress(Uint8Array.from([0x00, 0x61]), 2)).toThrow(/expands to 1 bytes, 2 declared/);
    expect(() => lzfDecompress(Uint8Array.from([0xe0]), 10)).toThrow(/cut short/);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), fc.nat(300), (data, n) => {
        try {
          lzfDecompress(data, n);
        } catch (e) {
          expect(e).toBeInstanceOf(LzfError);
        }
      }),
    );
  });
});

// ---------------------------------------------------------------- compact encodings

describe('listpack, intset', () => {
  test('integers take the narrowest listpack encoding; non-canonical numbers stay strings', () => {
    const items = ['0', '127', '128', '-1', '-4096', '4095', '4096', '-32768', '32767', '8388607', '-8388608', '2147483647',
      '-2147483648', '2147483648', '9223372036854775807', '-9223372036854775808', '9223372036854775808', '-0', '007', '+1', '', 'x'.repeat(5000)];
    const lp = new ListpackBuilder();
    for (const s of items) lp.add(s);
    const b = lp.build();
    expect(b.length).toBe(lp.bytes);
    expect(decodeListpack(b)).toEqual(items);
    expect(b[6]).toBe(0); // "0": 7-bit uint
    expect(b[8]).toBe(127);
    expect(b[10] & 0xe0).toBe(0xc0); // "128": 13-bit int
    expect(canonicalInt('9223372036854775808')).toBeNull();
    expect(canonicalInt('-9223372036854775808')).toBe(-(2n ** 63n));
  });

  test('listpack round trip', () => {
    fc.assert(
      fc.property(fc.array(strArb, { maxLength: 50 }), (items) => {
        const lp = new ListpackBuilder();
        for (const s of items) lp.add(s);
        const decoded = decodeListpack(lp.build());
        expect(decoded.length).toBe(items.length);
        // An integer in canonical form reads back as itself; everything else byte for byte.
        expect(decoded).toEqual(items);
      }),
    );
  });

  test('intset: narrowest width, sorted, validated', () => {
    const b = encodeIntset(['5', '-3', '70000']);
    expect(Buffer.from(b).readUInt32LE(0)).toBe(4);
    expect(decodeIntset(b)).toEqual(['-3', '5', '70000']);
    expect(Buffer.from(encodeIntset(['1', String(2 ** 40)])).readUInt32LE(0)).toBe(8);
    const unsorted = Buffer.from(b);
    unsorted.writeInt32LE(100, 8);
    expect(() => decodeIntset(unsorted)).toThrow(CompactError);
  });

  test('a corrupt listpack is a CompactError with an offset', () => {
    const lp = new ListpackBuilder();
    for (const s of ['a', 'bb', '300', 'x'.repeat(70)]) lp.add(s);
    const good = lp.build();
    for (let i = 0; i < good.length; i++) {
      for (let bit = 0; bit < 8; bit++) {
        const bad = Buffer.from(good);
        bad[i] ^= 1 << bit;
        try {
          decodeListpack(bad);
        } catch (e) {
          expect(e).toBeInstanceOf(CompactError);
          expect((e as CompactError).at).toBeLessThanOrEqual(good.length);
        }
      }
    }
  });
});

// ---------------------------------------------------------------- round trips

describe('RDB round trips', () => {
  test('every type, with and without TTLs, compression on and off', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.tuple(strArb, valueArb, ttlArb), { maxLength: 12, selector: (t) => t[0] }),
        fc.boolean(),
        (entries, compression) => {
          const ks = fresh();
          for (const [k, v, ttl] of entries) {
            ks.put(k, v);
            if (ttl !== undefined) ks.setDeadline(k, MONO_NOW + ttl);
          }
          const file = rdbBytes(ks, { ...SAVE, compression });
          const back = new Keyspace(() => 777_000);
          const r = loadRdb(file, back, { ...LOAD, unixOffsetMs: UNIX_NOW - 777_000 });
          expect(r.keys).toBe(entries.length);
          expect(r.checksumVerified).toBe(true);
          expect(snapshot(back)).toEqual(snapshot(ks));
        },
      ),
      { numRuns: 150 },
    );
  });

  test('DUMP payloads round trip every type', () => {
    fc.assert(
      fc.property(valueArb, fc.boolean(), (v, compression) => {
        const p = dumpPayload(v, { compression });
        expect(p[p.length - 10]).toBe(10); // RDB version, little-endian
        expect(norm(restorePayload(p))).toEqual(norm(v));
      }),
      { numRuns: 300 },
    );
  });

  test('encodings follow Redis 7.0 thresholds', () => {
    const set = (n: number, f = (i: number) => String(i)): Set<string> => new Set(Array.from({ length: n }, (_, i) => f(i)));
    expect(rdbTypeOf(set(LIMITS.setIntsetEntries))).toBe(T.SET_INTSET);
    expect(rdbTypeOf(set(LIMITS.setIntsetEntries + 1))).toBe(T.SET);
    expect(rdbTypeOf(set(3, (i) => (i === 2 ? 'x' : String(i))))).toBe(T.SET);
    const hash = (n: number, len = 1): Map<string, string> => new Map(Array.from({ length: n }, (_, i) => [`f${i}`, 'v'.repeat(len)]));
    expect(rdbTypeOf(hash(512, 64))).toBe(T.HASH_LISTPACK);
    expect(rdbTypeOf(hash(513))).toBe(T.HASH);
    expect(rdbTypeOf(hash(1, 65))).toBe(T.HASH);
    const zset = (n: number, len = 1): ZSet => {
      const z = new ZSet();
      for (let i = 0; i < n; i++) z.add(`${'m'.repeat(len)}${i}`, i);
      return z;
    };
    expect(rdbTypeOf(zset(128))).toBe(T.ZSET_LISTPACK);
    expect(rdbTypeOf(zset(129))).toBe(T.ZSET_2);
    expect(rdbTypeOf(zset(1, 65))).toBe(T.ZSET_2);
    expect(rdbTypeOf(new List())).toBe(T.LIST_QUICKLIST_2);
    expect(rdbTypeOf(Bytes.fromString('ab'))).toBe(T.STRING);
  });

  test('big values of every type', () => {
    const ks = fresh();
    const l = new List();
    for (let i = 0; i < 20_000; i++) l.pushBack(i % 3 === 0 ? String(i) : `element:${i}:${'p'.repeat(i % 90)}`);
    ks.put('list', l);
    ks.put('set', new Set(Array.from({ length: 2000 }, (_, i) => `member${i}`)));
    ks.put('intset-big', new Set(Array.from({ length: 2000 }, (_, i) => String(i * 7))));
    ks.put('hash', new Map(Array.from({ length: 1000 }, (_, i) => [`field${i}`, 'v'.repeat(i % 200)])));
    const z = new ZSet();
    for (let i = 0; i < 1000; i++) z.add(`m${i}`, (i * 7919) % 1000 / 3);
    ks.put('zset', z);
    ks.put('string', 'abc'.repeat(100_000));
    ks.put('bits', Bytes.zeros(50_000));
    ks.setDeadline('zset', MONO_NOW + 123_456);
    for (const compression of [true, false]) {
      const back = fresh();
      loadRdb(rdbBytes(ks, { ...SAVE, compression }), back, LOAD);
      expect(snapshot(back)).toEqual(snapshot(ks));
    }
  });

  test('keys whose expiry has passed are not loaded; an empty keyspace is a valid file', () => {
    const ks = fresh();
    ks.put('live', 'v');
    ks.put('dead', 'v');
    ks.setDeadline('dead', MONO_NOW + 10);
    const file = rdbBytes(ks, SAVE);
    const back = fresh();
    const r = loadRdb(file, back, { ...LOAD, unixNowMs: UNIX_NOW + 11 });
    expect([...back.keys()]).toEqual(['live']);
    expect(r.expiredSkipped).toBe(1);
    const empty = rdbBytes(fresh(), SAVE);
    expect(loadRdb(empty, fresh(), LOAD).keys).toBe(0);
    expect(bin('REDIS0010').equals(Buffer.from(empty.subarray(0, 9)))).toBe(true);
  });

  test('several databases: each non-empty one after SELECTDB and RESIZEDB, loaded back into the same index', () => {
    const dbs = Array.from({ length: 16 }, (_, i) => new Keyspace(() => MONO_NOW, i));
    dbs[0].put('k', 'zero');
    dbs[3].put('k', 'three');
    const l = new List();
    l.pushBack('a');
    l.pushBack('b');
    dbs[3].put('l', l);
    dbs[3].setDeadline('l', MONO_NOW + 5000);
    dbs[15].put('s', new Set(['x']));
    const file = Buffer.from(rdbBytes(dbs, SAVE));
    // SELECTDB 3 then RESIZEDB 2 1: the sizes of database 3 (two keys, one with a TTL).
    expect(file.includes(Buffer.from([0xfe, 0x03, 0xfb, 0x02, 0x01]))).toBe(true);
    expect(file.includes(Buffer.from([0xfe, 0x0f, 0xfb, 0x01, 0x00]))).toBe(true);
    expect(file.includes(Buffer.from([0xfe, 0x01]))).toBe(false); // an empty database is not written
    const back = Array.from({ length: 16 }, (_, i) => new Keyspace(() => MONO_NOW, i));
    expect(loadRdb(file, back, LOAD).keys).toBe(4);
    expect(back.map((db) => db.size)).toEqual(dbs.map((db) => db.size));
    for (const i of [0, 3, 15]) expect(snapshot(back[i])).toEqual(snapshot(dbs[i]));
    expect(back[3].deadline('l')).toBe(MONO_NOW + 5000);
    // Into fewer databases: refused, and nothing is loaded.
    const few = Array.from({ length: 4 }, (_, i) => new Keyspace(() => MONO_NOW, i));
    expect(() => loadRdb(file, few, LOAD)).toThrow(/the file holds database 15, but this server has 4 databases \(0 to 3\)/);
    expect(few.every((db) => db.size === 0)).toBe(true);
  });

  test('rdbchecksum no: the trailer is zeros, and a zero trailer is not checked', () => {
    const ks = fresh();
    ks.put('k', 'v');
    const file = rdbBytes(ks, { ...SAVE, checksum: false });
    expect([...file.subarray(file.length - 8)]).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
    const r = loadRdb(file, fresh(), LOAD);
    expect(r.keys).toBe(1);
    expect(r.checksumVerified).toBe(false);
  });
});

// ---------------------------------------------------------------- what older Redis wrote

describe('older encodings redis-server 7.0 still loads', () => {
  test('ziplists, quicklist v1, plain LIST and ZSET, EXPIRETIME in seconds, IDLE/FREQ, aux and RESIZEDB', () => {
    const body = [
      0xfa, ...rstr('redis-ver'), ...rstr('6.2.6'),
      0xfe, 0x00, 0xfb, 0x08, 0x01,
      T.HASH_ZIPLIST, ...rstr('h'), ...blob(ziplist(['f1', 'v1', 'f2', 300, 'f3', 7])),
      T.ZSET_ZIPLIST, ...rstr('z'), ...blob(ziplist(['a', 1, 'b', '2.5', 'c', '-inf'])),
      T.LIST_ZIPLIST, ...rstr('lz'), ...blob(ziplist(['x', -5, 'y'])),
      T.LIST_QUICKLIST, ...rstr('lq'), 0x02, ...blob(ziplist(['n1', 'n2'])), ...blob(ziplist([12, 'x'.repeat(100)])),
      T.LIST, ...rstr('l'), 0x02, ...rstr('p'), 0xc0, 0x7b,
      T.ZSET, ...rstr('zo'), 0x02, ...rstr('m'), 3, ...bin('1.5'), ...rstr('n'), 254,
      0xf8, 0x05, T.SET, ...rstr('s'), 0x02, ...rstr('q'), ...rstr('r'),
      0xf9, 0x07, 0xfd, 0xff, 0xff, 0xff, 0x7f, T.STRING, ...rstr('ttl'), ...rstr('v'),
    ];
    // EXPIRETIME 0x7fffffff s (2038) is far enough ahead of UNIX_NOW.
    const file = rdbFile(body, 9);
    const ks = fresh();
    const r = loadRdb(file, ks, LOAD);
    expect(r.aux.get('redis-ver')).toBe('6.2.6');
    expect(r.keys).toBe(8);
    const get = (k: string) => norm(ks.getRaw(k)!);
    expect(get('h')).toEqual(['hash', [['f1', 'v1'], ['f2', '300'], ['f3', '7']]]);
    expect(get('z')).toEqual(['zset', [['c', -Infinity], ['a', 1], ['b', 2.5]]]);
    expect(get('lz')).toEqual(['list', ['x', '-5', 'y']]);
    expect(get('lq')).toEqual(['list', ['n1', 'n2', '12', 'x'.repeat(100)]]);
    expect(get('l')).toEqual(['list', ['p', '123']]);
    expect(get('zo')).toEqual(['zset', [['m', 1.5], ['n', Infinity]]]);
    expect(get('s')).toEqual(['set', ['q', 'r']]);
    expect(ks.deadline('ttl')! - MONO_NOW).toBe(0x7fffffff * 1000 - UNIX_NOW);
  });
});

// ---------------------------------------------------------------- refusals and corruption

describe('refusals', () => {
  test.each([
    ['a database the server does not have', [0xfe, 0x01], /the file holds database 1, but this server has 1 database \(0 to 0\): start it with --databases 2 or more/, 9],
    ['module aux data', [0xf7, 0x00], /module data/, 9],
    ['a function library of a 7.0 release candidate (FUNCTION_PRE_GA)', [0xf6, 0x00], /function library saved by a Redis 7.0 release candidate/, 9],
    ['a stream', [15, ...rstr('st'), 0x00], /a stream \(type 15\)/, 9],
    ['a module value', [7, ...rstr('m'), 0x00], /module value/, 9],
    ['an unknown type', [42, ...rstr('k')], /unknown opcode or value type 42/, 9],
  ])('%s', (_what, body, message, offset) => {
    const e = loadError(rdbFile(body as number[]));
    expect(e.reason).toMatch(message as RegExp);
    expect(e.offset).toBe(offset);
  });

  test('function libraries (FUNCTION2) are returned for the server to load, keys alongside', () => {
    const ks = fresh();
    const r = loadRdb(rdbFile([0xf5, ...rstr('#!lua name=a\nx'), T.STRING, ...rstr('k'), ...rstr('v'), 0xf5, ...rstr('#!lua name=b\ny')]), ks, LOAD);
    expect(r.functions).toEqual(['#!lua name=a\nx', '#!lua name=b\ny']);
    expect(ks.size).toBe(1);
  });

  test('versions and magic', () => {
    expect(loadError(rdbFile([], 11)).message).toMatch(/version 11 is not supported/);
    expect(loadError(bin('REDIX0010')).message).toMatch(/not an RDB file/);
    expect(loadError(bin('REDIS')).message).toMatch(/truncated/);
  });

  test('duplicate keys: an error, and the keyspace is left empty', () => {
    const ks = fresh();
    expect(() => loadRdb(rdbFile([T.STRING, ...rstr('k'), ...rstr('a'), T.STRING, ...rstr('k'), ...rstr('b')]), ks, LOAD)).toThrow(/duplicate key "k" \(at byte offset 14\)/);
    expect(ks.size).toBe(0);
  });

  test('RESTORE payloads: footer and data errors worded as Redis', () => {
    const good = Buffer.from(dumpPayload('hello', { compression: false }));
    expect(restorePayload(good)).toBe('hello');
    const flipped = Buffer.from(good);
    flipped[2] ^= 1;
    expect(() => restorePayload(flipped)).toThrow('DUMP payload version or checksum are wrong');
    expect(() => restorePayload(good.subarray(0, 9))).toThrow('DUMP payload version or checksum are wrong');
    const withFooter = (body: number[], version = 10): Buffer => {
      const b = Buffer.from([...body, version, 0]);
      const crc = Buffer.alloc(8);
      new Crc64().update(b).writeLE(crc, 0);
      return Buffer.concat([b, crc]);
    };
    expect(() => restorePayload(withFooter([0, 5, ...bin('hello')], 11))).toThrow('DUMP payload version or checksum are wrong');
    expect(restorePayload(withFooter([0, 5, ...bin('hello')], 9))).toBe('hello');
    expect(() => restorePayload(withFooter([8, 1, 0x61]))).toThrow(new DumpError('Bad data format'));
    expect(() => restorePayload(withFooter([T.SET, 0]))).toThrow('Bad data format'); // empty
    expect(() => restorePayload(withFooter([T.STRING, 9, 0x61]))).toThrow('Bad data format'); // runs into the footer
    expect(() => restorePayload(withFooter([T.STREAM_LISTPACKS, 0]))).toThrow('Bad data format');
  });
});

describe('corrupt and truncated files', () => {
  // A small file with every type and encoding, TTLs included.
  const ks = fresh();
  ks.put('s', 'hello');
  ks.put('n', '12345');
  ks.put('long', 'abcd'.repeat(30));
  const l = new List();
  for (let i = 0; i < 30; i++) l.pushBack(i % 2 ? String(i) : `e${i}`);
  ks.put('list', l);
  ks.put('intset', new Set(['1', '2', '-70000']));
  ks.put('set', new Set(['a', 'b', 'c']));
  ks.put('hash', new Map([['f', 'v'], ['g', '7']]));
  ks.put('bighash', new Map([['f', 'v'.repeat(80)]]));
  const z = new ZSet();
  z.add('a', 1.5);
  z.add('b', -2);
  ks.put('zset', z);
  const zb = new ZSet();
  zb.add('x'.repeat(70), 3);
  ks.put('bigzset', zb);
  ks.setDeadline('s', MONO_NOW + 5000);
  const file = rdbBytes(ks, SAVE);

  test('the sample loads', () => {
    expect(loadRdb(file, fresh(), LOAD).keys).toBe(10);
  });

  test('truncation at every byte is an RdbError whose offset is within the file', () => {
    for (let n = 0; n < file.length; n++) {
      const e = loadError(file.subarray(0, n));
      expect(e.offset).toBeGreaterThanOrEqual(0);
      expect(e.offset).toBeLessThanOrEqual(n);
      expect(e.message).toMatch(/at byte offset \d+/);
    }
  });

  test('every single-bit flip is caught (the CRC-64 at the latest)', () => {
    for (let i = 0; i < file.length; i++) {
      for (let bit = 0; bit < 8; bit++) {
        const bad = Buffer.from(file);
        bad[i] ^= 1 << bit;
        const e = loadError(bad);
        expect(e.offset).toBeLessThanOrEqual(file.length);
      }
    }
  });

  test('without the checksum, flips either load or fail as an RdbError, never otherwise', () => {
    const unchecked = rdbBytes(ks, { ...SAVE, checksum: false });
    for (let i = 9; i < unchecked.length - 8; i++) {
      for (let bit = 0; bit < 8; bit++) {
        const bad = Buffer.from(unchecked);
        bad[i] ^= 1 << bit;
        try {
          loadRdb(bad, fresh(), LOAD);
        } catch (e) {
          expect(e).toBeInstanceOf(RdbError);
        }
      }
    }
  });

  test('random bytes after a valid header never escape as another exception', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (tail) => {
        try {
          loadRdb(Buffer.concat([bin('REDIS0010'), tail]), fresh(), { ...LOAD, checksum: false });
        } catch (e) {
          expect(e).toBeInstanceOf(RdbError);
        }
      }),
      { numRuns: 2000 },
    );
  });
});

// ---------------------------------------------------------------- the server

/** Runs the server expecting it not to start; resolves with its exit code and stderr. */
function failToStart(args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [SERVER, '--port', '0', '--resp-port', '0', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    proc.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    proc.stdout.setEncoding('utf8').on('data', (d: string) => {
      if (d.includes('redloop ready')) {
        proc.kill('SIGKILL');
        reject(new Error('the server started'));
      }
    });
    proc.on('exit', (code) => resolve({ code, stderr }));
  });
}

describe('server: SAVE, load at start-up, DUMP/RESTORE', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'redloop-rdb-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  // Whatever a test started is stopped after it, passed or failed.
  const servers: TestServer[] = [];
  const clients: Redis[] = [];
  afterEach(async () => {
    for (const c of clients.splice(0)) c.disconnect();
    for (const s of servers.splice(0)) await s.stop();
  });
  const startServer = async (args: string[]): Promise<TestServer> => {
    const s = await spawnServer(args);
    servers.push(s);
    return s;
  };
  const connect = async (port: number): Promise<Redis> => {
    const r = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0 });
    clients.push(r);
    await r.connect();
    return r;
  };
  const info = async (r: Redis): Promise<Record<string, string>> =>
    Object.fromEntries(
      (await r.info('persistence'))
        .split('\r\n')
        .filter((l) => l.includes(':'))
        .map((l) => l.split(':') as [string, string]),
    );

  test('a stream survives SAVE and a restart (entries, deletions, groups, PELs, consumers); DUMP/RESTORE round-trips it', async () => {
    const d = mkdtempSync(join(dir, 'stream-'));
    let srv = await startServer(['--dir', d, '--quiet']);
    let r = await connect(srv.respPort);
    // 250 entries over three nodes, some with the master entry's fields and some not.
    for (let i = 1; i <= 250; i++) await r.xadd('s', `${i}-1`, 'f', String(i), ...(i % 3 === 0 ? ['g', 'x'] : []));
    await r.xdel('s', '5-1', '120-1');
    await r.xgroup('CREATE', 's', 'g1', '0');
    await r.xreadgroup('GROUP', 'g1', 'alice', 'COUNT', 3, 'STREAMS', 's', '>');
    await r.xreadgroup('GROUP', 'g1', 'bob', 'COUNT', 2, 'STREAMS', 's', '>');
    await r.xack('s', 'g1', '2-1');
    await r.xgroup('CREATE', 's', 'g0', '$');
    await r.xgroup('CREATECONSUMER', 's', 'g0', 'idle');
    await r.xadd('empty', '1-1', 'a', 'b');
    await r.xdel('empty', '1-1');
    const view = async (key: string): Promise<unknown> => [
      await r.xrange(key, '-', '+'),
      await r.call('XINFO', 'STREAM', key, 'FULL'),
    ];
    const before = await view('s');
    const beforeEmpty = await view('empty');
    const dump = await r.dumpBuffer('s');
    await r.restore('copy', 0, dump);
    expect(await view('copy')).toEqual(before);
    expect(await r.save()).toBe('OK');
    r.disconnect();
    await srv.stop();

    srv = await startServer(['--dir', d, '--quiet']);
    r = await connect(srv.respPort);
    expect(await view('s')).toEqual(before);
    expect(await view('empty')).toEqual(beforeEmpty);
    // The PEL still works: bob's entries can be acknowledged, new reads continue after the group's last ID.
    expect(await r.xack('s', 'g1', '4-1', '6-1')).toBe(2);
    expect(await r.xreadgroup('GROUP', 'g1', 'carol', 'COUNT', 1, 'STREAMS', 's', '>')).toEqual([['s', [['7-1', ['f', '7']]]]]);
    r.disconnect();
    await srv.stop();
  });

  test('SAVE writes dump.rdb atomically; a restart loads it; INFO counts changes', async () => {
    const d = mkdtempSync(join(dir, 'save-'));
    let srv = await startServer(['--dir', d, '--quiet']);
    let r = await connect(srv.respPort);
    expect((await info(r)).rdb_changes_since_last_save).toBe('0');
    await r.set('s', 'hello');
    await r.set('bin', Buffer.from([0, 255, 13, 10]));
    await r.rpush('l', 'a', 'b', 'c');
    await r.sadd('set', '1', '2', 'x');
    await r.hset('h', 'f', 'v');
    await r.zadd('z', '1.5', 'a', '-inf', 'b');
    await r.set('ttl', 'v', 'PX', 500_000);
    await r.setbit('bits', 7, 1);
    await r.get('s'); // reads are not changes
    await expect(r.lpush('s', 'x')).rejects.toThrow('WRONGTYPE');
    const before = await info(r);
    expect(before.rdb_changes_since_last_save).toBe('9'); // write commands run, the refused LPUSH included (see README)
    expect(before.rdb_saves).toBe('0');
    expect(await r.lastsave()).toBe(Number(before.rdb_last_save_time));
    expect(await r.save()).toBe('OK');
    const after = await info(r);
    expect(after.rdb_changes_since_last_save).toBe('0');
    expect(after.rdb_saves).toBe('1');
    expect(after.rdb_last_bgsave_status).toBe('ok');
    expect(await r.lastsave()).toBe(Number(after.rdb_last_save_time));
    expect(existsSync(join(d, 'dump.rdb'))).toBe(true);
    expect(existsSync(join(d, `temp-${srv.pid}.rdb`))).toBe(false);
    const pttl = await r.pttl('ttl');
    r.disconnect();
    await srv.stop();

    srv = await startServer(['--dir', d]);
    r = await connect(srv.respPort);
    await srv.waitForStderr(/DB loaded from disk: .*dump\.rdb \(RDB v10, redis-ver 7\.0\.0\): 8 keys/);
    expect((await r.keys('*')).sort()).toEqual(['bin', 'bits', 'h', 'l', 's', 'set', 'ttl', 'z']);
    expect(await r.getBuffer('bin')).toEqual(Buffer.from([0, 255, 13, 10]));
    expect(await r.lrange('l', 0, -1)).toEqual(['a', 'b', 'c']);
    expect((await r.smembers('set')).sort()).toEqual(['1', '2', 'x']);
    expect(await r.zrange('z', 0, -1, 'WITHSCORES')).toEqual(['b', '-inf', 'a', '1.5']);
    expect(await r.getbit('bits', 7)).toBe(1);
    const left = await r.pttl('ttl');
    expect(left).toBeGreaterThan(0);
    expect(left).toBeLessThanOrEqual(pttl);
    expect((await info(r)).rdb_last_load_keys_loaded).toBe('8');
    r.disconnect();
    await srv.stop();
  });

  test('a corrupt or truncated dump.rdb stops the start, names the offset, and is left as it was', async () => {
    const d = mkdtempSync(join(dir, 'corrupt-'));
    const ks = fresh();
    ks.put('a', 'x'.repeat(50));
    ks.put('b', new Map([['f', 'v']]));
    const good = Buffer.from(rdbBytes(ks, SAVE));
    const path = join(d, 'dump.rdb');
    const flipped = Buffer.from(good);
    flipped[good.length - 20] ^= 0x10;
    for (const [bad, offset] of [
      [flipped, null],
      [good.subarray(0, 30), 28], // inside the aux fields: the field that runs past the end
      [good.subarray(0, good.length - 8), good.length - 8], // the CRC missing
      [good.subarray(0, good.length - 9), good.length - 9], // EOF missing
    ] as [Buffer, number | null][]) {
      writeFileSync(path, bad);
      const { code, stderr } = await failToStart(['--dir', d]);
      expect(code).toBe(1);
      expect(stderr).toMatch(/cannot start: cannot load .*dump\.rdb: bad RDB file at byte offset \d+: .*The file was left as it is\./);
      if (offset !== null) expect(stderr).toContain(`at byte offset ${offset}:`);
      expect(readFileSync(path).equals(bad)).toBe(true);
    }
  });

  test('bad flags stop the start', async () => {
    expect((await failToStart(['--dbfilename', 'a/b.rdb'])).stderr).toContain("dbfilename can't be a path, just a filename");
    expect((await failToStart(['--dir', join(dir, 'nope')])).stderr).toContain('No such file or directory');
    expect((await failToStart(['--rdbcompression', 'maybe'])).code).toBe(2);
  });

  test('--dbfilename, --rdbchecksum no, CONFIG GET/SET', async () => {
    const d = mkdtempSync(join(dir, 'cfg-'));
    const srv = await startServer(['--dir', d, '--dbfilename', 'other.rdb', '--rdbchecksum', 'no', '--rdbcompression', 'no', '--quiet']);
    const r = await connect(srv.respPort);
    // rdb* also matches rdb-del-sync-files and rdb-save-incremental-fsync, as in Redis.
    expect(await r.config('GET', 'rdbc*')).toEqual(['rdbcompression', 'no', 'rdbchecksum', 'no']);
    expect(await r.config('GET', 'dbfilename')).toEqual(['dbfilename', 'other.rdb']);
    expect(await r.config('GET', 'dir')).toEqual(['dir', d]);
    await r.set('k', 'y'.repeat(100));
    const raw = await r.dumpBuffer('k');
    expect([raw[1], raw[2]]).toEqual([0x40, 100]); // a plain 14-bit length: not compressed
    expect(await r.config('SET', 'rdbcompression', 'YES')).toBe('OK');
    expect(await r.config('GET', 'rdbcompression')).toEqual(['rdbcompression', 'yes']);
    expect((await r.dumpBuffer('k'))[1]).toBe(0xc3); // LZF
    await expect(r.config('SET', 'rdbcompression', 'maybe')).rejects.toThrow("argument must be 'yes' or 'no'");
    await expect(r.config('SET', 'dir', '/tmp')).rejects.toThrow("can't set protected config");
    await expect(r.config('SET', 'rdbchecksum', 'yes')).rejects.toThrow("can't set immutable config");
    expect(await r.save()).toBe('OK');
    const file = readFileSync(join(d, 'other.rdb'));
    expect([...file.subarray(file.length - 8)]).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
    r.disconnect();
    await srv.stop();
  });

  test('a failed SAVE answers ERR, logs why, and keeps the old state', async () => {
    const d = mkdtempSync(join(dir, 'gone-'));
    const srv = await startServer(['--dir', d]);
    const r = await connect(srv.respPort);
    await r.set('k', 'v');
    rmSync(d, { recursive: true });
    await expect(r.save()).rejects.toThrow(/^ERR$/);
    await srv.waitForStderr(/failed saving the DB to .*dump\.rdb: ENOENT/);
    const i = await info(r);
    expect(i.rdb_changes_since_last_save).toBe('1');
    expect(i.rdb_saves).toBe('1');
    expect(i.rdb_last_bgsave_status).toBe('ok'); // as Redis: only a background save's failure changes it
    r.disconnect();
    await srv.stop();
  });

  test('DUMP, RESTORE and their errors; BGSAVE\'s syntax error; SAVE not in MULTI', async () => {
    const srv = await startServer(['--quiet']);
    const r = await connect(srv.respPort);
    expect(await r.dump('nosuch')).toBeNull();
    await r.rpush('l', 'a', '1', 'b');
    const payload = await r.dumpBuffer('l');
    await expect(r.restore('l', 0, payload)).rejects.toThrow('BUSYKEY Target key name already exists.');
    expect(await r.restore('l2', 0, payload)).toBe('OK');
    expect(await r.lrange('l2', 0, -1)).toEqual(['a', '1', 'b']);
    expect(await r.restore('l2', 0, Buffer.from(dumpPayload('s', { compression: true })), 'REPLACE')).toBe('OK');
    expect(await r.type('l2')).toBe('string');
    expect(await r.restore('t', 100_000, payload)).toBe('OK');
    const t = await r.pttl('t');
    expect(t).toBeGreaterThan(0);
    expect(t).toBeLessThanOrEqual(100_000);
    const at = Date.now() + 1_000_000;
    expect(await r.restore('abs', at, payload, 'ABSTTL', 'IDLETIME', '10')).toBe('OK');
    expect(await r.pexpiretime('abs')).toBe(at);
    expect(await r.restore('past', 1, payload, 'ABSTTL')).toBe('OK');
    expect(await r.exists('past')).toBe(0);
    expect(await r.restore('l', 1, payload, 'ABSTTL', 'REPLACE')).toBe('OK'); // replaced by an expired value: gone
    expect(await r.exists('l')).toBe(0);
    await expect(r.restore('x', -1, payload)).rejects.toThrow('ERR Invalid TTL value, must be >= 0');
    await expect(r.restore('x', 'abc', payload)).rejects.toThrow('ERR value is not an integer or out of range');
    await expect(r.restore('x', 0, 'bad')).rejects.toThrow('ERR DUMP payload version or checksum are wrong');
    await expect(r.restore('x', 0, payload, 'IDLETIME', '-1')).rejects.toThrow('ERR Invalid IDLETIME value, must be >= 0');
    await expect(r.restore('x', 0, payload, 'FREQ', '256')).rejects.toThrow('ERR Invalid FREQ value, must be >= 0 and <= 255');
    await expect(r.restore('x', 0, payload, 'FREQ', '5', 'IDLETIME', '3')).rejects.toThrow('ERR syntax error');
    await expect(r.restore('x', 0, payload, 'BOGUS')).rejects.toThrow('ERR syntax error');
    expect(await r.restore('x', 0, payload, 'FREQ', '5')).toBe('OK');
    const bad = Buffer.from(payload);
    bad[3] ^= 0xff;
    await expect(r.restore('y', 0, bad)).rejects.toThrow('ERR DUMP payload version or checksum are wrong');
    await expect(r.call('BGSAVE', 'x')).rejects.toThrow('ERR syntax error');
    expect(await r.call('MULTI')).toBe('OK');
    await expect(r.call('SAVE')).rejects.toThrow('ERR Command not allowed inside a transaction');
    expect(await r.call('DISCARD')).toBe('OK');
    r.disconnect();
    await srv.stop();
  });
});
