// HyperLogLog in Redis 7.0's own byte layout, so that a value PFADD builds
// here is byte-for-byte the string Redis builds (GET, DUMP and replication
// interchange depend on it) and PFCOUNT answers what Redis answers.
//
// The value is an ordinary string (held as mutable Bytes while the HLL
// commands change it in place):
//
//   "HYLL" | encoding (0 dense, 1 sparse) | 3 unused zero bytes |
//   cached cardinality, 8 bytes little-endian; the top bit of the last byte
//   set means "stale" | registers
//
// 16384 registers (the low 14 bits of a 64-bit MurmurHash64A pick one), each
// holding the longest run "0…01" seen in the remaining 50 bits, plus one.
// - Dense: 16384 × 6 bits, packed from the least significant bit of each
//   byte up (register 0 is bits 0-5 of byte 0, register 1 bits 6-7 of byte 0
//   and 0-3 of byte 1, ...): 12288 bytes.
// - Sparse: run-length opcodes. ZERO 00xxxxxx: 1-64 zero registers; XZERO
//   01xxxxxx yyyyyyyy: 1-16384 zero registers; VAL 1vvvvvxx: 1-4 registers of
//   value 1-32. A new HLL is one XZERO of 16384. A register above 32, or a
//   representation growing past hll-sparse-max-bytes (3000), turns it dense.
//
// The update algorithm (which opcode splits how, which neighbours merge) and
// the estimator (Ertl's "new" one from arXiv:1702.01284, as Redis 7.0 codes
// it) follow Redis's choices step for step, since both decide the bytes and
// the count. Written from the algorithm's description; no code of Redis's.

import type { Bytes } from './bytes.js';

export const HLL_P = 14;
export const HLL_Q = 64 - HLL_P;
export const HLL_REGISTERS = 1 << HLL_P;
const P_MASK = HLL_REGISTERS - 1;
export const HLL_HDR_SIZE = 16;
export const HLL_DENSE_SIZE = HLL_HDR_SIZE + (HLL_REGISTERS * 6) / 8;
export const HLL_DENSE = 0;
export const HLL_SPARSE = 1;
/** Redis's default hll-sparse-max-bytes. */
export const HLL_SPARSE_MAX_BYTES = 3000;
/** The seed Redis hashes HLL elements with. */
export const HLL_SEED = 0xadc83b19;

const VAL_MAX_VALUE = 32;
const VAL_MAX_LEN = 4;
const ZERO_MAX_LEN = 64;
const XZERO_MAX_LEN = 16384;
/** 1 / (2 ln 2): the estimator's α∞. */
const ALPHA_INF = 0.72134752044448170368;

// ---- MurmurHash64A in 32-bit halves ----
//
// 64-bit products mod 2^64 by the constant m = 0xc6a4a7935bd1e995, from 16-bit
// partial products (exact in doubles) and Math.imul: no BigInt on the hot
// path. Results land in these two module variables, so hashing allocates nothing.

const M_HI = 0xc6a4a793;
const M_LO = 0x5bd1e995;
const M_LO_0 = M_LO & 0xffff;
const M_LO_1 = M_LO >>> 16;
let rHi = 0;
let rLo = 0;

/** (hi:lo) × m mod 2^64 → (rHi:rLo). */
function mulM(hi: number, lo: number): void {
  const a0 = lo & 0xffff;
  const a1 = lo >>> 16;
  const mid = a0 * M_LO_1 + a1 * M_LO_0; // < 2^33
  const low = a0 * M_LO_0 + (mid % 65536) * 65536; // < 2^33
  const high = a1 * M_LO_1 + Math.floor(mid / 65536) + Math.floor(low / 4294967296);
  rLo = low >>> 0;
  rHi = (high + Math.imul(hi, M_LO) + Math.imul(lo, M_HI)) >>> 0;
}

let hashHi = 0;
let hashLo = 0;

