// The keyspace: key → value (string, hash, list, set, sorted set) plus the
// deadlines of keys with a TTL. Keys expire lazily (any lookup of an expired
// key deletes it first) and actively (expireSome, called from the loop's timer
// step with a cap per call). The clock is monotonic and injectable for tests.
// Both tables are sharded, so that no single set or delete stalls the loop for
// long: keys and values in a KeyTable (slots, for sampling and per-key access
// metadata), TTLs in a ShardedMap.
// A string written by a bit command, APPEND or SETRANGE, and any string of
// BIG_VALUE bytes or more, is held as a Bytes (mutable bytes off V8's heap, see
// bytes.ts); get() hands it out as a string, getRaw() as it is.

import { performance } from 'node:perf_hooks';
import { BIG_VALUE, Bytes } from './bytes.js';
import { List } from './list.js';
import { Stream } from './stream.js';
import { TtlHeap, type TtlEntry } from './ttl.js';
import { ZSet } from './zset.js';
import { KEY_OVERHEAD, TTL_ENTRY_BYTES, stringBytes, valueBytes } from './memsize.js';
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

/** A Map split over SHARD_COUNT Maps (created on first use); the subset of Map's API the TTL table uses. */
class ShardedMap<V> {
  private readonly shards: (Map<string, V> | undefined)[] = new Array(SHARD_COUNT);
  private count = 0;

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
    this.count += m.size - before;
  }

  delete(key: string, i = shardOf(key)): boolean {
    const m = this.shards[i];
    if (m === undefined || !m.delete(key)) return false;
    this.count--;
    return true;
  }

  clear(): void {
    this.shards.fill(undefined);
    this.count = 0;
  }

  /** The shard Maps themselves (a copy of the array, not of the Maps). */
  shardMaps(): (Map<string, V> | undefined)[] {
    return this.shards.slice();
  }
}

const EMPTY_MAP: ReadonlyMap<string, never> = new Map<string, never>();

/** What captureShards hands out per shard of the key table: a key's value, and the keys (live: changes show through). */
export interface KeyShardView {
  get(key: string): Stored | undefined;
  keys(): IterableIterator<string>;
}

/**
 * One shard of the key table: key → slot in a Map, the slot's key, value and
 * access metadata in arrays (a freed slot is reused). The arrays are what lets
 * eviction sample keys at random in O(1), and keep per-key metadata in 4 bytes
 * (a Uint32Array) rather than an object per key. The index Map is the same
 * object for the shard's whole life (emptying or compacting the shard keeps
 * it), so an iterator over its keys (a parked SCAN cursor, a background
 * save's walk) stays valid.
 */
class TableShard implements KeyShardView {
  readonly index = new Map<string, number>();
  slotKeys: (string | undefined)[] = [];
  vals: (Stored | undefined)[] = [];
  meta = new Uint32Array(8);
  free: number[] = [];

  get(key: string): Stored | undefined {
    const slot = this.index.get(key);
    return slot === undefined ? undefined : this.vals[slot];
  }

  keys(): IterableIterator<string> {
    return this.index.keys();
  }

  add(key: string, v: Stored, m: number): number {
    let slot = this.free.pop();
    if (slot === undefined) {
      slot = this.slotKeys.length;
      this.slotKeys.push(key);
      this.vals.push(v);
      if (slot >= this.meta.length) {
        const grown = new Uint32Array(this.meta.length * 2);
        grown.set(this.meta);
        this.meta = grown;
      }
    } else {
      this.slotKeys[slot] = key;
      this.vals[slot] = v;
    }
    this.meta[slot] = m;
    this.index.set(key, slot);
    return slot;
  }

  remove(key: string, slot: number): void {
    this.index.delete(key);
    this.slotKeys[slot] = undefined;
    this.vals[slot] = undefined;
    this.free.push(slot);
    // A shard emptied by deletions gives its arrays back.
    if (this.index.size === 0) {
      this.slotKeys = [];
      this.vals = [];
      this.free = [];
      if (this.meta.length > 8) this.meta = new Uint32Array(8);
    } else if (this.free.length > 64 && this.free.length > (this.slotKeys.length * 3) / 4) {
      this.compact();
    }
  }

