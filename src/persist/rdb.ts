// Redis's RDB format, version 10 (Redis 7.0): the file SAVE writes and the
// server loads at start-up, and the DUMP/RESTORE payload (one value, then the
// RDB version and a CRC-64). No command or socket knowledge: it turns a
// keyspace into bytes and bytes back into values.
//
// Writing, values take the encodings redis-server 7.0 gives a value built the
// ordinary way (Redis's default thresholds), so a DUMP of the same value is
// byte-identical to redis-server's and redis-server loads our files as its own:
//   string  RDB_TYPE_STRING: integer-encoded when it is a canonical int32,
//           LZF-compressed when longer than 20 bytes (rdbcompression), else raw;
//   list    LIST_QUICKLIST_2: listpack nodes filled up to 8 KiB (list-max-listpack-size -2);
//   set     SET_INTSET when every member is an integer and there are ≤ 512, else SET;
//   zset    ZSET_LISTPACK when ≤ 128 members of ≤ 64 bytes, else ZSET_2 (highest first, as Redis);
//   hash    HASH_LISTPACK when ≤ 128 fields, fields and values ≤ 64 bytes, else HASH.
// Reading takes all of that plus the older encodings redis-server 7.0 still
// loads (plain LIST/ZSET, ziplists, quicklists of ziplists, EXPIRETIME in
// seconds). Streams, modules and functions are refused by name; so is any
// database but 0 (redloop has one). Anything malformed or cut short is an
// RdbError naming the byte offset; nothing a file holds can crash the reader.

import { performance } from 'node:perf_hooks';
import { constants as bufferConstants } from 'node:buffer';
import { Bytes } from '../store/bytes.js';
import { Keyspace, List, Stream, ZSet, type Stored, type Value } from '../store/keyspace.js';
import { Crc64 } from './crc64.js';
import { lzfCompress, lzfDecompress, LzfError } from './lzf.js';
import {
  CompactError,
  ListpackBuilder,
  canonicalInt,
  decodeIntset,
  decodeListpack,
  decodeZiplist,
  encodeIntset,
} from './compact.js';

export const RDB_VERSION = 10;

/** Value types (the byte before a key). */
export const T = {
  STRING: 0,
  LIST: 1,
  SET: 2,
  ZSET: 3,
  HASH: 4,
  ZSET_2: 5,
  MODULE_PRE_GA: 6,
  MODULE_2: 7,
  HASH_ZIPMAP: 9,
  LIST_ZIPLIST: 10,
  SET_INTSET: 11,
  ZSET_ZIPLIST: 12,
  HASH_ZIPLIST: 13,
  LIST_QUICKLIST: 14,
  STREAM_LISTPACKS: 15,
  HASH_LISTPACK: 16,
  ZSET_LISTPACK: 17,
  LIST_QUICKLIST_2: 18,
  STREAM_LISTPACKS_2: 19,
} as const;

/** Opcodes between keys. */
const OP = {
  FUNCTION2: 0xf5,
  FUNCTION_PRE_GA: 0xf6,
  MODULE_AUX: 0xf7,
  IDLE: 0xf8,
  FREQ: 0xf9,
  AUX: 0xfa,
  RESIZEDB: 0xfb,
  EXPIRETIME_MS: 0xfc,
  EXPIRETIME: 0xfd,
  SELECTDB: 0xfe,
  EOF: 0xff,
} as const;

/** Redis 7.0's default encoding thresholds (redloop has no such settings: they only shape the file). */
export const LIMITS = {
  hashListpackEntries: 128,
  hashListpackValue: 64,
  zsetListpackEntries: 128,
  zsetListpackValue: 64,
  setIntsetEntries: 512,
  /** list-max-listpack-size -2: a quicklist node's listpack stays within 8 KiB. */
  listNodeBytes: 8192,
} as const;

/** quicklist node containers. */
const QUICKLIST_PLAIN = 1;
const QUICKLIST_PACKED = 2;

const MAX_STRING = bufferConstants.MAX_STRING_LENGTH;

export interface WriteOptions {
  /** rdbcompression: LZF strings longer than 20 bytes. */
  compression: boolean;
}

/** A malformed or truncated RDB file or DUMP payload, at a byte offset. */
export class RdbError extends Error {
  constructor(
    readonly reason: string,
    readonly offset: number,
  ) {
    super(`${reason} (at byte offset ${offset})`);
  }
}

// =================================================================== writing