/** MurmurHash64A of a binary string's bytes (as Redis's, endian-neutral) → (hashHi:hashLo). */
function murmur(s: string, seed: number): void {
  const len = s.length;
  mulM(0, len);
  let hHi = rHi;
  let hLo = (rLo ^ seed) >>> 0;
  const blocks = len - (len & 7);
  let i = 0;
  for (; i < blocks; i += 8) {
    const kLo = s.charCodeAt(i) | (s.charCodeAt(i + 1) << 8) | (s.charCodeAt(i + 2) << 16) | (s.charCodeAt(i + 3) << 24);
    const kHi = s.charCodeAt(i + 4) | (s.charCodeAt(i + 5) << 8) | (s.charCodeAt(i + 6) << 16) | (s.charCodeAt(i + 7) << 24);
    mulM(kHi, kLo);
    mulM(rHi, rLo ^ (rHi >>> 15)); // k ^= k >> 47; k *= m
    hHi ^= rHi;
    hLo ^= rLo;
    mulM(hHi, hLo);
    hHi = rHi;
    hLo = rLo;
  }
  const rest = len & 7;
  if (rest > 0) {
    for (let j = rest - 1; j >= 0; j--) {
      const c = s.charCodeAt(i + j);
      if (j >= 4) hHi ^= c << (8 * (j - 4));
      else hLo ^= c << (8 * j);
    }
    mulM(hHi, hLo);
    hHi = rHi;
    hLo = rLo;
  }
  mulM(hHi, hLo ^ (hHi >>> 15));
  hashHi = rHi;
  hashLo = (rLo ^ (rHi >>> 15)) >>> 0;
}

/** MurmurHash64A(s, seed) as Redis computes it, as an unsigned 64-bit bigint (for tests and tools). */
export function murmurHash64A(s: string, seed: number): bigint {
  murmur(s, seed >>> 0);
  return (BigInt(hashHi) << 32n) | BigInt(hashLo);
}

/**
 * Redis's hllPatLen: the register an element goes to (low 14 bits of its
 * hash) and the length of the "0…01" pattern in the other 50 bits (1-51).
 * Returned packed as index × 64 + count.
 */
export function hllPatLen(ele: string): number {
  murmur(ele, HLL_SEED);
  const index = hashLo & P_MASK;
  const lo = ((hashLo >>> HLL_P) | (hashHi << (32 - HLL_P))) >>> 0;
  const hi = (hashHi >>> HLL_P) | (1 << (HLL_Q - 32));
  const count = lo !== 0 ? 32 - Math.clz32(lo & -lo) : 64 - Math.clz32(hi & -hi);
  return index * 64 + count;
}

// ---- the header ----

/** Redis's isHLLObjectOrReply test: "HYLL", a known encoding, a dense one of the exact size. */
export function isHll(buf: Uint8Array, len: number): boolean {
  if (len < HLL_HDR_SIZE) return false;
  if (buf[0] !== 72 || buf[1] !== 89 || buf[2] !== 76 || buf[3] !== 76) return false; // HYLL
  if (buf[4] > HLL_SPARSE) return false;
  return buf[4] !== HLL_DENSE || len === HLL_DENSE_SIZE;
}

/** A new, empty HLL: sparse, one XZERO covering every register, cached cardinality 0 (valid). */
export function newHllBytes(): Uint8Array {
  const b = new Uint8Array(HLL_HDR_SIZE + 2);
  b.set([72, 89, 76, 76, HLL_SPARSE]);
  b[HLL_HDR_SIZE] = 0x40 | ((XZERO_MAX_LEN - 1) >> 8);
  b[HLL_HDR_SIZE + 1] = (XZERO_MAX_LEN - 1) & 0xff;
  return b;
}

/** Marks the cached cardinality stale (the top bit of its last byte). */
export function invalidateCache(buf: Uint8Array): void {
  buf[15] |= 0x80;
}

/** The cached cardinality, or null when it is stale. */
export function cachedCard(buf: Uint8Array): number | bigint | null {
  if (buf[15] & 0x80) return null;
  const lo = (buf[8] | (buf[9] << 8) | (buf[10] << 16) | (buf[11] << 24)) >>> 0;
  const hi = (buf[12] | (buf[13] << 8) | (buf[14] << 16) | (buf[15] << 24)) >>> 0;
  return hi < 1 << 21 ? hi * 4294967296 + lo : (BigInt(hi) << 32n) | BigInt(lo);
}

