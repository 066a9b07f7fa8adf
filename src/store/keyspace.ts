// The keyspace: key → value (string, hash, list, set, sorted set) plus the
// deadlines of keys with a TTL. Keys expire lazily (any lookup of an expired
// key deletes it first) and actively (expireSome, called from the loop's timer
// step with a cap per call). The clock is monotonic and injectable for tests.
// Both tables are sharded Maps, so that no single set or delete stalls the loop for long.
// A string written by a bit command is held as a Bytes (mutable bytes, see
// bytes.ts); get() hands it out as a string, getRaw() as it is.

import { performance } from 'node:perf_hooks';
import { Bytes } from './bytes.js';
import { List } from './list.js';
import { Stream } from './stream.js';
import { TtlHeap, type TtlEntry } from './ttl.js';
import { ZSet } from './zset.js';

import { Hash, Picker, RSet } from './collections.js';

export { Bytes, Hash, List, RSet, Stream, ZSet };
/** A value: a string is stored as a (binary) JS string itself. */
export type Value = string | Hash | List | RSet | ZSet | Stream;
/** What the keyspace holds: a Value, or a string as mutable bytes. */
export type Stored = Value | Bytes;
export type TypeName = 'string' | 'hash' | 'list' | 'set' | 'zset' | 'stream';

export function typeOf(v: Value): TypeName {
  if (typeof v === 'string') return 'string';
  if (v instanceof Map) return 'hash';
  if (v instanceof List) return 'list';
  if (v instanceof Set) return 'set';
  if (v instanceof Stream) return 'stream';
  return 'zset';
}

/** A deep copy of a value (COPY): changing one never changes the other. Strings are immutable. */
export function cloneValue(v: Value): Value {
  if (typeof v === 'string') return v;
  if (v instanceof Hash) return v.copy();
  if (v instanceof RSet) return v.copy();
  return v.clone();
}

/**
 * Why shards: a V8 Map rehashes its whole table when it grows (on set) and when
 * it falls below a quarter full (on delete). At 1M keys one such delete took
 * 50 ms and one set 96 ms on the bench machine, and expiring 1M keys through
 * expireSome(2000) spent 100-240 ms in one loop turn, the cap notwithstanding.
 * Spread over 256 Maps, each rehash touches ~1/256 of the keys. (Redis's dict
 * solves the same problem with incremental rehashing.) The price, on a
 * random-access microbenchmark at 100K keys (best of 6 runs, loaded machine):
 * get 49 → 67 ns, put + delete 166 → 306 ns; the hash itself is ~15 ns, the
 * rest is cache misses on the shards' separate tables. SHARD_COUNT = 1
 * restores a single Map, stalls included.
 */
const SHARD_COUNT = 256;

/**
 * Shards of equal size would all cross their quarter-full point within a few
 * expireSome calls of each other, so the rehashes would bunch up again
 * (~10-25 ms per call in that window at 1M keys). Instead shard j receives a
 * share of the keys ∝ 2^(j/256): sizes span one octave, so their ratios to
 * their power-of-two capacities, and with them the moments they shrink (and
 * grow), are spread over the whole run. Indexed by 16 hash bits.
 */
const SHARD_OF_HASH16 = new Uint8Array(1 << 16);
for (let x = 0; x < 1 << 16; x++) {
  SHARD_OF_HASH16[x] = Math.min(SHARD_COUNT - 1, Math.floor(SHARD_COUNT * Math.log2(1 + x / (1 << 16))));
}

/**
 * The shard of a key: an FNV-style mix of its length and five of its bytes
 * (the last three and two from the middle), at fixed positions. Hashing every
 * byte in JavaScript made a get ~4x slower on the bench machine; five bytes
 * cost a few ns and still spread the usual key shapes (key:N, user:N:name,
 * zero-padded ids, random tokens) over the shards. A key shape that defeats
 * it is no worse off than one Map.
 */