  /**
   * Moves the live slots to the front once three quarters are free: random
   * sampling then finds a key within ~4 tries, and the arrays shrink. O(shard
   * size), after as many deletions: amortised O(1). The index Map only has
   * its values updated (its iteration order, and iterators over it, are kept).
   */
  private compact(): void {
    const n = this.index.size;
    const keys: (string | undefined)[] = new Array(n);
    const vals: (Stored | undefined)[] = new Array(n);
    const meta = new Uint32Array(Math.max(8, n * 2));
    let j = 0;
    for (let i = 0; i < this.slotKeys.length; i++) {
      const k = this.slotKeys[i];
      if (k === undefined) continue;
      keys[j] = k;
      vals[j] = this.vals[i];
      meta[j] = this.meta[i];
      this.index.set(k, j);
      j++;
    }
    this.slotKeys = keys;
    this.vals = vals;
    this.meta = meta;
    this.free = [];
  }
}

/** The key → value table: TableShards picked by shardOf, created on first use. */
class KeyTable {
  readonly shards: (TableShard | undefined)[] = new Array(SHARD_COUNT);
  size = 0;
  /**
   * Uniform random picks over the keys (RANDOMKEY): built on the first
   * random(), then kept up to date. The slots cannot give a uniform pick (the
   * shards differ in size by design, see SHARD_OF_HASH16), which eviction's
   * sampling does not need but RANDOMKEY promises.
   */
  private picker: Picker | null = null;

  shard(i: number): TableShard {
    let t = this.shards[i];
    if (t === undefined) t = this.shards[i] = new TableShard();
    return t;
  }

  /** A new key went in (after TableShard.add). */
  added(key: string): void {
    this.size++;
    if (this.picker !== null) this.picker.add(key);
  }

  /** A key went out (after TableShard.remove). */
  removed(key: string): void {
    this.size--;
    if (this.picker !== null) this.picker.delete(key);
  }

  /** Drops every shard: the TableShard objects are replaced, not emptied (a background save keeps walking them). */
  clear(): void {
    this.shards.fill(undefined);
    this.size = 0;
    this.picker = null;
  }

  has(key: string, i: number): boolean {
    return this.shards[i]?.index.has(key) ?? false;
  }

  /**
   * A key chosen uniformly, O(1). The first call indexes every key (O(n), once):
   * from then on each new key costs an array push and an index entry, each
   * delete a swap-remove, so a keyspace nobody samples pays nothing.
   */
  random(rand: () => number): string | undefined {
    if (this.size === 0) return undefined;
    if (this.picker === null) this.picker = new Picker(this.keys(), new ShardedMap<number>());
    return this.picker.pick(rand);
  }

  *keys(): IterableIterator<string> {
    for (const t of this.shards) if (t !== undefined) yield* t.index.keys();
  }

  keysOfShard(i: number): IterableIterator<string> {
    return (this.shards[i]?.index ?? EMPTY_MAP).keys();
  }
}

// ---- per-key access metadata (Redis's 24-bit robj.lru) ----

/** LRU: seconds of a 24-bit clock (Redis's LRU_CLOCK_MAX, resolution 1 s). */
export const LRU_CLOCK_MAX = (1 << 24) - 1;
/** LFU: the counter a new key starts with (Redis's LFU_INIT_VAL). */
export const LFU_INIT_VAL = 5;

/** How lookups update a key's metadata: the LRU clock, or the LFU counter and its decay time. */
export interface AccessPolicy {
  lfu: boolean;
  /** lfu-log-factor: how slowly the logarithmic counter grows. */
  lfuLogFactor: number;
  /** lfu-decay-time: minutes per decrement of an idle key's counter (0 = never). */
  lfuDecayTime: number;
}

/**
 * The access policy and the clocks keys are stamped with, shared by every
 * database of a server (Redis's server.lruclock is one clock): an idle time
 * computed in database 3 means the same as one in database 0, so eviction
 * can compare keys across databases.
 */
export class KeyAccess implements AccessPolicy {
  lfu = false;
  lfuLogFactor = 10;
  lfuDecayTime = 1;
  /** Redis's server.lruclock: seconds, 24 bits. */
  lruClock = 0;
  /** LFU's clock: minutes, 16 bits. */
  lfuMinutes = 0;
  /** The start (ms) of the second the clocks were last set for. */
  private from = -Infinity;

  /** Sets the clocks (ms; called once per command, as Redis caches its time). */
  setClock(ms: number): void {
    // One compare per command: the clocks change once a second.
    if (ms >= this.from && ms < this.from + 1000) return;
    const secs = Math.floor(ms / 1000);
    this.from = secs * 1000;
    this.lruClock = secs & LRU_CLOCK_MAX;
    this.lfuMinutes = Math.floor(secs / 60) & 0xffff;
  }
}