/** Stores a cardinality (an unsigned 64-bit value) in the header, little-endian. */
export function writeCard(buf: Uint8Array, card: number | bigint): void {
  let lo: number;
  let hi: number;
  if (typeof card === 'bigint') {
    lo = Number(card & 0xffffffffn);
    hi = Number((card >> 32n) & 0xffffffffn);
  } else {
    lo = card % 4294967296;
    hi = Math.floor(card / 4294967296);
  }
  for (let i = 0; i < 4; i++) {
    buf[8 + i] = (lo >>> (8 * i)) & 0xff;
    buf[12 + i] = (hi >>> (8 * i)) & 0xff;
  }
}

/** A card as Redis's addReplyLongLong shows the uint64: values from 2^63 on come out negative. */
export function cardAsReply(card: number | bigint): number | bigint {
  return typeof card === 'bigint' ? BigInt.asIntN(64, card) : card;
}

// ---- dense registers ----

/** Register `reg` of a dense HLL (registers start at byte 16). */
export function denseGet(buf: Uint8Array, reg: number): number {
  const bit = reg * 6;
  const at = HLL_HDR_SIZE + (bit >> 3);
  const fb = bit & 7;
  // Past the last byte a C string has its NUL terminator: read as 0.
  const next = at + 1 < buf.length ? buf[at + 1] : 0;
  return ((buf[at] >> fb) | (next << (8 - fb))) & 63;
}

/** Sets register `reg` of a dense HLL to val (0-63). */
export function denseSetRaw(buf: Uint8Array, reg: number, val: number): void {
  const bit = reg * 6;
  const at = HLL_HDR_SIZE + (bit >> 3);
  const fb = bit & 7;
  buf[at] = (buf[at] & ~(63 << fb)) | (val << fb);
  if (fb > 2) buf[at + 1] = (buf[at + 1] & ~(63 >> (8 - fb))) | (val >> (8 - fb));
}

/** Raises register `reg` to count if it is lower; 1 if it changed. */
function denseSet(buf: Uint8Array, reg: number, count: number): number {
  if (count > denseGet(buf, reg)) {
    denseSetRaw(buf, reg, count);
    return 1;
  }
  return 0;
}

// ---- sparse representation ----

const valOp = (value: number, len: number): number => 0x80 | ((value - 1) << 2) | (len - 1);

/**
 * Converts a sparse HLL to dense in place (the header is kept, the cached
 * cardinality included). False, and b unchanged, if the opcodes do not cover
 * exactly 16384 registers (a corrupted value).
 */
export function sparseToDense(b: Bytes): boolean {
  const src = b.buf;
  if (src[4] === HLL_DENSE) return true;
  // One spare zero byte past the registers, as the C string's terminator.
  const dense = new Uint8Array(HLL_DENSE_SIZE + 1);
  dense.set(src.subarray(0, HLL_HDR_SIZE));
  dense[4] = HLL_DENSE;
  const end = b.length;
  let idx = 0;
  let p = HLL_HDR_SIZE;
  while (p < end) {
    const op = src[p];
    if ((op & 0xc0) === 0) {
      idx += (op & 0x3f) + 1;
      p++;
    } else if ((op & 0xc0) === 0x40) {
      idx += (((op & 0x3f) << 8) | (p + 1 < end ? src[p + 1] : 0)) + 1;
      p += 2;
    } else {
      let run = (op & 3) + 1;
      const val = ((op >> 2) & 0x1f) + 1;
      if (run + idx > HLL_REGISTERS) break;
      while (run-- > 0) denseSetRaw(dense, idx++, val);
      p++;
    }
  }
  if (idx !== HLL_REGISTERS) return false;
  b.assign(dense, HLL_DENSE_SIZE);
  return true;
}

/** Promotes to dense and sets the register there (Redis's "promote:" path); -1 if corrupted. */
function promote(b: Bytes, index: number, count: number): number {
  if (!sparseToDense(b)) return -1;
  denseSet(b.buf, index, count);
  return 1;
}

/**
 * Raises register `index` of a sparse HLL to count if it is lower: 1 if it
 * changed, 0 if not, -1 if the representation is corrupted. Splits the
 * opcode covering the register as Redis does, merges equal neighbouring VAL
 * opcodes in the five opcodes from the one before, and promotes to dense when
 * count > 32 or the string would grow past maxBytes.
 */