/** A growable output buffer; a sink, when given, takes full chunks as they are ready (a file). */
class Out {
  buf = new Uint8Array(1 << 16);
  view = Buffer.from(this.buf.buffer);
  pos = 0;
  readonly crc = new Crc64();

  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.pos + n) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
    this.view = Buffer.from(next.buffer);
  }

  u8(b: number): void {
    this.ensure(1);
    this.buf[this.pos++] = b;
  }

  raw(b: Uint8Array): void {
    this.ensure(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }

  latin1(s: string): void {
    this.ensure(s.length);
    this.pos += this.view.write(s, this.pos, 'latin1');
  }

  /** rdbSaveLen: 6-bit, 14-bit, 32-bit or 64-bit big-endian length. */
  len(n: number): void {
    this.ensure(9);
    const b = this.buf;
    if (n < 64) b[this.pos++] = n;
    else if (n < 16384) {
      b[this.pos++] = 0x40 | (n >> 8);
      b[this.pos++] = n & 0xff;
    } else if (n <= 0xffffffff) {
      b[this.pos++] = 0x80;
      this.view.writeUInt32BE(n, this.pos);
      this.pos += 4;
    } else {
      b[this.pos++] = 0x81;
      this.view.writeBigUInt64BE(BigInt(n), this.pos);
      this.pos += 8;
    }
  }

  int64LE(n: number): void {
    this.ensure(8);
    this.view.writeBigInt64LE(BigInt(n), this.pos);
    this.pos += 8;
  }

  doubleLE(d: number): void {
    this.ensure(8);
    this.view.writeDoubleLE(d, this.pos);
    this.pos += 8;
  }

  /** Hands everything written so far to sink (CRC updated), and starts over. */
  drain(sink: (chunk: Uint8Array) => void): void {
    if (this.pos === 0) return;
    this.crc.update(this.buf, 0, this.pos);
    sink(this.buf.subarray(0, this.pos));
    this.pos = 0;
  }
}

/** rdbEncodeInteger: an int32 in the smallest of the 1-, 2- and 4-byte forms. */
function writeIntEncoded(out: Out, v: number): void {
  out.ensure(5);
  if (v >= -128 && v <= 127) {
    out.buf[out.pos++] = 0xc0;
    out.view.writeInt8(v, out.pos);
    out.pos += 1;
  } else if (v >= -32768 && v <= 32767) {
    out.buf[out.pos++] = 0xc1;
    out.view.writeInt16LE(v, out.pos);
    out.pos += 2;
  } else {
    out.buf[out.pos++] = 0xc2;
    out.view.writeInt32LE(v, out.pos);
    out.pos += 4;
  }
}

/** rdbSaveRawString for a binary string: integer form, LZF, or length + bytes. */
function writeString(out: Out, s: string, opts: WriteOptions): void {
  const n = s.length;
  if (n <= 11) {
    const v = canonicalInt(s);
    if (typeof v === 'number' && v >= -2147483648 && v <= 2147483647) return writeIntEncoded(out, v);
  }
  if (opts.compression && n > 20 && writeLzf(out, Buffer.from(s, 'latin1'))) return;
  out.len(n);
  out.latin1(s);
}

/** rdbSaveRawString for bytes (a listpack blob, a Bytes value). */
function writeBlob(out: Out, b: Uint8Array, opts: WriteOptions): void {
  const n = b.length;
  if (n <= 11) {
    const s = Buffer.from(b.buffer, b.byteOffset, n).toString('latin1');
    const v = canonicalInt(s);
    if (typeof v === 'number' && v >= -2147483648 && v <= 2147483647) return writeIntEncoded(out, v);
  }
  if (opts.compression && n > 20 && writeLzf(out, b)) return;
  out.len(n);
  out.raw(b);
}

/** rdbSaveLzfStringObject: false when compression would not save at least 4 bytes. */
function writeLzf(out: Out, b: Uint8Array): boolean {
  const packed = lzfCompress(b, b.length - 4);
  if (packed === null) return false;
  out.u8(0xc3);
  out.len(packed.length);
  out.len(b.length);
  out.raw(packed);
  return true;
}

/**
 * Thrown for a value the writer has no RDB encoding for (a stream): SAVE fails
 * with this message (logged, `-ERR` to the client) and the old file stays;
 * DUMP answers an error. Nothing is ever written half.
 */
export class RdbUnsupportedError extends Error {}

/** The RDB type redis-server 7.0 would save this value as (see the header). */
export function rdbTypeOf(v: Stored): number {
  if (v instanceof Stream) throw new RdbUnsupportedError('cannot write a stream: redloop has no RDB encoding for streams (type 19)');
  if (typeof v === 'string' || v instanceof Bytes) return T.STRING;
  if (v instanceof List) return T.LIST_QUICKLIST_2;
  if (v instanceof Set) {
    if (v.size > LIMITS.setIntsetEntries) return T.SET;
    for (const m of v) if (canonicalInt(m) === null) return T.SET;
    return T.SET_INTSET;
  }
  if (v instanceof Map) {
    if (v.size > LIMITS.hashListpackEntries) return T.HASH;
    for (const [f, x] of v) if (f.length > LIMITS.hashListpackValue || x.length > LIMITS.hashListpackValue) return T.HASH;
    return T.HASH_LISTPACK;
  }
  if (v.size > LIMITS.zsetListpackEntries) return T.ZSET_2;
  for (const e of v.byInsertion()) if (e.name.length > LIMITS.zsetListpackValue) return T.ZSET_2;
  return T.ZSET_LISTPACK;
}