function shardOf(key: string): number {
  const len = key.length;
  let h: number;
  if (len < 5) {
    h = len;
    for (let i = 0; i < len; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  } else {
    const mid = len >> 1;
    h = Math.imul(len ^ key.charCodeAt(len - 1), 0x01000193);
    h = Math.imul(h ^ key.charCodeAt(len - 2), 0x01000193);
    h = Math.imul(h ^ key.charCodeAt(len - 3), 0x01000193);
    h = Math.imul(h ^ key.charCodeAt(mid), 0x01000193);
    h = Math.imul(h ^ key.charCodeAt(mid + 1), 0x01000193);
  }
  h = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d); // final mix: every input bit reaches the low 16
  return SHARD_OF_HASH16[(h ^ (h >>> 16)) & 0xffff];
}

/** A Map split over SHARD_COUNT Maps (created on first use); the subset of Map's API the keyspace uses. */
class ShardedMap<V> {
  private readonly shards: (Map<string, V> | undefined)[] = new Array(SHARD_COUNT);
  private count = 0;
  /** Uniform random picks over the keys (RANDOMKEY): built on the first random(), then kept up to date. */
  private picker: Picker | null = null;

  get size(): number {
    return this.count;
  }

  // Each method takes the key's shard when the caller already has it (the keyspace hashes a key
  // once and consults both of its tables with it).

  get(key: string, i = shardOf(key)): V | undefined {
    return this.shards[i]?.get(key);
  }

  has(key: string, i = shardOf(key)): boolean {
    return this.shards[i]?.has(key) ?? false;
  }

  set(key: string, v: V, i = shardOf(key)): void {
    let m = this.shards[i];
    if (m === undefined) m = this.shards[i] = new Map();
    const before = m.size;
    m.set(key, v);
    if (m.size !== before) {
      this.count++;
      if (this.picker !== null) this.picker.add(key);
    }
  }

  delete(key: string, i = shardOf(key)): boolean {
    const m = this.shards[i];
    if (m === undefined || !m.delete(key)) return false;
    this.count--;
    if (this.picker !== null) this.picker.delete(key);
    return true;
  }

  clear(): void {
    this.shards.fill(undefined);
    this.count = 0;
    this.picker = null;
  }

  /**
   * A key chosen uniformly, O(1). The first call indexes every key (O(n), once):
   * from then on each new key costs an array push and an index entry, each
   * delete a swap-remove, so a keyspace nobody samples pays nothing.
   */
  random(rand: () => number): string | undefined {
    if (this.count === 0) return undefined;
    if (this.picker === null) this.picker = new Picker(this.keys(), new ShardedMap<number>());
    return this.picker.pick(rand);
  }

  /** Keys, shard by shard (insertion order within a shard; KEYS promises no order). */
  *keys(): IterableIterator<string> {
    for (const m of this.shards) if (m !== undefined) yield* m.keys();
  }

  /** The shard Maps themselves (a copy of the array, not of the Maps). */
  shardMaps(): (Map<string, V> | undefined)[] {
    return this.shards.slice();
  }

  /** Keys of shard i alone. */
  keysOfShard(i: number): IterableIterator<string> {
    return (this.shards[i] ?? EMPTY_MAP).keys();
  }
}

const EMPTY_MAP: ReadonlyMap<string, never> = new Map<string, never>();

/** avgTtl() is exact up to this many keys with a TTL, sampled beyond. */

/** With a time budget, expireSome reads the clock once per this many deletions. */
export const EXPIRE_BUDGET_STRIDE = 32;

/** Milliseconds from a monotonic clock. */
export const monotonicNow = (): number => performance.now();

/**
 * What happened to a key, for Keyspace.onChange: stored where there was none
 * ('put'), stored over a live key by replace() ('overwrite'), deleted,
 * expired, evicted (maxmemory), or every key flushed (key null). 'new' comes
 * just before the 'put' of a key that did not exist, only while reportNew is
 * on (keyspace notifications' n class, Redis's dbAdd).
 */
export type KeyChange = 'put' | 'overwrite' | 'delete' | 'expire' | 'flush' | 'flushall' | 'evict' | 'new';

/** Keyspace.onChange's listener: the key (null for a flush), what happened, and the database it happened in. */
export type ChangeListener = (key: string | null, why: KeyChange, db: Keyspace) => void;