export function sparseSet(b: Bytes, index: number, count: number, maxBytes: number): number {
  if (count > VAL_MAX_VALUE) return promote(b, index, count);
  let buf = b.buf;
  let end = b.length;
  // Step 1: the opcode covering the register.
  let p = HLL_HDR_SIZE;
  let first = 0;
  let prev = -1;
  let span = 0;
  while (p < end) {
    const op = buf[p];
    let oplen = 1;
    if ((op & 0xc0) === 0) span = (op & 0x3f) + 1;
    else if (op & 0x80) span = (op & 3) + 1;
    else {
      span = (((op & 0x3f) << 8) | (p + 1 < end ? buf[p + 1] : 0)) + 1;
      oplen = 2;
    }
    if (index <= first + span - 1) break;
    prev = p;
    p += oplen;
    first += span;
  }
  if (span === 0 || p >= end) return -1;
  const op = buf[p];
  const isZero = (op & 0xc0) === 0;
  const isXzero = (op & 0xc0) === 0x40;
  const isVal = (op & 0x80) !== 0;
  let next = isXzero ? p + 2 : p + 1;
  if (next >= end) next = -1;
  const runlen = isZero ? (op & 0x3f) + 1 : isXzero ? (((op & 0x3f) << 8) | (p + 1 < end ? buf[p + 1] : 0)) + 1 : (op & 3) + 1;

  let simple = false;
  if (isVal) {
    const old = ((op >> 2) & 0x1f) + 1;
    if (old >= count) return 0;
    if (runlen === 1) {
      buf[p] = valOp(count, 1);
      simple = true;
    }
  }
  if (!simple && isZero && runlen === 1) {
    buf[p] = valOp(count, 1);
    simple = true;
  }
  if (!simple) {
    // Step 2: the split, written into seq.
    const seq: number[] = [];
    const last = first + span - 1;
    const zeros = (len: number): void => {
      if (len > ZERO_MAX_LEN) seq.push(0x40 | ((len - 1) >> 8), (len - 1) & 0xff);
      else seq.push(len - 1);
    };
    if (isZero || isXzero) {
      if (index !== first) zeros(index - first);
      seq.push(valOp(count, 1));
      if (index !== last) zeros(last - index);
    } else {
      const cur = ((op >> 2) & 0x1f) + 1;
      if (index !== first) seq.push(valOp(cur, index - first));
      seq.push(valOp(count, 1));
      if (index !== last) seq.push(valOp(cur, last - index));
    }
    // Step 3: put it in place of the old opcode.
    const delta = seq.length - (isXzero ? 2 : 1);
    if (delta > 0 && end + delta > maxBytes) return promote(b, index, count);
    if (delta > 0) {
      b.growTo(end + delta);
      buf = b.buf;
      if (next !== -1) buf.copyWithin(next + delta, next, end);
    } else if (delta < 0) {
      if (next !== -1) buf.copyWithin(next + delta, next, end);
      b.truncate(end + delta);
    }
    for (let i = 0; i < seq.length; i++) buf[p + i] = seq[i];
    end += delta;
  }
  // Step 4: merge equal adjacent VAL opcodes, scanning up to 5 opcodes from the previous one.
  p = prev >= 0 ? prev : HLL_HDR_SIZE;
  let scan = 5;
  while (p < end && scan-- > 0) {
    const x = buf[p];
    if ((x & 0xc0) === 0x40) {
      p += 2;
      continue;
    }
    if ((x & 0xc0) === 0) {
      p++;
      continue;
    }
    if (p + 1 < end && buf[p + 1] & 0x80) {
      const v1 = ((x >> 2) & 0x1f) + 1;
      const y = buf[p + 1];
      if (v1 === ((y >> 2) & 0x1f) + 1) {
        const len = (x & 3) + (y & 3) + 2;
        if (len <= VAL_MAX_LEN) {
          buf[p + 1] = valOp(v1, len);
          buf.copyWithin(p, p + 1, end);
          end--;
          b.truncate(end);
          continue; // try to merge the merged opcode with the next one
        }
      }
    }
    p++;
  }
  invalidateCache(buf);
  b.changed();
  return 1;
}