/** %.17g as Redis 7.0's d2string writes a score into a listpack (integers without a fraction). */
function scoreString(d: number): string {
  if (d === Infinity) return 'inf';
  if (d === -Infinity) return '-inf';
  if (Number.isInteger(d) && Math.abs(d) < 1e17) return Object.is(d, -0) ? '-0' : String(d);
  const e = d.toExponential(16);
  const m = /^(-?)(\d)\.(\d+)e([+-]\d+)$/.exec(e)!;
  const sign = m[1];
  const digits = m[2] + m[3];
  const x = Number(m[4]);
  const trim = (s: string): string => s.replace(/0+$/, '');
  if (x < -4 || x >= 17) {
    const frac = trim(digits.slice(1));
    const ax = Math.abs(x);
    return `${sign}${digits[0]}${frac === '' ? '' : '.' + frac}e${x < 0 ? '-' : '+'}${ax < 10 ? '0' : ''}${ax}`;
  }
  if (x >= 0) {
    const frac = trim(digits.slice(x + 1));
    return `${sign}${digits.slice(0, x + 1)}${frac === '' ? '' : '.' + frac}`;
  }
  return `${sign}0.${trim('0'.repeat(-x - 1) + digits)}`;
}

/**
 * quicklist's _quicklistNodeAllowInsert for fill -2, as redis-server 7.0.15
 * decides it: may an element of sz bytes join a node whose listpack has
 * nodeBytes bytes? Redis over-estimates the entry's overhead as 8 bytes
 * (SIZE_ESTIMATE_OVERHEAD); using its estimate splits nodes where it does.
 */
function nodeAllows(nodeBytes: number, sz: number): boolean {
  return nodeBytes + sz + 8 <= LIMITS.listNodeBytes;
}

/** Writes the value (without its type byte) in the encoding `type`, from rdbTypeOf. */
function writeValue(out: Out, v: Stored, type: number, opts: WriteOptions): void {
  switch (type) {
    case T.STRING:
      if (v instanceof Bytes) writeBlob(out, v.buf.subarray(0, v.length), opts);
      else writeString(out, v as string, opts);
      return;
    case T.LIST_QUICKLIST_2: {
      const list = v as List;
      const nodes: Uint8Array[] = [];
      let node: ListpackBuilder | null = null;
      for (let i = 0; i < list.length; i++) {
        const s = list.at(i);
        if (node === null || !nodeAllows(node.bytes, s.length)) {
          if (node !== null) nodes.push(node.build());
          node = new ListpackBuilder();
        }
        node.add(s);
      }
      if (node !== null) nodes.push(node.build());
      out.len(nodes.length);
      for (const lp of nodes) {
        out.len(QUICKLIST_PACKED);
        writeBlob(out, lp, opts);
      }
      return;
    }
    case T.SET_INTSET:
      writeBlob(out, encodeIntset(v as Set<string>), opts);
      return;
    case T.SET:
      out.len((v as Set<string>).size);
      for (const m of v as Set<string>) writeString(out, m, opts);
      return;
    case T.HASH_LISTPACK: {
      const lp = new ListpackBuilder();
      for (const [f, x] of v as Map<string, string>) {
        lp.add(f);
        lp.add(x);
      }
      writeBlob(out, lp.build(), opts);
      return;
    }
    case T.HASH:
      out.len((v as Map<string, string>).size);
      for (const [f, x] of v as Map<string, string>) {
        writeString(out, f, opts);
        writeString(out, x, opts);
      }
      return;
    case T.ZSET_LISTPACK: {
      const lp = new ListpackBuilder();
      for (const e of v as ZSet) {
        lp.add(e.name);
        lp.add(scoreString(e.score));
      }
      writeBlob(out, lp.build(), opts);
      return;
    }
    case T.ZSET_2: {
      const z = v as ZSet;
      out.len(z.size);
      for (const e of z.iterateReverse()) {
        writeString(out, e.name, opts);
        out.doubleLE(e.score);
      }
      return;
    }
  }
  throw new Error(`unreachable: no writer for RDB type ${type}`);
}

/** DUMP's payload: type, value, RDB version (2 bytes LE), CRC-64 of all that (8 bytes LE). */
export function dumpPayload(v: Stored, opts: WriteOptions): Uint8Array {
  const out = new Out();
  const type = rdbTypeOf(v);
  out.u8(type);
  writeValue(out, v, type, opts);
  out.u8(RDB_VERSION & 0xff);
  out.u8(RDB_VERSION >> 8);
  out.crc.update(out.buf, 0, out.pos);
  out.ensure(8);
  out.crc.writeLE(out.buf, out.pos);
  out.pos += 8;
  return out.buf.slice(0, out.pos);
}

