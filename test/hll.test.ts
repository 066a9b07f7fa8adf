// Unit tests of the HyperLogLog representation (src/store/hll.ts): the hash,
// the 6-bit register packing, the sparse opcodes. Byte equality with Redis is
// checked in test/compat/hll.test.ts.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Bytes } from '../src/store/bytes.js';
import {
  HLL_DENSE_SIZE,
  HLL_SEED,
  decodeSparse,
  denseGet,
  denseSetRaw,
  hllAdd,
  hllCount,
  hllPatLen,
  isHll,
  murmurHash64A,
  newHllBytes,
  sparseSet,
  sparseToDense,
} from '../src/store/hll.js';

const M = 0xc6a4a7935bd1e995n;
const MASK = (1n << 64n) - 1n;

/** MurmurHash64A written plainly in BigInt, from the algorithm's definition. */
function referenceMurmur(data: Uint8Array, seed: bigint): bigint {
  const len = data.length;
  let h = (seed ^ (BigInt(len) * M)) & MASK;
  const blocks = len - (len & 7);
  for (let i = 0; i < blocks; i += 8) {
    let k = 0n;
    for (let j = 7; j >= 0; j--) k = (k << 8n) | BigInt(data[i + j]);
    k = (k * M) & MASK;
    k ^= k >> 47n;
    k = (k * M) & MASK;
    h ^= k;
    h = (h * M) & MASK;
  }
  const rest = len & 7;
  if (rest > 0) {
    for (let j = rest - 1; j >= 0; j--) h ^= BigInt(data[blocks + j]) << BigInt(8 * j);
    h = (h * M) & MASK;
  }
  h ^= h >> 47n;
  h = (h * M) & MASK;
  h ^= h >> 47n;
  return h;
}

const latin1 = (b: Uint8Array) => Buffer.from(b).toString('latin1');

describe('MurmurHash64A', () => {
  it('equals a BigInt reference for every length 0..64 and random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 64 }), fc.integer({ min: 0, max: 0xffffffff }), (data, seed) => {
        expect(murmurHash64A(latin1(data), seed)).toBe(referenceMurmur(data, BigInt(seed)));
      }),
      { numRuns: 2000 },
    );
  });

  it('equals the reference on the products that carry across 32 bits (all 0xff, all 0x80)', () => {
    for (let len = 0; len < 40; len++) {
      for (const fill of [0, 0x7f, 0x80, 0xff]) {
        const data = new Uint8Array(len).fill(fill);
        expect(murmurHash64A(latin1(data), HLL_SEED)).toBe(referenceMurmur(data, BigInt(HLL_SEED)));
      }
    }
  });

  it('hllPatLen: register = low 14 bits, count = trailing zeros of the other 50 bits (+1), at most 51', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 30 }), (data) => {
        const h = referenceMurmur(data, BigInt(HLL_SEED));
        const index = Number(h & 16383n);
        let rest = (h >> 14n) | (1n << 50n);
        let count = 1;
        while ((rest & 1n) === 0n) {
          count++;
          rest >>= 1n;
        }
        const pat = hllPatLen(latin1(data));
        expect([pat >>> 6, pat & 63]).toEqual([index, count]);
        expect(count).toBeLessThanOrEqual(51);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('dense registers', () => {
  it('packs 6-bit registers from the least significant bit of each byte up', () => {
    const buf = new Uint8Array(HLL_DENSE_SIZE);
    denseSetRaw(buf, 0, 0b111111);
    expect([...buf.subarray(16, 19)]).toEqual([0b00111111, 0, 0]);
    denseSetRaw(buf, 1, 0b101011); // bits 6-7 of byte 0, bits 0-3 of byte 1
    expect([...buf.subarray(16, 19)]).toEqual([0b11111111, 0b00001010, 0]);
    denseSetRaw(buf, 2, 0b110001); // bits 4-7 of byte 1, bits 0-1 of byte 2
    expect([...buf.subarray(16, 19)]).toEqual([0b11111111, 0b00011010, 0b00000011]);
    denseSetRaw(buf, 3, 0b100000); // bits 2-7 of byte 2
    expect([...buf.subarray(16, 19)]).toEqual([0b11111111, 0b00011010, 0b10000011]);
    expect([0, 1, 2, 3].map((r) => denseGet(buf, r))).toEqual([63, 0b101011, 0b110001, 0b100000]);
    denseSetRaw(buf, 16383, 63); // the last register: bits 2-7 of the last byte
    expect(buf[HLL_DENSE_SIZE - 1]).toBe(0b11111100);
    expect(denseGet(buf, 16383)).toBe(63);
  });

  it('setting a register never changes another', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 16383 }), fc.integer({ min: 0, max: 63 })), { maxLength: 300 }), (sets) => {
        const buf = new Uint8Array(HLL_DENSE_SIZE);
        const model = new Map<number, number>();
        for (const [r, v] of sets) {
          denseSetRaw(buf, r, v);
          model.set(r, v);
        }
        const got = Array.from({ length: 16384 }, (_, r) => denseGet(buf, r));
        expect(got).toEqual(Array.from({ length: 16384 }, (_, r) => model.get(r) ?? 0));
      }),
      { numRuns: 50 },
    );
  });
});