/** PFADD of one element: 1 if a register changed, 0 if not, -1 if the HLL is corrupted. */
export function hllAdd(b: Bytes, ele: string, maxBytes = HLL_SPARSE_MAX_BYTES): number {
  const pat = hllPatLen(ele);
  const index = pat >>> 6;
  const count = pat & 63;
  const buf = b.buf;
  switch (buf[4]) {
    case HLL_DENSE:
      if (denseSet(buf, index, count) === 0) return 0;
      b.changed();
      return 1;
    case HLL_SPARSE:
      return sparseSet(b, index, count, maxBytes);
    default:
      return -1;
  }
}

/** Sets register `index` to at least count in either encoding (PFMERGE's write); may promote. */
export function hllSet(b: Bytes, index: number, count: number, maxBytes = HLL_SPARSE_MAX_BYTES): number {
  if (b.buf[4] === HLL_DENSE) {
    const r = denseSet(b.buf, index, count);
    if (r) b.changed();
    return r;
  }
  return sparseSet(b, index, count, maxBytes);
}

// ---- counting ----

/** Histogram of a dense HLL's register values (16 registers per 12 bytes, as Redis reads them). */
function denseHisto(buf: Uint8Array, h: Int32Array): void {
  let r = HLL_HDR_SIZE;
  for (let j = 0; j < 1024; j++, r += 12) {
    const b0 = buf[r], b1 = buf[r + 1], b2 = buf[r + 2], b3 = buf[r + 3], b4 = buf[r + 4], b5 = buf[r + 5];
    const b6 = buf[r + 6], b7 = buf[r + 7], b8 = buf[r + 8], b9 = buf[r + 9], b10 = buf[r + 10], b11 = buf[r + 11];
    h[b0 & 63]++;
    h[((b0 >> 6) | (b1 << 2)) & 63]++;
    h[((b1 >> 4) | (b2 << 4)) & 63]++;
    h[(b2 >> 2) & 63]++;
    h[b3 & 63]++;
    h[((b3 >> 6) | (b4 << 2)) & 63]++;
    h[((b4 >> 4) | (b5 << 4)) & 63]++;
    h[(b5 >> 2) & 63]++;
    h[b6 & 63]++;
    h[((b6 >> 6) | (b7 << 2)) & 63]++;
    h[((b7 >> 4) | (b8 << 4)) & 63]++;
    h[(b8 >> 2) & 63]++;
    h[b9 & 63]++;
    h[((b9 >> 6) | (b10 << 2)) & 63]++;
    h[((b10 >> 4) | (b11 << 4)) & 63]++;
    h[(b11 >> 2) & 63]++;
  }
}

/** Histogram of a sparse HLL; false if the opcodes do not cover exactly 16384 registers. */
function sparseHisto(buf: Uint8Array, end: number, h: Int32Array): boolean {
  let idx = 0;
  let p = HLL_HDR_SIZE;
  while (p < end) {
    const op = buf[p];
    if ((op & 0xc0) === 0) {
      const run = (op & 0x3f) + 1;
      idx += run;
      h[0] += run;
      p++;
    } else if ((op & 0xc0) === 0x40) {
      const run = (((op & 0x3f) << 8) | (p + 1 < end ? buf[p + 1] : 0)) + 1;
      idx += run;
      h[0] += run;
      p += 2;
    } else {
      const run = (op & 3) + 1;
      idx += run;
      h[((op >> 2) & 0x1f) + 1] += run;
      p++;
    }
  }
  return idx === HLL_REGISTERS;
}

/** Ertl's σ(x). */
function sigma(x: number): number {
  if (x === 1) return Infinity;
  let y = 1;
  let z = x;
  let zPrime: number;
  do {
    x *= x;
    zPrime = z;
    z += x * y;
    y += y;
  } while (zPrime !== z);
  return z;
}

/** Ertl's τ(x). */
function tau(x: number): number {
  if (x === 0 || x === 1) return 0;
  let y = 1;
  let z = 1 - x;
  let zPrime: number;
  do {
    x = Math.sqrt(x);
    zPrime = z;
    y *= 0.5;
    z -= (1 - x) * (1 - x) * y;
  } while (zPrime !== z);
  return z / 3;
}

