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
//   set     SET_INTSET while OBJECT ENCODING says intset (every member an integer, never more
//           than set-max-intset-entries, 512), else SET;
//   zset    ZSET_LISTPACK while it says listpack (never more than 128 members, none over 64
//           bytes, by default), else ZSET_2 (highest first, as Redis);
//   hash    HASH_LISTPACK while it says listpack (never more than 512 fields, none and no value
//           over 64 bytes, by default), else HASH;
//   stream  STREAM_LISTPACKS_2: each node's listpack as Redis lays it out, the
//           stream's counters, consumer groups with their PELs and consumers.
// Reading takes all of that plus the older encodings redis-server 7.0 still
// loads (plain LIST/ZSET, ziplists, quicklists of ziplists, EXPIRETIME in
// seconds). Pre-7.0 streams, modules and functions are refused by name; so is any
// database but 0 (redloop has one). Anything malformed or cut short is an
// RdbError naming the byte offset; nothing a file holds can crash the reader.

import { performance } from 'node:perf_hooks';
import { constants as bufferConstants } from 'node:buffer';
import { Bytes } from '../store/bytes.js';
import { Hash, Keyspace, List, RSet, Stream, ZSet, type Stored, type Value } from '../store/keyspace.js';
import { IdMap, ZERO_ID, cmpId, type Consumer, type ConsumerGroup, type Nack, type StreamEntry, type StreamID, type StreamNode } from '../store/stream.js';
import { Crc64 } from './crc64.js';
import { lzfCompressInto, lzfDecompress, LzfError } from './lzf.js';
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