/**
 * FUNCTION DUMP's payload (Redis 7.0): each library as RDB_OPCODE_FUNCTION2
 * and its code as an RDB string, then the RDB version (2 bytes LE) and the
 * CRC-64 of all that (8 bytes LE), as DUMP's footer.
 */
export function functionsPayload(codes: readonly string[], opts: WriteOptions): Uint8Array {
  const out = new Out();
  for (const code of codes) {
    out.u8(OP.FUNCTION2);
    writeString(out, code, opts);
  }
  out.u8(RDB_VERSION & 0xff);
  out.u8(RDB_VERSION >> 8);
  out.crc.update(out.buf, 0, out.pos);
  out.ensure(8);
  out.crc.writeLE(out.buf, out.pos);
  out.pos += 8;
  return out.buf.slice(0, out.pos);
}

/** FUNCTION RESTORE's payload: the libraries' code, in order. Throws DumpError with Redis's message. */
export function readFunctionsPayload(payload: Uint8Array): string[] {
  const n = payload.length;
  if (n < 10) throw new DumpError('DUMP payload version or checksum are wrong');
  const version = payload[n - 10] | (payload[n - 9] << 8);
  if (version > RDB_VERSION) throw new DumpError('DUMP payload version or checksum are wrong');
  if (!new Crc64().update(payload, 0, n - 8).equalsLE(payload, n - 8)) throw new DumpError('DUMP payload version or checksum are wrong');
  const r = new Reader(payload.subarray(0, n - 10));
  const codes: string[] = [];
  try {
    while (r.pos < n - 10) {
      const type = r.u8('type');
      if (type !== OP.FUNCTION2) throw new DumpError('given type is not a function');
      codes.push(r.str('library code'));
    }
  } catch (e) {
    if (e instanceof RdbError) throw new DumpError('failed loading the given functions payload');
    throw e;
  }
  return codes;
}

export interface SaveOptions extends WriteOptions {
  /** Function libraries' code, saved before the keys (RDB_OPCODE_FUNCTION2), as Redis 7.0 does. */
  functions?: readonly string[];
  /** rdbchecksum: write the CRC-64 trailer (else 8 zero bytes, which loaders skip). */
  checksum: boolean;
  /** The redis-ver aux field. */
  redisVersion: string;
  /** Unix ms now (the ctime aux field). */
  unixNowMs: number;
  /** Unix ms minus the keyspace's clock (constant for a clock pair): deadlines become unix ms through it. */
  unixOffsetMs: number;
  /** used-mem aux field. */
  usedMem: number;
}

/** Bytes handed to the sink at a time while saving. */
const CHUNK = 1 << 20;

/**
 * Serializes the keyspace as an RDB file, handing the bytes to sink in chunks
 * of about 1 MiB (a sink that copies nothing must consume each chunk before
 * returning). Returns the number of keys written.
 */
export function writeRdb(ks: Keyspace, opts: SaveOptions, sink: (chunk: Uint8Array) => void): number {
  const out = new Out();
  out.latin1(`REDIS${String(RDB_VERSION).padStart(4, '0')}`);
  const aux = (k: string, v: string): void => {
    out.u8(OP.AUX);
    writeString(out, k, opts);
    writeString(out, v, opts);
  };
  aux('redis-ver', opts.redisVersion);
  aux('redis-bits', '64');
  aux('ctime', String(Math.floor(opts.unixNowMs / 1000)));
  aux('used-mem', String(opts.usedMem));
  aux('aof-base', '0');
  for (const code of opts.functions ?? []) {
    out.u8(OP.FUNCTION2);
    writeString(out, code, opts);
  }
  let written = 0;
  if (ks.size > 0) {
    out.u8(OP.SELECTDB);
    out.len(0);
    out.u8(OP.RESIZEDB);
    out.len(ks.size);
    out.len(ks.volatileCount);
    for (const key of ks.keys()) {
      const v = ks.getRaw(key);
      if (v === undefined) continue;
      const d = ks.deadline(key);
      if (d !== undefined) {
        out.u8(OP.EXPIRETIME_MS);
        out.int64LE(Math.round(d + opts.unixOffsetMs));
      }
      const type = rdbTypeOf(v);
      out.u8(type);
      writeString(out, key, opts);
      writeValue(out, v, type, opts);
      written++;
      if (out.pos >= CHUNK) out.drain(sink);
    }
  }
  out.u8(OP.EOF);
  out.drain(sink);
  const trailer = new Uint8Array(8);
  if (opts.checksum) out.crc.writeLE(trailer, 0);
  sink(trailer);
  return written;
}