/** Collections remembered for measuring after a command at most (a command touching more settles as it goes). */
const MAX_DIRTY = 4096;

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
  private data = new KeyTable();
  private ttl = new ShardedMap<TtlEntry>();
  private heap = new TtlHeap();
  /** Keys removed because their TTL passed (lazily or actively). */
  expiredCount = 0;
  /** Keys removed by maxmemory's eviction (INFO's evicted_keys). */
  evictedCount = 0;
  /** INFO's keyspace_hits / keyspace_misses: lookups by get/getRaw/has while countLookups is on (dispatch turns it on for read-only commands). */
  hits = 0;
  misses = 0;
  countLookups = false;
  /** The sum of every TTL's deadline (INFO keyspace's avg_ttl). */
  private deadlineSum = 0;
  /**
   * Told of every key stored (put, replace), deleted, expired or evicted, and
   * of a flush (key null; 'flushall' when every database is flushed at once,
   * as FLUSHALL does): WATCH invalidation and blocked clients' ready keys
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
   * Told *before* a key is stored, deleted, expired, evicted, or has its TTL
   * changed, and before a flush (key null) — while the old value is still in
   * place. A background save (src/persist/snapshot.ts) preserves the key's
   * point-in-time value here. Null when no save runs: one check per write.
   */
  beforeChange: ((key: string | null) => void) | null = null;

  // ---- memory accounting (see memsize.ts and docs/DESIGN.md: Memory) ----
  // Not readonly: they go with the contents on SWAPDB.
  /** Estimated bytes of keys and values, kept on every write; collections as last measured. */
  private bytes = 0;
  /** The size of the collection (or Bytes) under a key as last measured, to take back out when it changes or goes. */
  private measured = new Map<string, number>();
  /**
   * Collections a write command may have changed in place (it looked them up):
   * measured again by settle(), after the command. True while a write command
   * runs (set by dispatch's execute).
   */
  writing = false;
  private dirty: string[] = [];

  /**
   * @param id the database index (SELECT's number): a server holds one
   *   Keyspace per database; keyspace notifications name it (`__keyspace@<id>__`).
   * @param access the access policy and clocks, shared by a server's databases;
   *   lookups update a key's LRU clock or, under an LFU maxmemory-policy, its LFU counter.
   */
  constructor(
    readonly now: () => number = monotonicNow,
    readonly id: number = 0,
    readonly access: KeyAccess = new KeyAccess(),
  ) {
    this.access.setClock(now());
  }

  /** The shard a key lives in (0 ≤ shard < Keyspace.shardCount). */
  static shardOf(key: string): number {
    return shardOf(key);
  }

  /**
   * The key table and the TTL table as they are now, shard by shard: the
   * shard objects themselves (undefined for a shard never used). A flush
   * replaces them rather than emptying them, so what is captured here stays
   * the pre-flush content; other changes show through (see beforeChange).
   */
  captureShards(): { data: readonly (KeyShardView | undefined)[]; ttl: readonly (ReadonlyMap<string, TtlEntry> | undefined)[] } {
    return { data: this.data.shards.slice(), ttl: this.ttl.shardMaps() };
  }

  /** Number of keys, counting expired keys not yet removed (like Redis's DBSIZE). */
  get size(): number {
    return this.data.size;
  }

  /** Number of keys with a TTL. */
  get volatileCount(): number {
    return this.ttl.size;
  }

  /** The LRU clock (INFO's lru_clock): seconds, 24 bits. */
  get currentLruClock(): number {
    return this.access.lruClock;
  }

  /** Sets the clocks access metadata is stamped with (ms; called once per command: the clocks are shared by every database). */
  setClock(ms: number): void {
    this.access.setClock(ms);
  }

  /**
   * The live value under key, or undefined (an expired key is deleted first).
   * A string held as Bytes comes back as a string (cached until it changes).
   * A lookup: it updates the key's access time (or LFU counter).
   */
  get(key: string): Value | undefined {
    const v = this.getRaw(key);
    // typeof first: GET's hot path pays no instanceof (no measurable cost at 10K keys).
    if (v === undefined || typeof v === 'string') return v;
    return !(v instanceof Bytes) ? v : v.toString();
  }

  /** As get(), but a string held as Bytes comes back as the Bytes (for the bit commands). */
  getRaw(key: string): Stored | undefined {
    const s = shardOf(key);
    if (this.ttl.size !== 0) this.expireIfDue(key, s);
    const t = this.data.shards[s];
    const slot = t?.index.get(key);
    if (slot === undefined) {
      if (this.countLookups) this.misses++;
      return undefined;
    }
    if (this.countLookups) this.hits++;
    const v = t!.vals[slot]!;
    const a = this.access;
    t!.meta[slot] = a.lfu ? this.lfuTouch(t!.meta[slot]) : a.lruClock;
    if (typeof v !== 'string' && this.writing && this.dirty.length < MAX_DIRTY) this.dirty.push(key);
    return v;
  }

  /**
   * The live value as stored, a lookup that counts for keyspace_hits/misses
   * but leaves the key's access metadata alone (Redis's LOOKUP_NOTOUCH:
   * EXISTS, TTL, TYPE, OBJECT, SCAN's checks).
   */
  lookupNoTouch(key: string): Stored | undefined {
    const v = this.peekLive(key);
    if (this.countLookups) v === undefined ? this.misses++ : this.hits++;
    return v;
  }

  /** Whether a live key exists: a lookup without an access update (as Redis's EXISTS, LOOKUP_NOTOUCH). */
  has(key: string): boolean {
    return this.lookupNoTouch(key) !== undefined;
  }

  /** The live value (an expired key is deleted first) without counting a lookup or an access (MEMORY USAGE, RANDOMKEY's draw). */
  peekLive(key: string): Stored | undefined {
    const s = shardOf(key);
    if (this.ttl.size !== 0) this.expireIfDue(key, s);
    const t = this.data.shards[s];
    const slot = t?.index.get(key);
    return slot === undefined ? undefined : t!.vals[slot];
  }

  /** The mean time to live of the keys with a TTL, ms (0 when none). */
  avgTtl(): number {
    const n = this.ttl.size;
    return n === 0 ? 0 : Math.max(0, Math.round(this.deadlineSum / n - this.now()));
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
    const isNew = this.reportNew && this.peekLive(key) === undefined;
    this.store(key, v, s);
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
    const why: KeyChange = this.onChange !== null && this.peekLive(key) !== undefined ? 'overwrite' : 'put';
    this.store(key, v, shardOf(key));
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
    if (!this.remove(key, s)) return false;
    if (this.onChange !== null) this.onChange(key, 'delete', this);
    return true;
  }

  /** Removes a key chosen by maxmemory's eviction; listeners hear 'evict'. */
  evict(key: string): boolean {
    if (this.beforeChange !== null) this.beforeChange(key);
    if (!this.remove(key, shardOf(key))) return false;
    this.evictedCount++;
    if (this.onChange !== null) this.onChange(key, 'evict', this);
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
    if (!this.has(key)) return -2;
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
      this.remove(top.key, shardOf(top.key));
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
   * RANDOMKEY does, and another drawn. Not a lookup (no access update).
   */
  randomKey(rand: () => number = Math.random): string | undefined {
    for (;;) {
      const k = this.data.random(rand);
      if (k === undefined || this.peekLive(k) !== undefined) return k;
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

  /** Live keys of shard i (0 ≤ i < Keyspace.shardCount), in its index Map's order; expired ones are skipped. */
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
    this.measured.clear();
    this.dirty = [];
    this.bytes = 0;
  }

  /**
   * Whether the key is in the table, expired or not, without expiring it
   * (Redis's dictFind on the db's dict: what SWAPDB's and FLUSHALL's WATCH
   * rules and the ready-key scan consult).
   */
  holds(key: string): boolean {
    return this.data.has(key, shardOf(key));
  }

  /**
   * The key's value as stored, expired or not, without expiring it or
   * counting a lookup or an access: what a write command just left (the AOF
   * reads its effect so even when a 1 ms TTL has passed meanwhile).
   */
  peek(key: string): Stored | undefined {
    return this.data.shards[shardOf(key)]?.get(key);
  }

  /**
   * SWAPDB: exchanges every key, value and TTL with other, with their byte
   * count and measurements, as Redis swaps two databases' dicts. The ids, the
   * expiry and eviction counts, and whatever is kept per database index
   * elsewhere (blocked clients, watched keys, the clients that selected it)
   * stay where they are. Listeners are not told: the caller
   * (ServerState.swapDatabases) does what Redis's dbSwapDatabases does.
   */
  swapContents(other: Keyspace): void {
    if (other === this) return;
    // Pending measurements belong to the keys where they are now.
    this.settle();
    other.settle();
    [this.data, other.data] = [other.data, this.data];
    [this.ttl, other.ttl] = [other.ttl, this.ttl];
    [this.heap, other.heap] = [other.heap, this.heap];
    [this.deadlineSum, other.deadlineSum] = [other.deadlineSum, this.deadlineSum];
    [this.bytes, other.bytes] = [other.bytes, this.bytes];
    [this.measured, other.measured] = [other.measured, this.measured];
    // A background save's hook follows the contents it guards (SWAPDB during BGSAVE).
    [this.beforeChange, other.beforeChange] = [other.beforeChange, this.beforeChange];
  }

  // ---- memory ----

  /** Measures again the collections written since the last call (after each write command). */
  settle(): void {
    const dirty = this.dirty;
    if (dirty.length === 0) return;
    this.dirty = [];
    for (const key of dirty) {
      const s = shardOf(key);
      const t = this.data.shards[s];
      const slot = t?.index.get(key);
      if (slot === undefined) continue;
      const v = t!.vals[slot]!;
      if (typeof v === 'string') continue;
      const before = this.measured.get(key) ?? 0;
      const now = valueBytes(v);
      this.measured.set(key, now);
      this.bytes += now - before;
    }
  }

  /** Estimated bytes of the dataset: keys, values (collections sampled), TTL entries. */
  datasetBytes(): number {
    this.settle();
    return this.bytes + this.ttl.size * TTL_ENTRY_BYTES;
  }

  /** Bytes of the TTL table alone (MEMORY STATS' overhead.hashtable.expires). */
  ttlBytes(): number {
    return this.ttl.size * TTL_ENTRY_BYTES;
  }

  // ---- access metadata and eviction's sampler ----

  /** The key's 24-bit access metadata (LRU clock or LFU time and counter), without touching it; undefined if missing. */
  metaOf(key: string): number | undefined {
    const s = shardOf(key);
    if (this.ttl.size !== 0) this.expireIfDue(key, s);
    const t = this.data.shards[s];
    const slot = t?.index.get(key);
    return slot === undefined ? undefined : t!.meta[slot];
  }

  /** Redis's estimateObjectIdleTime: ms since the LRU clock stamped in meta. */
  idleMs(meta: number): number {
    const lru = meta & LRU_CLOCK_MAX;
    const c = this.access.lruClock;
    return (c >= lru ? c - lru : c + (LRU_CLOCK_MAX - lru)) * 1000;
  }

  /** Redis's LFUDecrAndReturn: the counter in meta after the decay its idle minutes call for. */
  lfuCounter(meta: number): number {
    const ldt = (meta >>> 8) & 0xffff;
    const counter = meta & 0xff;
    const now = this.access.lfuMinutes;
    const elapsed = now >= ldt ? now - ldt : 65535 - ldt + now;
    const periods = this.access.lfuDecayTime > 0 ? Math.floor(elapsed / this.access.lfuDecayTime) : 0;
    return periods > counter ? 0 : counter - periods;
  }

  /** A non-empty shard from a random start (the next one round the ring): few shards in use cost no misses. */
  private randomShard(): TableShard {
    const shards = this.data.shards;
    let i = (Math.random() * SHARD_COUNT) | 0;
    for (;;) {
      const t = shards[i];
      if (t !== undefined && t.index.size !== 0) return t;
      i = (i + 1) & (SHARD_COUNT - 1);
    }
  }

  /**
   * A key picked by eviction's sampler (allkeys-random), or undefined if there
   * is none: a random slot of a random shard, O(1) and not uniform (RANDOMKEY
   * uses randomKey()). Expired keys not yet removed count.
   */
  sampleKey(): string | undefined {
    if (this.data.size === 0) return undefined;
    for (;;) {
      const t = this.randomShard();
      // Rejection sampling over the slots (a freed one is empty; compaction keeps a quarter live at least).
      const k = t.slotKeys[(Math.random() * t.slotKeys.length) | 0];
      if (k !== undefined) return k;
    }
  }

  /** Up to n keys with their metadata, picked at random (eviction's sampling). Returns how many were written. */
  sample(n: number, keysOut: string[], metaOut: number[]): number {
    let got = 0;
    if (this.data.size === 0) return 0;
    for (let tries = 0; got < n && tries < n * 16; tries++) {
      const t = this.randomShard();
      const slot = (Math.random() * t.slotKeys.length) | 0;
      const k = t.slotKeys[slot];
      if (k === undefined) continue;
      keysOut[got] = k;
      metaOut[got] = t.meta[slot];
      got++;
    }
    return got;
  }

  /** Up to n keys with a TTL picked at random, with their metadata. */
  sampleVolatile(n: number, keysOut: string[], metaOut: number[]): number {
    const size = this.heap.size;
    if (size === 0) return 0;
    let got = 0;
    for (let i = 0; i < n; i++) {
      const e = this.heap.at((Math.random() * size) | 0);
      const s = shardOf(e.key);
      const slot = this.data.shards[s]?.index.get(e.key);
      if (slot === undefined) continue;
      keysOut[got] = e.key;
      metaOut[got] = this.data.shards[s]!.meta[slot];
      got++;
    }
    return got;
  }

  /** A random key with a TTL (volatile-random), or undefined. */
  sampleVolatileKey(): string | undefined {
    const size = this.heap.size;
    return size === 0 ? undefined : this.heap.at((Math.random() * size) | 0).key;
  }

  /** The key with the nearest deadline (volatile-ttl), or undefined. */
  soonestExpiring(): string | undefined {
    return this.heap.peek()?.key;
  }

  // ---- internals ----

  /** A lookup under an LFU policy: Redis's updateLFU (decay, then a logarithmic increment). */
  private lfuTouch(meta: number): number {
    let counter = this.lfuCounter(meta);
    if (counter < 255) {
      const base = counter - LFU_INIT_VAL;
      const p = 1 / ((base < 0 ? 0 : base) * this.access.lfuLogFactor + 1);
      if (Math.random() < p) counter++;
    }
    return (this.access.lfuMinutes << 8) | counter;
  }

  /** Stores v under key in shard s, accounting for its bytes. */
  private store(key: string, v: Stored, s: number): void {
    // A large string goes off V8's heap as Bytes (bytes.ts: why, and BIG_VALUE's choice).
    if (typeof v === 'string' && v.length >= BIG_VALUE) v = Bytes.ofValue(v);
    const t = this.data.shard(s);
    const slot = t.index.get(key);
    const a = this.access;
    let add = 0;
    if (slot === undefined) {
      add += KEY_OVERHEAD + stringBytes(key);
      t.add(key, v, a.lfu ? (a.lfuMinutes << 8) | LFU_INIT_VAL : a.lruClock);
      this.data.added(key);
    } else {
      // The old value's bytes go first: the new value's measurement takes its place under the key.
      const prev = t.vals[slot]!;
      add -= this.forget(key, prev);
      // An overwritten large value's buffer can take the next one (bytes.ts).
      if (prev instanceof Bytes && prev !== v) prev.retire();
      t.vals[slot] = v;
      // Redis's dbSetValue: an overwritten key keeps its LFU counter; under LRU it is fresh.
      if (!a.lfu) t.meta[slot] = a.lruClock;
    }
    add += typeof v === 'string' ? stringBytes(v) : this.measure(v, key);
    this.bytes += add;
  }

  /** Removes key from shard s with its TTL; false if it was not there. */
  private remove(key: string, s: number): boolean {
    const t = this.data.shards[s];
    const slot = t?.index.get(key);
    if (slot === undefined) return false;
    const v = t!.vals[slot]!;
    this.bytes -= KEY_OVERHEAD + stringBytes(key) + this.forget(key, v);
    t!.remove(key, slot);
    this.data.removed(key);
    if (this.ttl.size !== 0) {
      const e = this.ttl.get(key, s);
      if (e) {
        this.heap.remove(e);
        this.ttl.delete(key, s);
        this.deadlineSum -= e.deadline;
      }
    }
    return true;
  }

  /**
   * A non-string value's bytes now, remembered. The command storing it may
   * still be filling it (a new list, then its pushes): it is measured again by
   * settle(), after the command.
   */
  private measure(v: Exclude<Stored, string>, key: string): number {
    const n = valueBytes(v);
    this.measured.set(key, n);
    if (this.dirty.length >= MAX_DIRTY) this.settle();
    this.dirty.push(key);
    return n;
  }

  /** The bytes key's value was counted for, forgotten (it left the keyspace or was replaced). */
  private forget(key: string, v: Stored): number {
    if (typeof v === 'string') return stringBytes(v);
    const n = this.measured.get(key) ?? 0;
    this.measured.delete(key);
    return n;
  }

  private expireIfDue(key: string, s: number): void {
    const e = this.ttl.get(key, s);
    if (e && e.deadline <= this.now()) {
      if (this.beforeChange !== null) this.beforeChange(key);
      this.remove(key, s);
      this.expiredCount++;
      if (this.onChange !== null) this.onChange(key, 'expire', this);
    }
  }
}
