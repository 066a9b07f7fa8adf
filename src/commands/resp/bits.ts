// RESP bitmap commands with Redis 7.0's semantics: SETBIT, GETBIT, BITCOUNT,
// BITPOS, BITOP, BITFIELD and BITFIELD_RO. Bit 0 is the most significant bit
// of the first byte; a string reads as if followed by endless zero bytes.
//
// Writes (SETBIT, BITFIELD) turn the key's string into a Bytes (src/store/bytes.ts)
// and change it in place, so SETBIT is O(1) as in Redis rather than a copy of
// the whole string; reads take either form without converting it. Argument
// checks come in Redis 7.0's order (BITCOUNT, for one, looks the key up before
// it parses its range, so a missing key answers 0 whatever the range says).

import type { ReplyWriter } from '../../protocol/reply.js';
import { Bytes, MAX_BYTES_LENGTH } from '../../store/bytes.js';
import type { Keyspace } from '../../store/keyspace.js';
import { NOT_INTEGER, SYNTAX, parseInt64, wrongType } from '../args.js';
import { KEY1, WRONG, err, isOpt, maxBulkLen } from '../common.js';
import type { CommandContext, CommandSpec } from '../types.js';
import { notify, NOTIFY_GENERIC, NOTIFY_STRING } from '../notify.js';
import { growthAdmitted } from '../../servers/heap.js';
import { OOM_ERROR } from '../../servers/memory.js';

const BAD_OFFSET = 'ERR bit offset is not an integer or out of range';
const BAD_BIT = 'ERR bit is not an integer or out of range';
const BAD_TYPE = 'ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.';
const TOO_BIG = 'ERR string exceeds maximum allowed size (proto-max-bulk-len)';

type Bits = string | Bytes;

/** Redis compares option names with strcasecmp, which stops at a NUL byte. */
function cstr(s: string): string {
  const nul = s.indexOf('\0');
  return nul < 0 ? s : s.slice(0, nul);
}

function optIs(arg: string, lower: string): boolean {
  return isOpt(cstr(arg), lower);
}

/** The key's string in either form, undefined if missing; WRONG after WRONGTYPE. */
function readBits(store: Keyspace, key: string, w: ReplyWriter): Bits | undefined | typeof WRONG {
  const v = store.getRaw(key);
  if (v === undefined || typeof v === 'string' || v instanceof Bytes) return v;
  wrongType(w);
  return WRONG;
}

/** Byte i of the string, 0 past its end. */
function byteAt(v: Bits, i: number): number {
  if (typeof v !== 'string') return v.at(i);
  return i < v.length ? v.charCodeAt(i) : 0;
}

/**
 * Bytes [start, end) of v in pieces: views of a Bytes, copies of a string in
 * slices of at most 1 MB (so a long string is never copied whole).
 */
function* chunks(v: Bits, start: number, end: number): Generator<[Uint8Array, number]> {
  if (typeof v !== 'string') {
    yield [v.buf.subarray(start, end), start];
    return;
  }
  const STEP = 1 << 20;
  for (let at = start; at < end; at += STEP) {
    const stop = Math.min(end, at + STEP);
    yield [Buffer.from(v.slice(at, stop), 'latin1'), at];
  }
}

/**
 * Redis's getBitOffsetFromArgument: a bit offset, or with `hashBits` > 0 and a
 * leading '#', that many fields of hashBits bits (BITFIELD). Offsets whose
 * byte is at or past proto-max-bulk-len are refused. null: the caller writes BAD_OFFSET.
 */
function parseBitOffset(arg: string, hashBits: number, maxBulk: number): number | null {
  const hash = hashBits > 0 && arg.charCodeAt(0) === 35; // '#'
  const v = parseInt64(hash ? arg.slice(1) : arg);
  if (v === null) return null;
  if (!hash && typeof v === 'number') return v < 0 || Math.floor(v / 8) >= maxBulk ? null : v;
  // C multiplies in int64 (wrapping on overflow), then checks the sign.
  const off = BigInt.asIntN(64, BigInt(v) * BigInt(hash ? hashBits : 1));
  if (off < 0n || off >> 3n >= BigInt(maxBulk)) return null;
  return Number(off);
}