/** The whole file in one buffer (tests, small keyspaces). */
export function rdbBytes(ks: Keyspace, opts: SaveOptions): Uint8Array {
  const chunks: Uint8Array[] = [];
  writeRdb(ks, opts, (c) => chunks.push(c.slice()));
  return Buffer.concat(chunks);
}

// =================================================================== reading

/** Reads RDB primitives from data, throwing RdbError (with the offset) on anything short or malformed. */
class Reader {
  pos = 0;
  private readonly dv: DataView;

  constructor(readonly data: Uint8Array) {
    this.dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
  }

  fail(reason: string, at = this.pos): never {
    throw new RdbError(reason, at);
  }

  need(n: number, what: string): void {
    if (this.pos + n > this.data.length) {
      this.fail(`truncated: ${what} needs ${n} byte${n === 1 ? '' : 's'}, ${this.data.length - this.pos} left`);
    }
  }

  u8(what: string): number {
    this.need(1, what);
    return this.data[this.pos++];
  }

  /** A length, or the special-encoding marker (encoded: true, len = the encoding 0..3). */
  lenOrEnc(what: string): { len: number; encoded: boolean } {
    const at = this.pos;
    const b = this.u8(what);
    switch (b >> 6) {
      case 0:
        return { len: b & 0x3f, encoded: false };
      case 1:
        return { len: ((b & 0x3f) << 8) | this.u8(what), encoded: false };
      case 2:
        if (b === 0x80) {
          this.need(4, what);
          const n = this.dv.getUint32(this.pos, false);
          this.pos += 4;
          return { len: n, encoded: false };
        }
        if (b === 0x81) {
          this.need(8, what);
          const n = this.dv.getBigUint64(this.pos, false);
          this.pos += 8;
          if (n > BigInt(Number.MAX_SAFE_INTEGER)) this.fail(`${what}: length ${n} is impossible`, at);
          return { len: Number(n), encoded: false };
        }
        return this.fail(`${what}: unknown length encoding 0x${b.toString(16)}`, at);
      default:
        return { len: b & 0x3f, encoded: true };
    }
  }

  len(what: string): number {
    const at = this.pos;
    const r = this.lenOrEnc(what);
    if (r.encoded) this.fail(`${what}: expected a length, found a string encoding`, at);
    return r.len;
  }

  /** A string's bytes (integer forms as their decimal text, LZF expanded). */
  bytes(what: string): Uint8Array {
    const at = this.pos;
    const { len, encoded } = this.lenOrEnc(what);
    if (!encoded) {
      this.need(len, what);
      const b = this.data.subarray(this.pos, this.pos + len);
      this.pos += len;
      return b;
    }
    switch (len) {
      case 0:
        return Buffer.from(String(this.signed(1, what)), 'latin1');
      case 1:
        return Buffer.from(String(this.signed(2, what)), 'latin1');
      case 2:
        return Buffer.from(String(this.signed(4, what)), 'latin1');
      case 3: {
        const clen = this.len(`${what} (compressed length)`);
        const ulen = this.len(`${what} (uncompressed length)`);
        // LZF expands at most ~132x (a 2-byte reference yields ≤ 264 bytes): a bigger claim is corrupt.
        if (ulen > MAX_STRING) this.fail(`${what}: ${ulen} bytes is longer than any string redloop can hold`, at);
        if (ulen > clen * 140 + 64) this.fail(`${what}: ${clen} compressed bytes cannot expand to ${ulen}`, at);
        this.need(clen, what);
        const start = this.pos;
        this.pos += clen;
        try {
          return lzfDecompress(this.data.subarray(start, start + clen), ulen);
        } catch (e) {
          if (e instanceof LzfError) this.fail(`${what}: ${e.message}`, start + e.at);
          throw e;
        }
      }
      default:
        return this.fail(`${what}: unknown string encoding ${len}`, at);
    }
  }

  /** A string as a binary JS string. */
  str(what: string): string {
    const at = this.pos;
    const b = this.bytes(what);
    if (b.length > MAX_STRING) this.fail(`${what}: ${b.length} bytes is longer than any string redloop can hold`, at);
    return Buffer.from(b.buffer, b.byteOffset, b.length).toString('latin1');
  }

  signed(n: 1 | 2 | 4, what: string): number {
    this.need(n, what);
    const v = n === 1 ? this.dv.getInt8(this.pos) : n === 2 ? this.dv.getInt16(this.pos, true) : this.dv.getInt32(this.pos, true);
    this.pos += n;
    return v;
  }

  int64LE(what: string): number {
    this.need(8, what);
    const v = this.dv.getBigInt64(this.pos, true);
    this.pos += 8;
    return Number(v);
  }