export class Keyspace {
  // Not readonly: SWAPDB exchanges the contents of two databases (swapContents).
  private data = new ShardedMap<Stored>();
  private ttl = new ShardedMap<TtlEntry>();
  private heap = new TtlHeap();
  /** Keys removed because their TTL passed (lazily or actively). */
  expiredCount = 0;
  /** INFO's keyspace_hits / keyspace_misses: lookups by get/getRaw while countLookups is on (dispatch turns it on for read-only commands). */
  hits = 0;
  misses = 0;
  countLookups = false;
  /** The sum of every TTL's deadline (INFO keyspace's avg_ttl). */
  private deadlineSum = 0;
  /**
   * Told of every key stored (put, replace), deleted or expired, and of a
   * flush (key null; 'flushall' when every database is flushed at once, as
   * FLUSHALL does): WATCH invalidation and blocked clients' ready keys
   * listen here. Null when nobody listens, so it costs one check per write.
   * In-place changes to a collection (LPUSH onto an existing list) do not
   * come through here; see src/commands/multi.ts for how those are seen.
   */
  onChange: ChangeListener | null = null;
  /**
   * Tell onChange 'new' before storing a key that was not there (keyspace
   * notifications' n class). Off, put() and replace() do not look first.
   */
  reportNew = false;

  /**
   * Told *before* a key is stored, deleted, expired, or has its TTL changed,
   * and before a flush (key null) — while the old value is still in place. A
   * background save (src/persist/snapshot.ts) preserves the key's
   * point-in-time value here. Null when no save runs: one check per write.
   */
  beforeChange: ((key: string | null) => void) | null = null;

  /**
   * @param id the database index (SELECT's number): a server holds one
   *   Keyspace per database; keyspace notifications name it (`__keyspace@<id>__`).
   */
  constructor(
    readonly now: () => number = monotonicNow,
    readonly id: number = 0,
  ) {}

  /** The shard a key lives in (0 ≤ shard < Keyspace.shardCount). */
  static shardOf(key: string): number {
    return shardOf(key);
  }

  /**
   * The keyspace's tables as they are now, shard by shard: the Map objects
   * themselves (undefined for a shard never used). A flush replaces them
   * rather than emptying them, so what is captured here stays the
   * pre-flush content; other changes show through (see beforeChange).
   */
  captureShards(): { data: readonly (ReadonlyMap<string, Stored> | undefined)[]; ttl: readonly (ReadonlyMap<string, TtlEntry> | undefined)[] } {
    return { data: this.data.shardMaps(), ttl: this.ttl.shardMaps() };
  }

  /** Number of keys, counting expired keys not yet removed (like Redis's DBSIZE). */
  get size(): number {
    return this.data.size;
  }

  /** Number of keys with a TTL. */
  get volatileCount(): number {
    return this.ttl.size;
  }

  /**
   * The live value under key, or undefined (an expired key is deleted first).
   * A string held as Bytes comes back as a string (cached until it changes).
   */
  get(key: string): Value | undefined {
    const s = shardOf(key);
    if (this.ttl.size !== 0) this.expireIfDue(key, s);
    const v = this.data.get(key, s);
    if (this.countLookups) v === undefined ? this.misses++ : this.hits++;
    // typeof first: GET's hot path pays no instanceof (no measurable cost at 10K keys).
    return typeof v === 'string' || !(v instanceof Bytes) ? v : v.toString();
  }

  /** As get(), but a string held as Bytes comes back as the Bytes (for the bit commands). */
  getRaw(key: string): Stored | undefined {
    const s = shardOf(key);
    if (this.ttl.size !== 0) this.expireIfDue(key, s);
    const v = this.data.get(key, s);
    if (this.countLookups) v === undefined ? this.misses++ : this.hits++;
    return v;
  }

  /** The mean time to live of the keys with a TTL, ms (0 when none). */
  avgTtl(): number {
    const n = this.ttl.size;
    return n === 0 ? 0 : Math.max(0, Math.round(this.deadlineSum / n - this.now()));
  }

  has(key: string): boolean {
    return this.getRaw(key) !== undefined;
  }

  /**
   * Stores a value, keeping any TTL the key has (the caller clears it if
   * wanted). A TTL that has already passed belongs to a key that no longer
   * exists, so it is dropped first rather than expiring the new value at once.
   */
  put(key: string, v: Stored): void {
    if (this.beforeChange !== null) this.beforeChange(key);
    const s = shardOf(key);
    if (this.ttl.size !== 0) this.expireIfDue(key, s);
    const isNew = this.reportNew && !this.data.has(key, s);
    this.data.set(key, v, s);
    if (this.onChange !== null) {
      if (isNew) this.onChange(key, 'new', this);
      this.onChange(key, 'put', this);
    }
  }