const TWO_63 = 2 ** 63;

/**
 * The cardinality estimate from a register histogram, as hllCount computes
 * it in doubles; llroundl's result (past 2^63 or infinite: LLONG_MIN) read as
 * the uint64 Redis stores.
 */
function estimate(h: Int32Array): number | bigint {
  const m = HLL_REGISTERS;
  let z = m * tau((m - h[HLL_Q + 1]) / m);
  for (let j = HLL_Q; j >= 1; --j) {
    z += h[j];
    z *= 0.5;
  }
  z += m * sigma(h[0] / m);
  const e = (ALPHA_INF * m * m) / z;
  if (!(e < TWO_63)) return 1n << 63n; // llroundl overflows to LLONG_MIN
  const r = Math.round(e);
  return Number.isSafeInteger(r) ? r : BigInt(r);
}

/** PFCOUNT of one HLL (either encoding): the estimate, or null if a sparse one is corrupted. */
export function hllCount(buf: Uint8Array, len: number): number | bigint | null {
  const h = new Int32Array(64);
  if (buf[4] === HLL_DENSE) denseHisto(buf, h);
  else if (!sparseHisto(buf, len, h)) return null;
  return estimate(h);
}

/** The estimate for registers held one per byte (PFCOUNT of several keys). */
export function rawCount(regs: Uint8Array): number | bigint {
  const h = new Int32Array(64);
  for (let i = 0; i < HLL_REGISTERS; i++) h[regs[i]]++;
  return estimate(h);
}

/** max[i] = MAX(max[i], register i) over one HLL; false if a sparse one is corrupted. */
export function hllMergeInto(max: Uint8Array, buf: Uint8Array, len: number): boolean {
  if (buf[4] === HLL_DENSE) {
    // 4 registers per 3 bytes.
    for (let i = 0, r = HLL_HDR_SIZE; i < HLL_REGISTERS; i += 4, r += 3) {
      const b0 = buf[r];
      const b1 = buf[r + 1];
      const b2 = buf[r + 2];
      const v0 = b0 & 63;
      const v1 = ((b0 >> 6) | (b1 << 2)) & 63;
      const v2 = ((b1 >> 4) | (b2 << 4)) & 63;
      const v3 = b2 >> 2;
      if (v0 > max[i]) max[i] = v0;
      if (v1 > max[i + 1]) max[i + 1] = v1;
      if (v2 > max[i + 2]) max[i + 2] = v2;
      if (v3 > max[i + 3]) max[i + 3] = v3;
    }
    return true;
  }
  let i = 0;
  let p = HLL_HDR_SIZE;
  while (p < len) {
    const op = buf[p];
    if ((op & 0xc0) === 0) {
      i += (op & 0x3f) + 1;
      p++;
    } else if ((op & 0xc0) === 0x40) {
      i += (((op & 0x3f) << 8) | (p + 1 < len ? buf[p + 1] : 0)) + 1;
      p += 2;
    } else {
      let run = (op & 3) + 1;
      const val = ((op >> 2) & 0x1f) + 1;
      if (run + i > HLL_REGISTERS) break;
      for (; run > 0; run--, i++) if (val > max[i]) max[i] = val;
      p++;
    }
  }
  return i === HLL_REGISTERS;
}

/** PFDEBUG DECODE's text of a sparse HLL: "Z:16384", "z:3 v:2,1 ...". */
export function decodeSparse(buf: Uint8Array, len: number): string {
  const parts: string[] = [];
  let p = HLL_HDR_SIZE;
  while (p < len) {
    const op = buf[p];
    if ((op & 0xc0) === 0) {
      parts.push(`z:${(op & 0x3f) + 1}`);
      p++;
    } else if ((op & 0xc0) === 0x40) {
      parts.push(`Z:${(((op & 0x3f) << 8) | (p + 1 < len ? buf[p + 1] : 0)) + 1}`);
      p += 2;
    } else {
      parts.push(`v:${((op >> 2) & 0x1f) + 1},${(op & 3) + 1}`);
      p++;
    }
  }
  return parts.join(' ');
}