  doubleLE(what: string): number {
    this.need(8, what);
    const d = this.dv.getFloat64(this.pos, true);
    this.pos += 8;
    return d;
  }

  /** The old string-encoded double (RDB_TYPE_ZSET): a length byte (253 nan, 254 inf, 255 -inf) and text. */
  textDouble(what: string): number {
    const at = this.pos;
    const n = this.u8(what);
    if (n === 253) return NaN;
    if (n === 254) return Infinity;
    if (n === 255) return -Infinity;
    this.need(n, what);
    const s = Buffer.from(this.data.buffer, this.data.byteOffset + this.pos, n).toString('latin1');
    this.pos += n;
    const d = parseScore(s);
    if (d === null) this.fail(`${what}: '${s}' is not a number`, at);
    return d;
  }

  /** A string holding a compact blob, decoded by decode; errors point into the file. */
  compact(what: string, decode: (b: Uint8Array) => string[]): string[] {
    const at = this.pos;
    const b = this.bytes(what);
    const rawStart = this.pos - b.length; // where the blob's bytes start, if stored as they are
    // Stored as they are, b is a view of the file: offsets inside it are file offsets.
    const inFile = this.data.buffer === b.buffer && b.byteOffset === this.data.byteOffset + rawStart;
    try {
      return decode(b);
    } catch (e) {
      if (e instanceof CompactError) {
        if (inFile) this.fail(`${what}: ${e.message}`, rawStart + e.at);
        this.fail(`${what}: ${e.message} (byte ${e.at} of the decompressed string)`, at);
      }
      throw e;
    }
  }
}

/** A score written as text (old zset encodings, listpack scores): strtod's forms, inf and nan included. */
function parseScore(s: string): number | null {
  if (/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(s)) return Number(s);
  const l = s.toLowerCase();
  if (l === 'inf' || l === '+inf' || l === 'infinity' || l === '+infinity') return Infinity;
  if (l === '-inf' || l === '-infinity') return -Infinity;
  if (l === 'nan' || l === '-nan') return NaN;
  return null;
}

/** Type names for messages about what redloop cannot hold. */
const UNSUPPORTED: Record<number, string> = {
  [T.MODULE_PRE_GA]: 'a module value (type 6): redloop has no modules',
  [T.MODULE_2]: 'a module value (type 7): redloop has no modules',
  [T.HASH_ZIPMAP]: 'a zipmap hash (type 9, Redis < 2.6): not supported',
  [T.STREAM_LISTPACKS]: 'a stream (type 15): redloop reads no streams from RDB',
  [T.STREAM_LISTPACKS_2]: 'a stream (type 19): redloop reads no streams from RDB',
};

export function isKnownType(t: number): boolean {
  return (t >= 0 && t <= 7) || (t >= 9 && t <= 19);
}