/**
 * Redis's lookupStringForBitCommand: the key's string as Bytes at least
 * `length` bytes long (created or zero-padded as needed), or null after
 * writing WRONGTYPE or, past the longest string V8 can hold, TOO_BIG.
 */
/** Set by bytesForWrite: the string was created or grown (Redis's `dirty`: a write then notifies even if no bit changed). */
let grew = false;

function bytesForWrite(store: Keyspace, key: string, length: number, w: ReplyWriter): Bytes | null {
  grew = false;
  const v = store.getRaw(key);
  if (v !== undefined && typeof v !== 'string' && !(v instanceof Bytes)) {
    wrongType(w);
    return null;
  }
  if (length > MAX_BYTES_LENGTH) {
    err(w, TOO_BIG);
    return null;
  }
  // Growing the string must keep the server below its memory limit (src/servers/heap.ts).
  if (length > (v === undefined ? 0 : v.length) && !growthAdmitted(length)) {
    err(w, OOM_ERROR);
    return null;
  }
  if (v instanceof Bytes) {
    if (length > v.length) {
      v.growTo(length);
      store.put(key, v); // tell the keyspace's listeners it changed
      grew = true;
    }
    return v;
  }
  grew = v === undefined || length > v.length;
  const b = v === undefined ? Bytes.zeros(length) : Bytes.fromString(v);
  b.growTo(length);
  store.put(key, b); // keeps the TTL: the value changes in place, as in Redis
  return b;
}

// ---- counting and searching ----

const POPCOUNT8 = new Uint8Array(256);
for (let i = 1; i < 256; i++) POPCOUNT8[i] = (i & 1) + POPCOUNT8[i >> 1];