  /**
   * Stores a value and drops any TTL (Redis's SET semantics). Listeners are
   * told 'overwrite' when a live key was there (Redis's dbOverwrite, which
   * wakes no blocked client) and 'put' otherwise (dbAdd).
   */
  replace(key: string, v: Stored): void {
    if (this.beforeChange !== null) this.beforeChange(key);
    const why: KeyChange = this.onChange !== null && this.has(key) ? 'overwrite' : 'put';
    this.data.set(key, v);
    if (this.ttl.size !== 0) this.clearDeadline(key);
    if (this.onChange !== null) {
      if (why === 'put' && this.reportNew) this.onChange(key, 'new', this);
      this.onChange(key, why, this);
    }
  }

  /** Removes a key and its TTL. True if a live key was removed. */
  delete(key: string): boolean {
    if (this.beforeChange !== null) this.beforeChange(key);
    const s = shardOf(key);
    if (this.ttl.size !== 0) this.expireIfDue(key, s);
    if (!this.data.delete(key, s)) return false;
    if (this.ttl.size !== 0) {
      const e = this.ttl.get(key, s);
      if (e) {
        this.heap.remove(e);
        this.ttl.delete(key, s);
        this.deadlineSum -= e.deadline;
      }
    }
    if (this.onChange !== null) this.onChange(key, 'delete', this);
    return true;
  }

  /** Sets the key's absolute deadline (monotonic ms). The key must exist. */
  setDeadline(key: string, deadline: number): void {
    if (this.beforeChange !== null) this.beforeChange(key);
    const e = this.ttl.get(key);
    if (e) {
      this.deadlineSum += deadline - e.deadline;
      e.deadline = deadline;
      this.heap.update(e);
    } else {
      this.deadlineSum += deadline;
      const entry: TtlEntry = { key, deadline, pos: -1 };
      this.ttl.set(key, entry);
      this.heap.push(entry);
    }
  }

  /** Removes the key's TTL; true if it had one. */
  clearDeadline(key: string): boolean {
    const e = this.ttl.get(key);
    if (!e) return false;
    if (this.beforeChange !== null) this.beforeChange(key);
    this.heap.remove(e);
    this.ttl.delete(key);
    this.deadlineSum -= e.deadline;
    return true;
  }

  /** The key's deadline (monotonic ms), or undefined if it has no TTL. */
  deadline(key: string): number | undefined {
    return this.ttl.get(key)?.deadline;
  }

  /** Milliseconds left (≥ 0) for a live key with a TTL; -1 without TTL; -2 if missing. */
  pttl(key: string): number {
    if (this.get(key) === undefined) return -2;
    const d = this.deadline(key);
    if (d === undefined) return -1;
    return Math.max(0, Math.ceil(d - this.now()));
  }

  /** The nearest deadline (monotonic ms), or null when no key has a TTL. */
  nextDeadline(): number | null {
    const top = this.heap.peek();
    return top ? top.deadline : null;
  }

  /**
   * Deletes up to max keys whose deadline has passed, nearest deadline first;
   * returns how many. With budgetMs, it also stops once that much real time
   * has passed (checked every EXPIRE_BUDGET_STRIDE deletions, so at least that
   * many go per call), as Redis's active expiry cycle is time-limited: a
   * deletion now and then lands on a Map shard's rehash, and a budget keeps
   * a run of those from stacking up in one loop turn.
   */
  expireSome(max: number, budgetMs = Infinity): number {
    const now = this.now();
    const stopAt = budgetMs === Infinity ? Infinity : performance.now() + budgetMs;
    let n = 0;
    while (n < max) {
      const top = this.heap.peek();
      if (!top || top.deadline > now) break;
      if (this.beforeChange !== null) this.beforeChange(top.key);
      const s = shardOf(top.key);
      this.heap.remove(top);
      this.ttl.delete(top.key, s);
      this.deadlineSum -= top.deadline;
      this.data.delete(top.key, s);
      if (this.onChange !== null) this.onChange(top.key, 'expire', this);
      n++;
      if (n % EXPIRE_BUDGET_STRIDE === 0 && stopAt !== Infinity && performance.now() >= stopAt) break;
    }
    this.expiredCount += n;
    return n;
  }