/** Reads one value of the given type. Empty collections come back as null (Redis skips such keys). */
function readValue(r: Reader, type: number, typeAt: number): Value | null {
  switch (type) {
    case T.STRING:
      return r.str('string value');
    case T.LIST: {
      const n = r.len('list length');
      const list = new List();
      for (let i = 0; i < n; i++) list.pushBack(r.str('list element'));
      return n === 0 ? null : list;
    }
    case T.SET: {
      const n = r.len('set size');
      const set = new Set<string>();
      for (let i = 0; i < n; i++) {
        const at = r.pos;
        const m = r.str('set member');
        if (set.has(m)) r.fail('duplicate set member', at);
        set.add(m);
      }
      return n === 0 ? null : set;
    }
    case T.ZSET:
    case T.ZSET_2: {
      const n = r.len('zset size');
      const z = new ZSet();
      for (let i = 0; i < n; i++) {
        const at = r.pos;
        const name = r.str('zset member');
        const scoreAt = r.pos;
        const score = type === T.ZSET_2 ? r.doubleLE('zset score') : r.textDouble('zset score');
        if (Number.isNaN(score)) r.fail('zset score is NaN', scoreAt);
        if (z.score(name) !== undefined) r.fail('duplicate zset member', at);
        z.add(name, score);
      }
      return n === 0 ? null : z;
    }
    case T.HASH: {
      const n = r.len('hash size');
      const h = new Map<string, string>();
      for (let i = 0; i < n; i++) {
        const at = r.pos;
        const f = r.str('hash field');
        const x = r.str('hash value');
        if (h.has(f)) r.fail('duplicate hash field', at);
        h.set(f, x);
      }
      return n === 0 ? null : h;
    }
    case T.SET_INTSET: {
      const members = r.compact('intset', decodeIntset);
      return members.length === 0 ? null : new Set(members);
    }
    case T.LIST_ZIPLIST: {
      const items = r.compact('list ziplist', decodeZiplist);
      const list = new List();
      for (const s of items) list.pushBack(s);
      return items.length === 0 ? null : list;
    }
    case T.LIST_QUICKLIST:
    case T.LIST_QUICKLIST_2: {
      const nodes = r.len('quicklist node count');
      const list = new List();
      for (let i = 0; i < nodes; i++) {
        let container = QUICKLIST_PACKED;
        if (type === T.LIST_QUICKLIST_2) {
          const at = r.pos;
          container = r.len('quicklist node container');
          if (container !== QUICKLIST_PACKED && container !== QUICKLIST_PLAIN) r.fail(`quicklist node container ${container} is unknown`, at);
        }
        if (container === QUICKLIST_PLAIN) {
          list.pushBack(r.str('quicklist plain node'));
          continue;
        }
        const at = r.pos;
        const items = r.compact('quicklist node', type === T.LIST_QUICKLIST_2 ? decodeListpack : decodeZiplist);
        if (items.length === 0) r.fail('quicklist node is empty', at);
        for (const s of items) list.pushBack(s);
      }
      return list.length === 0 ? null : list;
    }
    case T.ZSET_ZIPLIST:
    case T.ZSET_LISTPACK: {
      const at = r.pos;
      const items = r.compact('zset listpack', type === T.ZSET_LISTPACK ? decodeListpack : decodeZiplist);
      if (items.length % 2 !== 0) r.fail('zset listpack has an odd number of elements', at);
      const z = new ZSet();
      for (let i = 0; i < items.length; i += 2) {
        const score = parseScore(items[i + 1]);
        if (score === null || Number.isNaN(score)) r.fail(`zset listpack score '${items[i + 1]}' is not a number`, at);
        if (z.score(items[i]) !== undefined) r.fail('duplicate zset member in listpack', at);
        z.add(items[i], score);
      }
      return z.size === 0 ? null : z;
    }
    case T.HASH_ZIPLIST:
    case T.HASH_LISTPACK: {
      const at = r.pos;
      const items = r.compact('hash listpack', type === T.HASH_LISTPACK ? decodeListpack : decodeZiplist);
      if (items.length % 2 !== 0) r.fail('hash listpack has an odd number of elements', at);
      const h = new Map<string, string>();
      for (let i = 0; i < items.length; i += 2) {
        if (h.has(items[i])) r.fail('duplicate hash field in listpack', at);
        h.set(items[i], items[i + 1]);
      }
      return h.size === 0 ? null : h;
    }
  }
  const why = UNSUPPORTED[type];
  return r.fail(why !== undefined ? `cannot load ${why}` : `unknown value type ${type}`, typeAt);
}

/** Why a RESTORE payload was refused, worded as redis-server words it. */
export class DumpError extends Error {}

/**
 * Checks a DUMP payload's footer (RDB version ≤ 10, CRC-64) and decodes its
 * value. Throws DumpError with Redis's message: 'DUMP payload version or
 * checksum are wrong' or 'Bad data format'.
 */
export function restorePayload(payload: Uint8Array): Value {
  const n = payload.length;
  if (n < 10) throw new DumpError('DUMP payload version or checksum are wrong');
  const version = payload[n - 10] | (payload[n - 9] << 8);
  if (version > RDB_VERSION) throw new DumpError('DUMP payload version or checksum are wrong');
  if (!new Crc64().update(payload, 0, n - 8).equalsLE(payload, n - 8)) {
    throw new DumpError('DUMP payload version or checksum are wrong');
  }
  // The value is read from the payload without its footer, so nothing can run into it.
  const r = new Reader(payload.subarray(0, n - 10));
  try {
    const type = r.u8('value type');
    if (!isKnownType(type)) throw new DumpError('Bad data format');
    const v = readValue(r, type, 0);
    if (v === null) throw new DumpError('Bad data format');
    return v;
  } catch (e) {
    if (e instanceof RdbError) throw new DumpError('Bad data format');
    throw e;
  }
}

export interface LoadOptions {
  /** rdbchecksum: verify the trailer (a trailer of zeros means "saved without one" and is never checked). */
  checksum: boolean;
  /** Unix ms now: keys whose expiry has passed are not loaded (as a Redis master does). */
  unixNowMs: number;
  /** Unix ms minus the keyspace's clock: an expiry in unix ms becomes a keyspace deadline through it. */
  unixOffsetMs: number;
}

export interface LoadResult {
  version: number;
  keys: number;
  expiredSkipped: number;
  emptySkipped: number;
  aux: Map<string, string>;
  /** Function libraries' code (RDB_OPCODE_FUNCTION2), for the caller to load. */
  functions: string[];
  /** Whether the CRC was checked (false when the file had none, or rdbchecksum is off). */
  checksumVerified: boolean;
}

/** Unix ms from the monotonic clock (sub-ms precision, as the commands convert TTLs). */
export const unixNowFine = (): number => performance.timeOrigin + performance.now();