/** Redis 7.0's default encoding thresholds, for values the commands did not build (those carry their own `wide` flag). */
export const LIMITS = {
  hashListpackEntries: 512,
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

  /** rdbSaveLen of a 64-bit unsigned value (stream IDs and counters). */
  lenBig(n: bigint): void {
    if (n <= 0xffffffffn) return this.len(Number(n));
    this.ensure(9);
    this.buf[this.pos++] = 0x81;
    this.view.writeBigUInt64BE(n, this.pos);
    this.pos += 8;
  }

  /** A stream ID as 16 raw bytes, ms then seq, big-endian (a rax key). */
  streamId(id: StreamID): void {
    this.ensure(16);
    this.view.writeBigUInt64BE(id.ms, this.pos);
    this.view.writeBigUInt64BE(id.seq, this.pos + 8);
    this.pos += 16;
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
  if (opts.compression && n > 20) {
    // The string's bytes into a reused scratch buffer (no Buffer per key: a save's garbage is its GC pauses).
    if (lzfIn.length < n) lzfIn = Buffer.allocUnsafe(Math.max(n, lzfIn.length * 2));
    lzfIn.latin1Write(s, 0, n);
    if (writeLzf(out, lzfIn, n)) return;
  }
  out.len(n);
  out.latin1(s);
}

/** Scratch buffers of writeLzf (grown to the largest string compressed, kept). */
let lzfIn = Buffer.allocUnsafe(4096);
let lzfOut = Buffer.allocUnsafe(4096);

/** rdbSaveRawString for bytes (a listpack blob, a Bytes value). */
function writeBlob(out: Out, b: Uint8Array, opts: WriteOptions): void {
  const n = b.length;
  if (n <= 11) {
    const s = Buffer.from(b.buffer, b.byteOffset, n).toString('latin1');
    const v = canonicalInt(s);
    if (typeof v === 'number' && v >= -2147483648 && v <= 2147483647) return writeIntEncoded(out, v);
  }
  if (opts.compression && n > 20 && writeLzf(out, b, n)) return;
  out.len(n);
  out.raw(b);
}

/** rdbSaveLzfStringObject: false when compression would not save at least 4 bytes. */
function writeLzf(out: Out, b: Uint8Array, n: number): boolean {
  if (lzfOut.length < n + 4) lzfOut = Buffer.allocUnsafe(Math.max(n + 4, lzfOut.length * 2));
  const packed = lzfCompressInto(b, n, n - 4, lzfOut);
  if (packed === 0) return false;
  out.u8(0xc3);
  out.len(packed);
  out.len(n);
  out.ensure(packed);
  lzfOut.copy(out.buf, out.pos, 0, packed);
  out.pos += packed;
  return true;
}

/**
 * Thrown for a value the writer has no RDB encoding for: SAVE then fails with
 * this message (logged, `-ERR` to the client) and the old file stays; DUMP
 * answers an error. Every value type redloop holds has an encoding today.
 */
export class RdbUnsupportedError extends Error {}

/** The RDB type redis-server 7.0 would save this value as (see the header). */
export function rdbTypeOf(v: Stored): number {
  if (v instanceof Stream) return T.STREAM_LISTPACKS_2;
  if (typeof v === 'string' || v instanceof Bytes) return T.STRING;
  if (v instanceof List) return T.LIST_QUICKLIST_2;
  // A set, hash or sorted set built by commands knows the encoding Redis would hold it in (its
  // sticky `wide` flag, which follows the CONFIG thresholds); a plain one is judged by content.
  if (v instanceof RSet) return v.wide ? T.SET : T.SET_INTSET;
  if (v instanceof Hash) return v.wide ? T.HASH : T.HASH_LISTPACK;
  if (v instanceof ZSet) return v.wide ? T.ZSET_2 : T.ZSET_LISTPACK;
  // Not a value the commands built (tests put plain Sets and Maps): Redis 7.0's default thresholds.
  const plain = v as unknown as Set<string> | Map<string, string>;
  if (plain instanceof Set) {
    if (plain.size > LIMITS.setIntsetEntries) return T.SET;
    for (const m of plain) if (canonicalInt(m) === null) return T.SET;
    return T.SET_INTSET;
  }
  if (plain.size > LIMITS.hashListpackEntries) return T.HASH;
  for (const [f, x] of plain) if (f.length > LIMITS.hashListpackValue || x.length > LIMITS.hashListpackValue) return T.HASH;
  return T.HASH_LISTPACK;
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

/** A list's quicklist nodes as redis-server 7.0 would hold them: listpacks filled up to 8 KiB (DEBUG OBJECT reports them too). */
export function quicklistNodes(list: List): Uint8Array[] {
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
  return nodes;
}

/** Writes the value (without its type byte) in the encoding `type`, from rdbTypeOf. */
function writeValue(out: Out, v: Stored, type: number, opts: WriteOptions): void {
  switch (type) {
    case T.STRING:
      if (v instanceof Bytes) writeBlob(out, v.buf.subarray(0, v.length), opts);
      else writeString(out, v as string, opts);
      return;
    case T.LIST_QUICKLIST_2: {
      const nodes = quicklistNodes(v as List);
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
    case T.STREAM_LISTPACKS_2:
      return writeStream(out, v as Stream, opts);
  }
  throw new Error(`unreachable: no writer for RDB type ${type}`);
}

/** Stream item flags (t_stream.c). */
const STREAM_ITEM_DELETED = 1;
const STREAM_ITEM_SAMEFIELDS = 2;

/** A node's listpack as streamAppendItem lays it out: the master entry, then each entry. */
function streamNodeListpack(node: StreamNode): Uint8Array {
  const lp = new ListpackBuilder();
  const { masterId, masterFields } = node;
  let deleted = 0;
  for (const e of node.entries) if (e.deleted) deleted++;
  lp.add(String(node.entries.length - deleted));
  lp.add(String(deleted));
  lp.add(String(masterFields.length));
  for (const f of masterFields) lp.add(f);
  lp.add('0'); // the master entry's lp-count
  for (const { entry, deleted: dead } of node.entries) {
    const f = entry.fields;
    const n = f.length / 2;
    let same = n === masterFields.length;
    for (let i = 0; same && i < n; i++) if (f[i * 2] !== masterFields[i]) same = false;
    lp.add(String((same ? STREAM_ITEM_SAMEFIELDS : 0) | (dead ? STREAM_ITEM_DELETED : 0)));
    lp.add(String(BigInt.asIntN(64, entry.id.ms - masterId.ms)));
    lp.add(String(BigInt.asIntN(64, entry.id.seq - masterId.seq)));
    if (!same) lp.add(String(n));
    for (let i = 0; i < f.length; i += 2) {
      if (!same) lp.add(f[i]);
      lp.add(f[i + 1]);
    }
    lp.add(String(same ? n + 3 : 2 * n + 4));
  }
  return lp.build();
}

/** rax order: keys compared bytewise (memcmp, then length). */
const byBytes = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** RDB_TYPE_STREAM_LISTPACKS_2 (Redis 7.0's rdbSaveObject for a stream). */
function writeStream(out: Out, s: Stream, opts: WriteOptions): void {
  const nodes = [...s.nodes()];
  out.len(nodes.length);
  for (const node of nodes) {
    out.len(16);
    out.streamId(node.masterId);
    writeBlob(out, streamNodeListpack(node), opts);
  }
  out.len(s.length);
  out.lenBig(s.lastId.ms);
  out.lenBig(s.lastId.seq);
  out.lenBig(s.firstId.ms);
  out.lenBig(s.firstId.seq);
  out.lenBig(s.maxDeletedId.ms);
  out.lenBig(s.maxDeletedId.seq);
  out.len(s.entriesAdded);
  const groups = [...s.groups.values()].sort((a, b) => byBytes(a.name, b.name));
  out.len(groups.length);
  for (const g of groups) {
    writeString(out, g.name, opts);
    out.lenBig(g.lastId.ms);
    out.lenBig(g.lastId.seq);
    // SCG_INVALID_ENTRIES_READ (-1) is saved as a length of 2^64 - 1, as Redis casts it.
    out.lenBig(BigInt.asUintN(64, BigInt(g.entriesRead)));
    out.len(g.pel.size);
    for (const [id, nack] of g.pel.range(ZERO_ID)) {
      out.streamId(id);
      out.int64LE(nack.deliveryTime);
      out.len(nack.deliveryCount);
    }
    const consumers = [...g.consumers.values()].sort((a, b) => byBytes(a.name, b.name));
    out.len(consumers.length);
    for (const c of consumers) {
      writeString(out, c.name, opts);
      out.int64LE(c.seenTime);
      out.len(c.pel.size);
      for (const [id] of c.pel.range(ZERO_ID)) out.streamId(id);
    }
  }
}

/** DUMP's footer after out's bytes (the RDB version, 2 bytes LE, then the CRC-64 of all that, 8 bytes LE); the payload. */
function withDumpFooter(out: Out): Uint8Array {
  out.u8(RDB_VERSION & 0xff);
  out.u8(RDB_VERSION >> 8);
  out.crc.update(out.buf, 0, out.pos);
  out.ensure(8);
  out.crc.writeLE(out.buf, out.pos);
  out.pos += 8;
  return out.buf.slice(0, out.pos);
}

/** DUMP's payload: type, value, RDB version (2 bytes LE), CRC-64 of all that (8 bytes LE). */
export function dumpPayload(v: Stored, opts: WriteOptions): Uint8Array {
  const out = new Out();
  const type = rdbTypeOf(v);
  out.u8(type);
  writeValue(out, v, type, opts);
  return withDumpFooter(out);
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
  return withDumpFooter(out);
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
  /** The aof-base aux field: 1 for an AOF's base file, 0 (the default) for dump.rdb. */
  aofBase?: boolean;
}

/** Bytes handed to the sink at a time while saving. */
const CHUNK = 1 << 20;

/**
 * Serializes the databases as an RDB file (a single Keyspace is database 0),
 * handing the bytes to sink in chunks of about 1 MiB (a sink that copies
 * nothing must consume each chunk before returning). Each non-empty database
 * is written after a SELECTDB with its index and a RESIZEDB with its sizes,
 * as Redis's rdbSaveRio does. Returns the number of keys written.
 */
export function writeRdb(dbs: Keyspace | readonly Keyspace[], opts: SaveOptions, sink: (chunk: Uint8Array) => void): number {
  const out = new Out();
  writeHeader(out, opts);
  let written = 0;
  const list = dbs instanceof Keyspace ? [dbs] : dbs;
  for (let id = 0; id < list.length; id++) {
    const ks = list[id];
    if (ks.size === 0) continue;
    writeSelectDb(out, id, ks.size, ks.volatileCount);
    for (const key of ks.keys()) {
      const v = ks.getRaw(key);
      if (v === undefined) continue;
      const d = ks.deadline(key);
      writeEntry(out, key, v, d === undefined ? undefined : Math.round(d + opts.unixOffsetMs), opts);
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

/** The magic and the aux fields. */
function writeHeader(out: Out, opts: SaveOptions): void {
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
  aux('aof-base', opts.aofBase === true ? '1' : '0');
  for (const code of opts.functions ?? []) {
    out.u8(OP.FUNCTION2);
    writeString(out, code, opts);
  }
}

/** SELECTDB, then RESIZEDB with the database's sizes (a hint for the loader), unless sizes is null. */
function writeSelectDb(out: Out, db: number, size: number | null, expires: number): void {
  out.u8(OP.SELECTDB);
  out.len(db);
  if (size === null) return;
  out.u8(OP.RESIZEDB);
  out.len(size);
  out.len(expires);
}

/** One key: its expiry (unix ms) if any, its type, name and value. */
function writeEntry(out: Out, key: string, v: Stored, deadlineUnixMs: number | undefined, opts: WriteOptions): void {
  if (deadlineUnixMs !== undefined) {
    out.u8(OP.EXPIRETIME_MS);
    out.int64LE(deadlineUnixMs);
  }
  const type = rdbTypeOf(v);
  out.u8(type);
  writeString(out, key, opts);
  writeValue(out, v, type, opts);
}

/**
 * An RDB file written piece by piece, by a caller that decides the order of
 * the keys and when to take the bytes (a background save, which interleaves
 * keys it walks with keys it preserves before a write changes them). The
 * CRC-64 trailer is not written here: whoever receives the bytes computes it
 * (the background writer does, off the loop).
 */
export class RdbPieceWriter {
  private readonly out = new Out();
  constructor(private readonly opts: SaveOptions) {}

  /** Bytes written and not yet taken. */
  get pending(): number {
    return this.out.pos;
  }

  header(): void {
    writeHeader(this.out, this.opts);
  }

  /** SELECTDB (with RESIZEDB unless size is null). */
  selectDb(db: number, size: number | null, expires: number): void {
    writeSelectDb(this.out, db, size, expires);
  }

  /** One key; deadlineUnixMs undefined when it has no TTL. Throws RdbUnsupportedError for a value it cannot write. */
  entry(key: string, v: Stored, deadlineUnixMs: number | undefined): void {
    const out = this.out;
    const mark = out.pos;
    try {
      writeEntry(out, key, v, deadlineUnixMs, this.opts);
    } catch (e) {
      out.pos = mark; // nothing half-written stays behind
      throw e;
    }
  }

  /** The EOF opcode (the trailer follows, from the receiver). */
  eof(): void {
    this.out.u8(OP.EOF);
  }

  /**
   * Hands everything written since the last call to fn, as a view of the
   * writer's own buffer — valid only during the call (fn copies what it
   * keeps) — then starts over. No allocation per chunk.
   */
  drainTo(fn: (bytes: Uint8Array) => void): void {
    const out = this.out;
    const n = out.pos;
    out.pos = 0;
    fn(out.buf.subarray(0, n));
  }
}

/** The whole file in one buffer (tests, small keyspaces). */
export function rdbBytes(ks: Keyspace | readonly Keyspace[], opts: SaveOptions): Uint8Array {
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

  /** A length read as a 64-bit unsigned value (stream IDs and counters, which may pass 2^53). */
  lenBig(what: string): bigint {
    const at = this.pos;
    if (this.data[this.pos] === 0x81) {
      this.pos++;
      this.need(8, what);
      const n = this.dv.getBigUint64(this.pos, false);
      this.pos += 8;
      return n;
    }
    const r = this.lenOrEnc(what);
    if (r.encoded) this.fail(`${what}: expected a length, found a string encoding`, at);
    return BigInt(r.len);
  }

  /** 16 raw bytes: a stream ID, ms then seq, big-endian. */
  streamId(what: string): StreamID {
    this.need(16, what);
    const id = { ms: this.dv.getBigUint64(this.pos, false), seq: this.dv.getBigUint64(this.pos + 8, false) };
    this.pos += 16;
    return id;
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
  [T.STREAM_LISTPACKS]: 'a stream (type 15): the encoding of Redis < 7.0; redloop reads type 19',
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
      const set = new RSet();
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
      const h = new Hash();
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
      return members.length === 0 ? null : new RSet(members);
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
      const h = new Hash();
      for (let i = 0; i < items.length; i += 2) {
        if (h.has(items[i])) r.fail('duplicate hash field in listpack', at);
        h.set(items[i], items[i + 1]);
      }
      return h.size === 0 ? null : h;
    }
  }
  if (type === T.STREAM_LISTPACKS_2) return readStream(r);
  const why = UNSUPPORTED[type];
  return r.fail(why !== undefined ? `cannot load ${why}` : `unknown value type ${type}`, typeAt);
}

/** An integer element of a stream node's listpack (the decoder gives its decimal text). */
function lpInt(r: Reader, items: string[], i: number, what: string, at: number): bigint {
  const t = items[i];
  if (t === undefined) r.fail(`stream listpack: ${what} missing`, at);
  if (!/^-?\d+$/.test(t)) r.fail(`stream listpack: ${what} '${t.slice(0, 32)}' is not an integer`, at);
  return BigInt(t);
}

/** One node's listpack back into its entries (master entry, then each entry, as streamNodeListpack writes them). */
function readStreamNode(r: Reader, masterId: StreamID, prevLast: StreamID | null): StreamNode {
  const at = r.pos;
  let bytes = 0;
  const items = r.compact('stream listpack', (b) => {
    bytes = b.length;
    return decodeListpack(b);
  });
  if (items.length === 0) r.fail('empty listpack inside stream', at);
  let i = 0;
  const count = lpInt(r, items, i++, 'master count', at);
  const deleted = lpInt(r, items, i++, 'master deleted count', at);
  const nMaster = Number(lpInt(r, items, i++, 'master field count', at));
  if (nMaster < 0 || i + nMaster >= items.length) r.fail('stream listpack: master fields run past the end', at);
  const masterFields = items.slice(i, i + nMaster);
  i += nMaster;
  if (lpInt(r, items, i++, 'master terminator', at) !== 0n) r.fail('stream listpack: bad master entry terminator', at);
  const entries: { entry: StreamEntry; deleted: boolean }[] = [];
  let last = prevLast;
  let dead = 0n;
  while (i < items.length) {
    const flags = Number(lpInt(r, items, i++, 'entry flags', at));
    const ms = BigInt.asUintN(64, masterId.ms + lpInt(r, items, i++, 'entry ms', at));
    const seq = BigInt.asUintN(64, masterId.seq + lpInt(r, items, i++, 'entry seq', at));
    const id = { ms, seq };
    if (last !== null && cmpId(id, last) <= 0) r.fail('stream listpack: entry IDs do not ascend', at);
    last = id;
    const same = (flags & STREAM_ITEM_SAMEFIELDS) !== 0;
    const n = same ? masterFields.length : Number(lpInt(r, items, i++, 'entry field count', at));
    if (n < 0 || i + (same ? n : 2 * n) >= items.length) r.fail('stream listpack: entry runs past the end', at);
    const fields: string[] = [];
    for (let k = 0; k < n; k++) {
      if (same) fields.push(masterFields[k], items[i++]);
      else fields.push(items[i++], items[i++]);
    }
    const lpCount = lpInt(r, items, i++, 'entry lp-count', at);
    if (lpCount !== BigInt(same ? n + 3 : 2 * n + 4)) r.fail('stream listpack: entry lp-count does not match', at);
    const isDead = (flags & STREAM_ITEM_DELETED) !== 0;
    if (isDead) dead++;
    entries.push({ entry: { id, fields }, deleted: isDead });
  }
  if (BigInt(entries.length) !== count + deleted || dead !== deleted) r.fail('stream listpack: master entry counts do not match the entries', at);
  if (count === 0n) r.fail('stream listpack holds no live entry', at);
  return { masterId, masterFields, entries, bytes };
}

/** RDB_TYPE_STREAM_LISTPACKS_2: nodes, counters, consumer groups with their PELs and consumers. */
function readStream(r: Reader): Stream {
  const s = new Stream();
  const nodes = r.len('stream node count');
  let prevLast: StreamID | null = null;
  for (let k = 0; k < nodes; k++) {
    const at = r.pos;
    const key = r.bytes('stream node key');
    if (key.length !== 16) r.fail('stream node key is not the size of a stream ID', at);
    const kv = new DataView(key.buffer, key.byteOffset, 16);
    const masterId = { ms: kv.getBigUint64(0, false), seq: kv.getBigUint64(8, false) };
    const node = readStreamNode(r, masterId, prevLast);
    prevLast = node.entries[node.entries.length - 1].entry.id;
    s.loadNode(node);
  }
  const length = r.len('stream length');
  s.length = length;
  s.lastId = { ms: r.lenBig('stream last ID'), seq: r.lenBig('stream last ID') };
  s.firstId = { ms: r.lenBig('stream first ID'), seq: r.lenBig('stream first ID') };
  s.maxDeletedId = { ms: r.lenBig('stream max deleted ID'), seq: r.lenBig('stream max deleted ID') };
  s.entriesAdded = r.len('stream entries added');
  let live = 0;
  for (const node of s.nodes()) for (const e of node.entries) if (!e.deleted) live++;
  if (live !== length) r.fail(`stream length ${length} does not match its ${live} live entries`);
  if (prevLast !== null && cmpId(prevLast, s.lastId) > 0) r.fail('stream last ID is below its last entry');
  const groups = r.len('stream group count');
  for (let g = 0; g < groups; g++) {
    const at = r.pos;
    const name = r.str('consumer group name');
    if (s.groups.has(name)) r.fail('duplicate consumer group name', at);
    const lastId = { ms: r.lenBig('group last ID'), seq: r.lenBig('group last ID') };
    const er = BigInt.asIntN(64, r.lenBig('group entries read'));
    const group: ConsumerGroup = { name, lastId, entriesRead: er < 0n ? -1 : Number(er), pel: new IdMap<Nack>(), consumers: new Map<string, Consumer>() };
    const pelSize = r.len('group PEL size');
    const unowned: Nack[] = [];
    for (let p = 0; p < pelSize; p++) {
      const pat = r.pos;
      const id = r.streamId('PEL entry ID');
      const deliveryTime = r.int64LE('PEL delivery time');
      const deliveryCount = r.len('PEL delivery count');
      // The consumer is filled in from the consumers' PELs below.
      const nack = { consumer: null as unknown as Consumer, deliveryTime, deliveryCount };
      if (!group.pel.set(id, nack)) r.fail('duplicate ID in group PEL', pat);
      unowned.push(nack);
    }
    const consumers = r.len('group consumer count');
    for (let c = 0; c < consumers; c++) {
      const cat = r.pos;
      const cname = r.str('consumer name');
      if (group.consumers.has(cname)) r.fail('duplicate consumer name', cat);
      const consumer: Consumer = { name: cname, seenTime: r.int64LE('consumer seen time'), pel: new IdMap<Nack>() };
      group.consumers.set(cname, consumer);
      const n = r.len('consumer PEL size');
      for (let p = 0; p < n; p++) {
        const pat = r.pos;
        const id = r.streamId('consumer PEL entry ID');
        const nack = group.pel.get(id);
        if (nack === undefined) r.fail('consumer PEL entry not found in group PEL', pat);
        if (nack.consumer !== null) r.fail('PEL entry claimed by two consumers', pat);
        nack.consumer = consumer;
        consumer.pel.set(id, nack);
      }
    }
    if (unowned.some((n) => n.consumer === null)) r.fail('group PEL entry without a consumer', at);
    s.groups.set(name, group);
  }
  return s;
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
  /** Where the RDB ended in data (an AOF base may go on with commands). */
  end: number;
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
 * Loads an RDB file's keys into the databases (a single Keyspace is database
 * 0 alone), which must be empty: the keys after a SELECTDB n go into dbs[n];
 * an n the server does not have is an error. All or nothing: the file is
 * parsed and its checksum verified before a key is stored; on an RdbError
 * every database is left empty.
 */
export function loadRdb(data: Uint8Array, dbs: Keyspace | readonly Keyspace[], opts: LoadOptions): LoadResult {
  const list = dbs instanceof Keyspace ? [dbs] : dbs;
  if (list.some((ks) => ks.size !== 0)) throw new Error('loadRdb needs empty databases');
  const r = new Reader(data);
  const result: LoadResult = { version: 0, keys: 0, expiredSkipped: 0, emptySkipped: 0, aux: new Map(), functions: [], checksumVerified: false, end: 0 };
  const entries: { db: number; key: string; value: Value; expireMs: number; at: number }[] = [];
  let db = 0;
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
          r.len('IDLE'); // LRU idle time: not restored (a loaded key starts with fresh access metadata)
          continue;
        case OP.FREQ:
          r.u8('FREQ'); // LFU counter: not restored (as above)
          continue;
        case OP.SELECTDB: {
          db = r.len('SELECTDB');
          if (db >= list.length) {
            r.fail(
              `the file holds database ${db}, but this server has ${list.length} database${list.length === 1 ? '' : 's'} (0 to ${list.length - 1}): ` +
                `start it with --databases ${db + 1} or more`,
              at,
            );
          }
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
      else entries.push({ db, key, value, expireMs, at });
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
    result.end = r.pos;
  } catch (e) {
    if (e instanceof RdbError) throw e;
    // Not expected: anything else is still the file's fault, at the reader's position.
    throw new RdbError(`unreadable data (${(e as Error).message})`, r.pos);
  }
  for (const e of entries) {
    const ks = list[e.db];
    if (ks.has(e.key)) {
      for (const k of list) k.flush();
      throw new RdbError(`duplicate key ${JSON.stringify(e.key)}${list.length > 1 ? ` in database ${e.db}` : ''}`, e.at);
    }
    ks.put(e.key, e.value);
    if (e.expireMs !== -1) ks.setDeadline(e.key, e.expireMs - opts.unixOffsetMs);
  }
  result.keys = entries.length;
  return result;
}
