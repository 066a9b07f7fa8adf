// Estimates of the bytes a key and its value hold on V8's heap (64-bit, no
// pointer compression, as Node ships): the figures used_memory and MEMORY USAGE
// are built from. Strings are exact up to V8's header and rounding; a
// collection is its fixed part plus its element count times the average size of
// up to `samples` elements (all of them with samples = 0), as Redis's
// MEMORY USAGE samples nested values. The per-entry constants were calibrated
// against heap growth measured with --expose-gc (docs/DESIGN.md: Memory).

import { Bytes } from './bytes.js';
import { List } from './list.js';
import { Stream, ZERO_ID, MAX_ID } from './stream.js';
import { ZSet } from './zset.js';
import type { Stored } from './keyspace.js';

/** A sequential one-byte string: map, hash and length (16 bytes), then its bytes, rounded up to 8. */
export function stringBytes(s: string): number {
  return (16 + s.length + 7) & ~7;
}

/**
 * What a key costs beside its value: its string, its entry in the shard's Map
 * (three slots plus a bucket, at a typical load), and its slot in the
 * keyspace's arrays (key, value, access metadata), with their growth slack.
 */
export const KEY_OVERHEAD = 60;
/** A key's TTL: its entry object, its Map entry in the TTL table and its slot in the heap. */
export const TTL_ENTRY_BYTES = 120;
/** Per element of a hash (OrderedHashMap entry, slack included) beside the two strings. */
const HASH_ENTRY = 40;
/** Per member of a set (OrderedHashSet entry) beside the string. */
const SET_ENTRY = 28;
/** Per element of a list: a ring-buffer slot, with up to 2x growth slack. */
const LIST_ENTRY = 12;
/** Per member of a sorted set: the tree node object and its by-name Map entry. */
const ZSET_ENTRY = 112;
/** Per stream entry: the entry object, its ID object with two BigInts, the fields array. */
const STREAM_ENTRY = 160;
/**
 * A string held as Bytes beside its buffer's capacity: the Bytes object, the
 * Uint8Array and its ArrayBuffer on V8's heap, the backing store's record and
 * malloc's header outside it.
 */
const BYTES_OVERHEAD = 256;
/** A collection object itself (its header, backing store at minimum size). */
const COLLECTION_BASE = 96;

/** Bytes held by one key's value. Collections sample up to `samples` elements (0 = all). */
export function valueBytes(v: Stored, samples = 5): number {
  if (typeof v === 'string') return stringBytes(v);
  if (v instanceof Bytes) return BYTES_OVERHEAD + v.buf.byteLength;
  if (v instanceof Map) {
    const n = v.size;
    if (n === 0) return COLLECTION_BASE;
    let seen = 0;
    let sum = 0;
    for (const [f, x] of v) {
      sum += stringBytes(f) + stringBytes(x);
      if (++seen === samples) break;
    }
    return Math.round(COLLECTION_BASE + n * (HASH_ENTRY + sum / seen));
  }
  if (v instanceof Set) {
    const n = v.size;
    if (n === 0) return COLLECTION_BASE;
    let seen = 0;
    let sum = 0;
    for (const m of v) {
      sum += stringBytes(m);
      if (++seen === samples) break;
    }
    return Math.round(COLLECTION_BASE + n * (SET_ENTRY + sum / seen));
  }
  if (v instanceof List) {
    const n = v.length;
    if (n === 0) return COLLECTION_BASE;
    const k = samples === 0 ? n : Math.min(n, samples);
    let sum = 0;
    for (let i = 0; i < k; i++) sum += stringBytes(v.at(i));
    return Math.round(COLLECTION_BASE + n * (LIST_ENTRY + sum / k));
  }
  if (v instanceof ZSet) {
    const n = v.size;
    if (n === 0) return COLLECTION_BASE;
    let seen = 0;
    let sum = 0;
    for (const e of v.byInsertion()) {
      sum += stringBytes(e.name);
      if (++seen === samples) break;
    }
    return Math.round(COLLECTION_BASE + n * (ZSET_ENTRY + sum / seen));
  }
  if (v instanceof Stream) {
    const n = v.length;
    let groups = 0;
    for (const g of v.groups.values()) groups += 200 + g.pel.size * 120;
    if (n === 0) return COLLECTION_BASE + groups;
    let seen = 0;
    let sum = 0;
    for (const e of v.range(ZERO_ID, MAX_ID)) {
      for (const f of e.fields) sum += stringBytes(f) + 8;
      if (++seen === samples) break;
    }
    return Math.round(COLLECTION_BASE + groups + n * (STREAM_ENTRY + (seen === 0 ? 0 : sum / seen)));
  }
  return COLLECTION_BASE;
}

/** Bytes held for a key and its value in the keyspace (MEMORY USAGE's figure, TTL excluded). */
export function keyBytes(key: string, v: Stored, samples = 5): number {
  return KEY_OVERHEAD + stringBytes(key) + valueBytes(v, samples);
}