/**
 * unixOffsetMs for a keyspace on the default clock (performance.now()): a
 * constant, so a deadline converts to the same unix ms whenever it is read,
 * as PEXPIRETIME reads it.
 */
export const MONOTONIC_UNIX_OFFSET_MS = performance.timeOrigin;

/**
 * Loads an RDB file's keys into ks, which must be empty. All or nothing: the
 * file is parsed and its checksum verified before a key is stored; on an
 * RdbError ks is left empty.
 */
export function loadRdb(data: Uint8Array, ks: Keyspace, opts: LoadOptions): LoadResult {
  if (ks.size !== 0) throw new Error('loadRdb needs an empty keyspace');
  const r = new Reader(data);
  const result: LoadResult = { version: 0, keys: 0, expiredSkipped: 0, emptySkipped: 0, aux: new Map(), functions: [], checksumVerified: false };
  const entries: { key: string; value: Value; expireMs: number; at: number }[] = [];
  try {
    r.need(9, 'the RDB header');
    const magic = Buffer.from(data.buffer, data.byteOffset, 5).toString('latin1');
    if (magic !== 'REDIS') r.fail(`not an RDB file (it starts with ${JSON.stringify(magic)}, not "REDIS")`, 0);
    const verText = Buffer.from(data.buffer, data.byteOffset + 5, 4).toString('latin1');
    if (!/^\d{4}$/.test(verText)) r.fail(`bad RDB version field ${JSON.stringify(verText)}`, 5);
    const version = Number(verText);
    if (version < 1 || version > RDB_VERSION) {
      r.fail(`RDB format version ${version} is not supported (redloop reads 1 to ${RDB_VERSION}, Redis ≤ 7.0)`, 5);
    }
    result.version = version;
    r.pos = 9;
    let expireMs = -1;
    for (;;) {
      const at = r.pos;
      const op = r.u8('an opcode or value type (the file ends without its EOF marker)');
      if (op === OP.EOF) break;
      switch (op) {
        case OP.EXPIRETIME_MS:
          expireMs = r.int64LE('EXPIRETIME_MS');
          continue;
        case OP.EXPIRETIME:
          expireMs = r.signed(4, 'EXPIRETIME') * 1000;
          continue;
        case OP.IDLE:
          r.len('IDLE'); // LRU idle time: redloop keeps none
          continue;
        case OP.FREQ:
          r.u8('FREQ'); // LFU counter: redloop keeps none
          continue;
        case OP.SELECTDB: {
          const db = r.len('SELECTDB');
          if (db !== 0) r.fail(`the file holds database ${db}; redloop has one database (0): move its keys to db 0 first`, at);
          continue;
        }
        case OP.RESIZEDB:
          r.len('RESIZEDB size');
          r.len('RESIZEDB expires');
          continue;
        case OP.AUX: {
          const k = r.str('aux field name');
          const v = r.str('aux field value');
          result.aux.set(k, v);
          continue;
        }
        case OP.MODULE_AUX:
          return r.fail('cannot load module data (opcode MODULE_AUX): redloop has no modules', at);
        case OP.FUNCTION2:
          result.functions.push(r.str('function library code'));
          continue;
        case OP.FUNCTION_PRE_GA:
          return r.fail('cannot load a function library saved by a Redis 7.0 release candidate (opcode FUNCTION, before FUNCTION2)', at);
      }
      if (!isKnownType(op)) r.fail(`unknown opcode or value type ${op} (0x${op.toString(16)})`, at);
      const key = r.str('key');
      const value = readValue(r, op, at);
      if (value === null) result.emptySkipped++;
      else if (expireMs !== -1 && expireMs < opts.unixNowMs) result.expiredSkipped++;
      else entries.push({ key, value, expireMs, at });
      expireMs = -1;
    }
    if (version >= 5) {
      const at = r.pos;
      r.need(8, 'the CRC-64 trailer');
      const zero = data.subarray(at, at + 8).every((b) => b === 0);
      if (opts.checksum && !zero) {
        if (!new Crc64().update(data, 0, at).equalsLE(data, at)) r.fail('wrong CRC-64 checksum: the file is corrupt', at);
        result.checksumVerified = true;
      }
      r.pos += 8;
    }
  } catch (e) {
    if (e instanceof RdbError) throw e;
    // Not expected: anything else is still the file's fault, at the reader's position.
    throw new RdbError(`unreadable data (${(e as Error).message})`, r.pos);
  }
  for (const e of entries) {
    if (ks.has(e.key)) {
      ks.flush();
      throw new RdbError(`duplicate key ${JSON.stringify(e.key)}`, e.at);
    }
    ks.put(e.key, e.value);
    if (e.expireMs !== -1) ks.setDeadline(e.key, e.expireMs - opts.unixOffsetMs);
  }
  result.keys = entries.length;
  return result;
}