describe('sparse representation', () => {
  it('a new HLL is the header and one XZERO of 16384', () => {
    const b = newHllBytes();
    expect(latin1(b)).toBe('HYLL\x01\0\0\0' + '\0'.repeat(8) + '\x7f\xff');
    expect(isHll(b, b.length)).toBe(true);
    expect(decodeSparse(b, b.length)).toBe('Z:16384');
    expect(hllCount(b, b.length)).toBe(0);
  });

  it('splits XZERO, ZERO and VAL runs and merges equal neighbours', () => {
    const b = Bytes.wrap(newHllBytes());
    expect(sparseSet(b, 100, 3, 3000)).toBe(1);
    expect(decodeSparse(b.buf, b.length)).toBe('Z:100 v:3,1 Z:16283');
    expect(b.buf[15] & 0x80).toBe(0x80); // the cached cardinality is stale
    expect(sparseSet(b, 100, 2, 3000)).toBe(0);
    expect(sparseSet(b, 101, 3, 3000)).toBe(1); // merged with its left neighbour
    expect(decodeSparse(b.buf, b.length)).toBe('Z:100 v:3,2 Z:16282');
    expect(sparseSet(b, 50, 1, 3000)).toBe(1);
    expect(decodeSparse(b.buf, b.length)).toBe('z:50 v:1,1 z:49 v:3,2 Z:16282');
    expect(sparseSet(b, 100, 5, 3000)).toBe(1); // VAL of 2 split in two
    expect(decodeSparse(b.buf, b.length)).toBe('z:50 v:1,1 z:49 v:5,1 v:3,1 Z:16282');
    expect(sparseSet(b, 0, 33, 3000)).toBe(1); // beyond 32: dense
    expect(b.buf[4]).toBe(0);
    expect(b.length).toBe(HLL_DENSE_SIZE);
    expect([0, 50, 100, 101, 102].map((r) => denseGet(b.buf, r))).toEqual([33, 1, 5, 3, 0]);
  });

  it('turns dense once it would grow past the byte limit', () => {
    const b = Bytes.wrap(newHllBytes());
    let r = 0;
    while (b.buf[4] === 1) {
      const before = b.length;
      sparseSet(b, r, 1 + (r % 7), 40);
      if (b.buf[4] === 1) expect(b.length).toBeLessThanOrEqual(40);
      else expect(before + 2).toBeGreaterThan(40);
      r += 3;
    }
    expect(b.length).toBe(HLL_DENSE_SIZE);
  });

  it('dense and sparse count the same', () => {
    const sparse = Bytes.wrap(newHllBytes());
    const dense = Bytes.wrap(newHllBytes());
    expect(sparseToDense(dense)).toBe(true);
    for (let i = 0; i < 1500; i++) {
      hllAdd(sparse, `el${i}`);
      hllAdd(dense, `el${i}`);
      if (i % 100 === 0) expect(hllCount(sparse.buf, sparse.length)).toBe(hllCount(dense.buf, dense.length));
    }
    const copy = Bytes.fromString(sparse.toString());
    expect(sparseToDense(copy)).toBe(true);
    expect(copy.toString().slice(16)).toBe(dense.toString().slice(16)); // the same registers
  });
});