  /**
   * A live key chosen uniformly at random, or undefined when there is none
   * (RANDOMKEY): O(1) expected. An expired key drawn is deleted, as Redis's
   * RANDOMKEY does, and another drawn.
   */
  randomKey(rand: () => number = Math.random): string | undefined {
    for (;;) {
      const k = this.data.random(rand);
      if (k === undefined || this.getRaw(k) !== undefined) return k;
    }
  }

  /** Iterates over live keys (expired ones are skipped, not yielded). */
  *keys(): IterableIterator<string> {
    const now = this.now();
    for (const k of this.data.keys()) {
      const e = this.ttl.size === 0 ? undefined : this.ttl.get(k);
      if (e && e.deadline <= now) continue;
      yield k;
    }
  }

  /**
   * Number of shards: a SCAN cursor can walk them one by one with keysInShard.
   * A key never changes shard, so a key present for a whole walk is returned
   * exactly once, however the keyspace changes in between (Redis's SCAN
   * guarantee, which one Map's insertion order cannot give a resumable cursor).
   */
  static readonly shardCount = SHARD_COUNT;

  /** Live keys of shard i (0 ≤ i < Keyspace.shardCount); expired ones are skipped. */
  *keysInShard(i: number): IterableIterator<string> {
    const now = this.now();
    for (const k of this.data.keysOfShard(i)) {
      const e = this.ttl.size === 0 ? undefined : this.ttl.get(k);
      if (e && e.deadline <= now) continue;
      yield k;
    }
  }

  /**
   * Removes every key. Listeners hear of it first (while the keys are still
   * there: WATCH touches the watched keys that exist), as 'flush' (FLUSHDB) or
   * 'flushall' (one of the databases FLUSHALL empties).
   */
  flush(why: 'flush' | 'flushall' = 'flush'): void {
    if (this.beforeChange !== null) this.beforeChange(null);
    if (this.onChange !== null) this.onChange(null, why, this);
    this.data.clear();
    this.ttl.clear();
    this.heap.clear();
    this.deadlineSum = 0;
  }

  /**
   * Whether the key is in the table, expired or not, without expiring it
   * (Redis's dictFind on the db's dict: what SWAPDB's and FLUSHALL's WATCH
   * rules and the ready-key scan consult).
   */
  holds(key: string): boolean {
    return this.data.has(key);
  }

  /**
   * The key's value as stored, expired or not, without expiring it or
   * counting a lookup: what a write command just left (the AOF reads its
   * effect so even when a 1 ms TTL has passed meanwhile).
   */
  peek(key: string): Stored | undefined {
    return this.data.get(key, shardOf(key));
  }

  /**
   * SWAPDB: exchanges every key, value and TTL with other (and their expiry
   * counts), as Redis swaps two databases' dicts. The ids, and whatever is
   * kept per database index elsewhere (blocked clients, watched keys, the
   * clients that selected it), stay where they are. Listeners are not told:
   * the caller (ServerState.swapDatabases) does what Redis's dbSwapDatabases does.
   */
  swapContents(other: Keyspace): void {
    if (other === this) return;
    [this.data, other.data] = [other.data, this.data];
    [this.ttl, other.ttl] = [other.ttl, this.ttl];
    [this.heap, other.heap] = [other.heap, this.heap];
    [this.deadlineSum, other.deadlineSum] = [other.deadlineSum, this.deadlineSum];
    // A background save's hook follows the contents it guards (SWAPDB during BGSAVE).
    [this.beforeChange, other.beforeChange] = [other.beforeChange, this.beforeChange];
  }

  private expireIfDue(key: string, s: number): void {
    const e = this.ttl.get(key, s);
    if (e && e.deadline <= this.now()) {
      if (this.beforeChange !== null) this.beforeChange(key);
      this.heap.remove(e);
      this.ttl.delete(key, s);
      this.deadlineSum -= e.deadline;
      this.data.delete(key, s);
      this.expiredCount++;
      if (this.onChange !== null) this.onChange(key, 'expire', this);
    }
  }
}