function popcount32(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return Math.imul((x + (x >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24;
}

/** Set bits in bytes [start, end) of v. */
function countBytes(v: Bits, start: number, end: number): number {
  let n = 0;
  for (const [c] of chunks(v, start, end)) {
    let i = 0;
    const len = c.length;
    // Four bytes at a time where the chunk is 4-aligned in its buffer.
    if (len >= 64 && c.byteOffset % 4 === 0) {
      const words = new Uint32Array(c.buffer, c.byteOffset, len >>> 2);
      for (let k = 0; k < words.length; k++) n += popcount32(words[k]);
      i = words.length * 4;
    }
    for (; i < len; i++) n += POPCOUNT8[c[i]];
  }
  return n;
}

/** Set bits in the bit range [from, to] (inclusive, within the string). */
function countBits(v: Bits, from: number, to: number): number {
  const first = Math.floor(from / 8);
  const last = Math.floor(to / 8);
  let n = countBytes(v, first, last + 1);
  // Take off the bits of the edge bytes that lie outside the range.
  const headMask = (0xff00 >> from % 8) & 0xff; // bits before `from`
  const tailMask = 0xff >> ((to % 8) + 1); // bits after `to`
  n -= POPCOUNT8[byteAt(v, first) & headMask];
  n -= POPCOUNT8[byteAt(v, last) & tailMask];
  return n;
}

/** The position of the first bit equal to `bit` in the bit range [from, to] (inclusive), or -1. */
function findBit(v: Bits, from: number, to: number, bit: 0 | 1): number {
  let pos = from;
  // Leading bits up to a byte boundary.
  for (; pos <= to && pos % 8 !== 0; pos++) if (((byteAt(v, Math.floor(pos / 8)) >> (7 - (pos % 8))) & 1) === bit) return pos;
  if (pos > to) return -1;
  // Whole bytes: skip those with no such bit.
  const skip = bit === 1 ? 0 : 0xff;
  const wholeEnd = Math.floor((to + 1) / 8);
  for (const [c, at] of chunks(v, pos / 8, Math.max(pos / 8, wholeEnd))) {
    for (let i = 0; i < c.length; i++) {
      const b = c[i];
      if (b !== skip) return (at + i) * 8 + Math.clz32(bit === 1 ? b : ~b & 0xff) - 24;
    }
  }
  // Trailing bits of a last, partial byte.
  for (pos = Math.max(pos, wholeEnd * 8); pos <= to; pos++) {
    if (((byteAt(v, Math.floor(pos / 8)) >> (7 - (pos % 8))) & 1) === bit) return pos;
  }
  return -1;
}

/**
 * BITCOUNT's and BITPOS's range: negative indexes count from the end, then
 * both are clamped into [0, total - 1]; null when nothing is left.
 */
function clampRange(start: bigint, end: bigint, total: number): [number, number] | null {
  const t = BigInt(total);
  if (start < 0n) start += t;
  if (end < 0n) end += t;
  if (start < 0n) start = 0n;
  if (end < 0n) end = 0n;
  if (end >= t) end = t - 1n;
  if (start > end) return null;
  return [Number(start), Number(end)];
}

/** BIT or BYTE (strcasecmp); null if neither. */
function unitIsBit(arg: string): boolean | null {
  if (optIs(arg, 'bit')) return true;
  if (optIs(arg, 'byte')) return false;
  return null;
}

// ---- BITFIELD's integers ----

interface FieldType {
  signed: boolean;
  bits: number;
}

/** i1..i64 or u1..u63 (the letter is case-sensitive; the width is read up to a NUL). */
function parseFieldType(arg: string): FieldType | null {
  const sign = arg.charCodeAt(0);
  if (sign !== 105 && sign !== 117) return null; // 'i', 'u'
  const n = parseInt64(cstr(arg.slice(1)));
  if (n === null || typeof n !== 'number') return null;
  const signed = sign === 105;
  if (n < 1 || n > (signed ? 64 : 63)) return null;
  return { signed, bits: n };
}

/** The unsigned integer of `bits` bits at bit offset `off`, bits past the string's end being 0. */
function getField(v: Bits | undefined, off: number, bits: number): bigint {
  let hi = 0;
  let lo = 0;
  for (let j = 0; j < bits; j++) {
    const p = off + j;
    const b = v === undefined ? 0 : (byteAt(v, Math.floor(p / 8)) >> (7 - (p % 8))) & 1;
    hi = ((hi << 1) | (lo >>> 31)) >>> 0;
    lo = ((lo << 1) | b) >>> 0;
  }
  return (BigInt(hi) << 32n) | BigInt(lo);
}

/** Writes the low `bits` bits of value at bit offset `off` (the Bytes is long enough). */
function setField(b: Bytes, off: number, bits: number, value: bigint): void {
  const u = BigInt.asUintN(64, value);
  const hi = Number(u >> 32n);
  const lo = Number(u & 0xffffffffn);
  for (let j = 0; j < bits; j++) {
    const k = bits - 1 - j; // bit k of value, most significant first
    const bit = k < 32 ? (lo >>> k) & 1 : (hi >>> (k - 32)) & 1;
    const p = off + j;
    const i = Math.floor(p / 8);
    const mask = 1 << (7 - (p % 8));
    b.buf[i] = bit ? b.buf[i] | mask : b.buf[i] & ~mask;
  }
  b.changed();
}

const WRAP = 0;
const SAT = 1;
const FAIL = 2;

/**
 * Redis's check{Signed,Unsigned}BitfieldOverflow, including its int64
 * arithmetic: the value to store for `value + incr` in a field of this type
 * under the overflow mode, or null when it overflows under FAIL. SET passes
 * its argument as `value` with incr 0 (an unsigned SET reads the int64 as a
 * uint64 first, so -1 saturates to the maximum). The C code compares incr
 * against max - value and min - value computed in wrapping int64, and that
 * wrap is part of the behaviour: SET i22 with -2^63 under SAT stores the
 * maximum, not the minimum. So those differences are wrapped here too.
 */
function fitField(t: FieldType, value: bigint, incr: bigint, mode: number): bigint | null {
  const { bits } = t;
  let over = 0;
  let max: bigint;
  let min: bigint;
  if (t.signed) {
    max = bits === 64 ? INT64_MAX : (1n << BigInt(bits - 1)) - 1n;
    min = -max - 1n;
    const maxIncr = BigInt.asIntN(64, max - value);
    const minIncr = BigInt.asIntN(64, min - value);
    if (value > max || (bits !== 64 && incr > maxIncr) || (value >= 0n && incr > 0n && incr > maxIncr)) over = 1;
    else if (value < min || (bits !== 64 && incr < minIncr) || (value < 0n && incr < 0n && incr < minIncr)) over = -1;
  } else {
    max = (1n << BigInt(bits)) - 1n;
    min = 0n;
    const maxIncr = BigInt.asIntN(64, max - value);
    const minIncr = BigInt.asIntN(64, -value);
    if (value > max || (incr > 0n && incr > maxIncr)) over = 1;
    else if (incr < 0n && incr < minIncr) over = -1;
  }
  const sum = BigInt.asUintN(64, value + incr);
  if (over === 0) return t.signed ? BigInt.asIntN(64, sum) : sum;
  if (mode === FAIL) return null;
  if (mode === SAT) return over > 0 ? max : min;
  return t.signed ? BigInt.asIntN(bits, sum) : BigInt.asUintN(bits, sum);
}

const INT64_MAX = (1n << 63n) - 1n;

interface FieldOp {
  op: 'get' | 'set' | 'incrby';
  type: FieldType;
  offset: number;
  arg: bigint;
  overflow: number;
}

/** BITFIELD and BITFIELD_RO (readOnly: only GET is allowed). */
function bitfield(args: string[], w: ReplyWriter, ctx: CommandContext, maxBulk: number, readOnly: boolean): void {
  const { store } = ctx;
  const ops: FieldOp[] = [];
  let overflow = WRAP;
  let writes = false;
  let highest = 0; // the last bit a write reaches
  for (let j = 2; j < args.length; j++) {
    const rem = args.length - j - 1;
    const sub = args[j];
    let op: FieldOp['op'];
    if (optIs(sub, 'get') && rem >= 2) op = 'get';
    else if (optIs(sub, 'set') && rem >= 3) op = 'set';
    else if (optIs(sub, 'incrby') && rem >= 3) op = 'incrby';
    else if (optIs(sub, 'overflow') && rem >= 1) {
      const mode = args[++j];
      if (optIs(mode, 'wrap')) overflow = WRAP;
      else if (optIs(mode, 'sat')) overflow = SAT;
      else if (optIs(mode, 'fail')) overflow = FAIL;
      else return err(w, 'ERR Invalid OVERFLOW type specified');
      continue;
    } else return err(w, SYNTAX);
    const type = parseFieldType(args[j + 1]);
    if (type === null) return err(w, BAD_TYPE);
    const offset = parseBitOffset(args[j + 2], type.bits, maxBulk);
    if (offset === null) return err(w, BAD_OFFSET);
    let arg = 0n;
    if (op !== 'get') {
      writes = true;
      highest = Math.max(highest, offset + type.bits - 1);
      const v = parseInt64(args[j + 3]);
      if (v === null) return err(w, NOT_INTEGER);
      arg = BigInt(v);
    }
    ops.push({ op, type, offset, arg, overflow });
    j += op === 'get' ? 2 : 3;
  }

  let v: Bits | undefined;
  let target: Bytes | null = null;
  if (!writes) {
    const r = readBits(store, args[1], w);
    if (r === WRONG) return;
    v = r;
  } else {
    if (readOnly) return err(w, 'ERR BITFIELD_RO only supports the GET subcommand');
    target = bytesForWrite(store, args[1], Math.floor(highest / 8) + 1, w);
    if (target === null) return;
    v = target;
  }

  w.arr(ops.length);
  let changed = false;
  const dirty = target !== null && grew;
  let notifies = false;
  for (const o of ops) {
    const { signed, bits } = o.type;
    const raw = getField(v, o.offset, bits);
    const old = signed ? BigInt.asIntN(bits, raw) : raw;
    if (o.op === 'get') {
      w.int(old);
      continue;
    }
    // An unsigned SET takes its int64 argument as a uint64, as C's cast does.
    const next =
      o.op === 'incrby'
        ? fitField(o.type, old, o.arg, o.overflow)
        : fitField(o.type, signed ? o.arg : BigInt.asUintN(64, o.arg), 0n, o.overflow);
    if (next === null) {
      w.nil();
      continue;
    }
    w.int(o.op === 'incrby' ? next : old);
    if (next !== old) {
      setField(target!, o.offset, bits, next);
      changed = true;
    }
    if (next !== old || dirty) notifies = true;
  }
  if (changed) store.put(args[1], target!);
  if (notifies) notify(ctx, NOTIFY_STRING, 'setbit', args[1]);
}

// ---- BITOP ----

/** A source's bytes as a Uint8Array (a view of a Bytes, a copy of a string). */
function arrayOf(v: Bits): Uint8Array {
  return typeof v === 'string' ? Buffer.from(v, 'latin1') : v.buf.subarray(0, v.length);
}

function bitop(args: string[], w: ReplyWriter, ctx: CommandContext): void {
  const { store } = ctx;
  const name = cstr(args[1]);
  let op: 'and' | 'or' | 'xor' | 'not';
  if (isOpt(name, 'and')) op = 'and';
  else if (isOpt(name, 'or')) op = 'or';
  else if (isOpt(name, 'xor')) op = 'xor';
  else if (isOpt(name, 'not')) op = 'not';
  else return err(w, SYNTAX);
  if (op === 'not' && args.length !== 4) return err(w, 'ERR BITOP NOT must be called with a single source key.');

  const srcs: Uint8Array[] = [];
  let maxLen = 0;
  for (let i = 3; i < args.length; i++) {
    const v = readBits(store, args[i], w);
    if (v === WRONG) return;
    const a = v === undefined ? new Uint8Array(0) : arrayOf(v);
    srcs.push(a);
    if (a.length > maxLen) maxLen = a.length;
  }
  const dst = args[2];
  if (maxLen === 0) {
    if (store.delete(dst)) notify(ctx, NOTIFY_GENERIC, 'del', dst);
    return w.int(0);
  }
  // Missing bytes of a shorter source read as zeros.
  const res = new Uint8Array(maxLen);
  res.set(srcs[0]);
  if (op === 'not') {
    for (let i = 0; i < maxLen; i++) res[i] = ~res[i] & 0xff;
  } else {
    for (let k = 1; k < srcs.length; k++) {
      const s = srcs[k];
      const n = s.length;
      if (op === 'and') {
        for (let i = 0; i < n; i++) res[i] &= s[i];
        res.fill(0, n);
      } else if (op === 'or') {
        for (let i = 0; i < n; i++) res[i] |= s[i];
      } else {
        for (let i = 0; i < n; i++) res[i] ^= s[i];
      }
    }
  }
  store.replace(dst, Bytes.wrap(res)); // as SET: the destination's TTL goes
  notify(ctx, NOTIFY_STRING, 'set', dst);
  w.int(maxLen);
}

// ---- the commands ----

export const respBitCommands: CommandSpec[] = [
  {
    name: 'setbit',
    arity: 4,
    flags: ['write', 'denyoom'],
    ...KEY1,
    run(args, w, ctx) {
      const { store, server } = ctx;
      const off = parseBitOffset(args[2], 0, maxBulkLen(server.config));
      if (off === null) return err(w, BAD_OFFSET);
      const on = parseInt64(args[3]);
      if (on !== 0 && on !== 1) return err(w, BAD_BIT);
      const byte = Math.floor(off / 8);
      const b = bytesForWrite(store, args[1], byte + 1, w);
      if (b === null) return;
      const mask = 1 << (7 - (off % 8));
      const old = b.buf[byte] & mask ? 1 : 0;
      if (old !== on) {
        b.buf[byte] = on ? b.buf[byte] | mask : b.buf[byte] & ~mask;
        b.changed();
        store.put(args[1], b); // tell the keyspace's listeners it changed
      }
      if (old !== on || grew) notify(ctx, NOTIFY_STRING, 'setbit', args[1]);
      w.int(old);
    },
  },
  {
    name: 'getbit',
    arity: 3,
    flags: ['readonly', 'fast'],
    ...KEY1,
    run(args, w, { store, server }) {
      const off = parseBitOffset(args[2], 0, maxBulkLen(server.config));
      if (off === null) return err(w, BAD_OFFSET);
      const v = readBits(store, args[1], w);
      if (v === WRONG) return;
      if (v === undefined) return w.int(0);
      w.int((byteAt(v, Math.floor(off / 8)) >> (7 - (off % 8))) & 1);
    },
  },
  {
    name: 'bitcount',
    arity: -2,
    flags: ['readonly'],
    ...KEY1,
    run(args, w, { store }) {
      // Redis 7.0 looks the key up first: a missing key is 0 whatever follows.
      const v = readBits(store, args[1], w);
      if (v === WRONG) return;
      if (v === undefined) return w.int(0);
      const len = v.length;
      if (args.length === 2) return w.int(countBytes(v, 0, len));
      if (args.length !== 4 && args.length !== 5) return err(w, SYNTAX);
      const s = parseInt64(args[2]);
      if (s === null) return err(w, NOT_INTEGER);
      const e = parseInt64(args[3]);
      if (e === null) return err(w, NOT_INTEGER);
      const start = BigInt(s);
      const end = BigInt(e);
      if (start < 0n && end < 0n && start > end) return w.int(0);
      let isBit = false;
      if (args.length === 5) {
        const u = unitIsBit(args[4]);
        if (u === null) return err(w, SYNTAX);
        isBit = u;
      }
      const range = clampRange(start, end, isBit ? len * 8 : len);
      if (range === null) return w.int(0);
      w.int(isBit ? countBits(v, range[0], range[1]) : countBytes(v, range[0], range[1] + 1));
    },
  },
  {
    name: 'bitpos',
    arity: -3,
    flags: ['readonly'],
    ...KEY1,
    run(args, w, { store }) {
      const b = parseInt64(args[2]);
      if (b === null) return err(w, NOT_INTEGER);
      if (b !== 0 && b !== 1) return err(w, 'ERR The bit argument must be 1 or 0.');
      const bit = b as 0 | 1;
      // A missing key is endless zeros: the first 0 is at 0, there is no 1.
      const v = readBits(store, args[1], w);
      if (v === WRONG) return;
      if (v === undefined) return w.int(bit ? -1 : 0);
      const len = v.length;
      let start = 0n;
      let end = BigInt(len - 1);
      let isBit = false;
      let endGiven = false;
      if (args.length >= 4 && args.length <= 6) {
        const s = parseInt64(args[3]);
        if (s === null) return err(w, NOT_INTEGER);
        start = BigInt(s);
        if (args.length === 6) {
          const u = unitIsBit(args[5]);
          if (u === null) return err(w, SYNTAX);
          isBit = u;
        }
        if (args.length >= 5) {
          const e = parseInt64(args[4]);
          if (e === null) return err(w, NOT_INTEGER);
          end = BigInt(e);
          endGiven = true;
        }
      } else if (args.length !== 3) return err(w, SYNTAX);
      const range = clampRange(start, end, isBit ? len * 8 : len);
      // An empty range holds neither a 0 nor a 1 (so an empty string answers -1 for both).
      if (range === null) return w.int(-1);
      const [from, to] = isBit ? range : [range[0] * 8, range[1] * 8 + 7];
      const pos = findBit(v, from, to, bit);
      // Looking for a 0 without an explicit end, the string counts as zero-padded on the right.
      if (pos === -1 && bit === 0 && !endGiven) return w.int(to + 1);
      w.int(pos);
    },
  },
  {
    name: 'bitop',
    arity: -4,
    flags: ['write', 'denyoom'],
    firstKey: 2,
    lastKey: -1,
    keyStep: 1,
    run(args, w, ctx) {
      bitop(args, w, ctx);
    },
  },
  {
    name: 'bitfield',
    arity: -2,
    flags: ['write', 'denyoom'],
    ...KEY1,
    run(args, w, ctx) {
      bitfield(args, w, ctx, maxBulkLen(ctx.server.config), false);
    },
  },
  {
    name: 'bitfield_ro',
    arity: -2,
    flags: ['readonly', 'fast'],
    ...KEY1,
    run(args, w, ctx) {
      bitfield(args, w, ctx, maxBulkLen(ctx.server.config), true);
    },
  },
];
