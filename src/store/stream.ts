// The stream value type (Redis's t_stream.c data model, not its bytes).
//
// Entries are kept in ID order in a chunked array: a list of chunks, each an
// array of at most NODE_MAX_ENTRIES slots. XADD only ever appends (a new ID is
// always greater than the stream's last one), so no entry is ever inserted in
// the middle and a balanced tree buys nothing over this shape:
//
// - XADD appends to the last chunk, or opens a new one: O(1) amortized.
// - Finding the first entry ≥ an ID (XRANGE's start, XDEL, XREAD) is a binary
//   search over the chunks' first IDs, then over the slots of one chunk:
//   O(log n). `visits` counts the IDs those searches compare, so a test can
//   check the shape of the work rather than a time.
// - XDEL leaves a tombstone (the slot's entry becomes null, the chunk's live
//   count drops); a chunk whose last live entry goes is removed from the list
//   (a splice of the chunk array: n / NODE_MAX_ENTRIES pointers). Slots are never
//   reused, as Redis never reuses a deleted entry's place in its listpack node.
// - Trimming (MAXLEN, MINID) removes whole chunks from the front, then, unless
//   approximate (`~`), tombstones entries inside the first remaining chunk.
//
// A chunk is Redis's rax node, closed where Redis closes one: after
// NODE_MAX_ENTRIES slots (live or deleted, Redis's stream-node-max-entries) or
// when the listpack Redis would hold for it would reach NODE_MAX_BYTES
// (stream-node-max-bytes). The chunk keeps that listpack's size, computed from
// Redis's layout (master entry, per-entry flags, ID deltas, same-fields
// compression, integer and string encodings, backlens) without building it, so
// approximate trimming removes what Redis removes and XINFO's radix-tree-keys
// are Redis's.

export const NODE_MAX_ENTRIES = 100;

export const U64_MAX = (1n << 64n) - 1n;

export interface StreamID {
  readonly ms: bigint;
  readonly seq: bigint;
}

export const ZERO_ID: StreamID = { ms: 0n, seq: 0n };
export const MAX_ID: StreamID = { ms: U64_MAX, seq: U64_MAX };

export function cmpId(a: StreamID, b: StreamID): number {
  if (a.ms !== b.ms) return a.ms < b.ms ? -1 : 1;
  if (a.seq !== b.seq) return a.seq < b.seq ? -1 : 1;
  return 0;
}

export function idText(id: StreamID): string {
  return `${id.ms}-${id.seq}`;
}

export function isZeroId(id: StreamID): boolean {
  return id.ms === 0n && id.seq === 0n;
}

/** The next ID (streamIncrID); null past the last possible one. */
export function incrId(id: StreamID): StreamID | null {
  if (id.seq === U64_MAX) {
    if (id.ms === U64_MAX) return null;
    return { ms: id.ms + 1n, seq: 0n };
  }
  return { ms: id.ms, seq: id.seq + 1n };
}

/** The previous ID (streamDecrID); null before 0-0. */
export function decrId(id: StreamID): StreamID | null {
  if (id.seq === 0n) {
    if (id.ms === 0n) return null;
    return { ms: id.ms - 1n, seq: U64_MAX };
  }
  return { ms: id.ms, seq: id.seq - 1n };
}

export interface StreamEntry {
  readonly id: StreamID;
  /** field, value, field, value, … */
  readonly fields: string[];
}

interface Chunk {
  /** Slots in ID order; null where an entry was deleted. */
  readonly slots: (StreamEntry | null)[];
  live: number;
  /** The size Redis's listpack for this node would have (see listpackBytes). */
  bytes: number;
  /** The fields of the node's first entry (Redis's master entry). */
  readonly masterFields: string[];
}

/**
 * Redis closes a stream node when its listpack would reach this many bytes
 * (stream-node-max-bytes' default) or NODE_MAX_ENTRIES entries.
 */
export const NODE_MAX_BYTES = 4096;

/** Bytes of a listpack integer element (encoding + backlen). */
function lpIntBytes(v: bigint): number {
  let enc: number;
  if (v >= 0n && v <= 127n) enc = 1;
  else if (v >= -4096n && v <= 4095n) enc = 2;
  else if (v >= -32768n && v <= 32767n) enc = 3;
  else if (v >= -8388608n && v <= 8388607n) enc = 4;
  else if (v >= -2147483648n && v <= 2147483647n) enc = 5;
  else enc = 9;
  return enc + 1;
}

const LP_INT = /^-?(0|[1-9][0-9]*)$/;
const INT64_MIN = -(1n << 63n);
const INT64_MAX = (1n << 63n) - 1n;

/** Bytes of a listpack element holding s: an integer if s is one (lpStringToInt64), else a string. */
function lpStrBytes(s: string): number {
  if (s.length > 0 && s.length <= 20 && LP_INT.test(s) && s !== '-0') {
    const v = BigInt(s);
    if (v >= INT64_MIN && v <= INT64_MAX) return lpIntBytes(v);
  }
  const n = s.length;
  const enc = n < 64 ? 1 + n : n < 4096 ? 2 + n : 5 + n;
  const back = enc <= 127 ? 1 : enc < 16383 ? 2 : enc < 2097151 ? 3 : enc < 268435455 ? 4 : 5;
  return enc + back;
}

/** An unsigned 64-bit difference as the int64 Redis stores it. */
function asInt64(v: bigint): bigint {
  return BigInt.asIntN(64, v);
}

function sameFields(entryFields: string[], master: string[]): boolean {
  if (entryFields.length / 2 !== master.length) return false;
  for (let i = 0; i < master.length; i++) if (entryFields[i * 2] !== master[i]) return false;
  return true;
}

/** Bytes an entry adds to its node's listpack (streamAppendItem's layout). */
function entryBytes(id: StreamID, master: StreamID, fields: string[], masterFields: string[]): number {
  const same = sameFields(fields, masterFields);
  const numfields = fields.length / 2;
  let n = lpIntBytes(same ? 2n : 0n) + lpIntBytes(asInt64(id.ms - master.ms)) + lpIntBytes(asInt64(id.seq - master.seq));
  if (!same) n += lpIntBytes(BigInt(numfields));
  for (let i = 0; i < fields.length; i += 2) {
    if (!same) n += lpStrBytes(fields[i]);
    n += lpStrBytes(fields[i + 1]);
  }
  return n + lpIntBytes(BigInt(numfields + 3 + (same ? 0 : numfields + 1)));
}

/** A new node's listpack: header, master entry (count, deleted, fields), then the first entry. */
function newNodeBytes(id: StreamID, fields: string[], masterFields: string[]): number {
  let n = 6 + 1 + lpIntBytes(1n) + lpIntBytes(0n) + lpIntBytes(BigInt(masterFields.length)) + lpIntBytes(0n);
  for (const f of masterFields) n += lpStrBytes(f);
  return n + entryBytes(id, id, fields, masterFields);
}

/** One pending (delivered, not yet acknowledged) entry of a consumer group. */
export interface Nack {
  consumer: Consumer;
  /** Unix ms of the last delivery. */
  deliveryTime: number;
  deliveryCount: number;
}

/**
 * A map from IDs to values kept in ID order: a sorted array of IDs (binary
 * search; appending in order, the common case, is O(1), an insertion elsewhere
 * or a removal moves the tail) beside a Map for O(1) lookups by ID text.
 */
export class IdMap<V> {
  private readonly ids: StreamID[] = [];
  private readonly byText = new Map<string, V>();

  get size(): number {
    return this.ids.length;
  }

  get(id: StreamID): V | undefined {
    return this.byText.get(idText(id));
  }

  has(id: StreamID): boolean {
    return this.byText.has(idText(id));
  }

  /** Index of the first ID ≥ id. */
  private lowerBound(id: StreamID): number {
    const { ids } = this;
    const n = ids.length;
    if (n === 0 || cmpId(ids[n - 1], id) < 0) return n;
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cmpId(ids[mid], id) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Sets id's value; true if it was new. */
  set(id: StreamID, v: V): boolean {
    const t = idText(id);
    const had = this.byText.has(t);
    this.byText.set(t, v);
    if (had) return false;
    const i = this.lowerBound(id);
    if (i === this.ids.length) this.ids.push(id);
    else this.ids.splice(i, 0, id);
    return true;
  }

  delete(id: StreamID): boolean {
    if (!this.byText.delete(idText(id))) return false;
    const i = this.lowerBound(id);
    this.ids.splice(i, 1);
    return true;
  }

  first(): StreamID | undefined {
    return this.ids[0];
  }

  last(): StreamID | undefined {
    return this.ids[this.ids.length - 1];
  }

  /** [id, value] pairs with start ≤ id ≤ end, in order. */
  *range(start: StreamID, end: StreamID = MAX_ID): IterableIterator<[StreamID, V]> {
    const { ids } = this;
    for (let i = this.lowerBound(start); i < ids.length; i++) {
      const id = ids[i];
      if (cmpId(id, end) > 0) return;
      yield [id, this.byText.get(idText(id))!];
    }
  }
}

export interface Consumer {
  readonly name: string;
  /** Unix ms it was last seen (read or claimed through). */
  seenTime: number;
  readonly pel: IdMap<Nack>;
}

/** Redis's SCG_INVALID_ENTRIES_READ. */
export const INVALID_ENTRIES_READ = -1;

export interface ConsumerGroup {
  readonly name: string;
  lastId: StreamID;
  /** Entries the group has read, or INVALID_ENTRIES_READ when unknown. */
  entriesRead: number;
  readonly pel: IdMap<Nack>;
  /** Consumers in creation order (XINFO CONSUMERS lists them sorted by name: see sortedConsumers). */
  readonly consumers: Map<string, Consumer>;
}

export class Stream {
  private chunks: Chunk[] = [];
  /** Live entries. */
  length = 0;
  lastId: StreamID = ZERO_ID;
  /** The first live entry's ID, 0-0 when empty (as Redis keeps first_id). */
  firstId: StreamID = ZERO_ID;
  /** Entries ever added (XSETID may set it). */
  entriesAdded = 0;
  maxDeletedId: StreamID = ZERO_ID;
  readonly groups = new Map<string, ConsumerGroup>();
  /** IDs compared by searches since creation (tests: the work of a search, not its time). */
  visits = 0;

  /** Number of chunks (Redis's rax nodes), for XINFO STREAM's radix-tree-nodes stand-in. */
  get chunkCount(): number {
    return this.chunks.length;
  }

  /**
   * The node count of Redis's radix tree over the chunks' keys (each chunk's
   * first ID, 16 bytes big-endian), as a canonical compressed radix tree has
   * them: XINFO STREAM's radix-tree-nodes. (Redis's rax may keep a node more
   * after some deletions; see the README.)
   */
  radixNodes(): number {
    const keys = this.chunks.map((c) => {
      const id = this.slotId(c, 0);
      const b = new Uint8Array(16);
      let ms = id.ms;
      let seq = id.seq;
      for (let i = 7; i >= 0; i--) {
        b[i] = Number(ms & 0xffn);
        b[8 + i] = Number(seq & 0xffn);
        ms >>= 8n;
        seq >>= 8n;
      }
      return b;
    });
    const count = (set: Uint8Array[], d: number): number => {
      if (d === 16) return 1;
      const first = set[0][d];
      if (set.every((k) => k[d] === first)) {
        let e = d + 1;
        while (e < 16 && set.every((k) => k[e] === set[0][e])) e++;
        return 1 + count(set, e);
      }
      const by = new Map<number, Uint8Array[]>();
      for (const k of set) {
        const g = by.get(k[d]);
        if (g === undefined) by.set(k[d], [k]);
        else g.push(k);
      }
      let n = 1;
      for (const g of by.values()) n += count(g, d + 1);
      return n;
    };
    return keys.length === 0 ? 1 : count(keys, 0);
  }

  /** Appends an entry whose ID is greater than lastId (the caller checks). */
  append(id: StreamID, fields: string[]): void {
    const entry: StreamEntry = { id, fields };
    const last = this.chunks[this.chunks.length - 1];
    let totelelen = 0;
    for (const f of fields) totelelen += f.length;
    // streamAppendItem: a new node once the listpack would reach NODE_MAX_BYTES or the node holds NODE_MAX_ENTRIES slots.
    if (last !== undefined && last.bytes + totelelen < NODE_MAX_BYTES && last.slots.length < NODE_MAX_ENTRIES) {
      last.bytes += entryBytes(id, this.slotId(last, 0), fields, last.masterFields);
      last.slots.push(entry);
      last.live++;
    } else {
      const masterFields: string[] = [];
      for (let i = 0; i < fields.length; i += 2) masterFields.push(fields[i]);
      this.chunks.push({ slots: [entry], live: 1, bytes: newNodeBytes(id, fields, masterFields), masterFields });
    }
    if (this.length === 0) this.firstId = id;
    this.length++;
    this.entriesAdded++;
    this.lastId = id;
  }

  /** Position (chunk, slot) of the first slot whose ID is ≥ id (tombstones included), or chunk = chunks.length. */
  private seek(id: StreamID): [number, number] {
    const { chunks } = this;
    // The last chunk whose first slot ID is ≤ id.
    let lo = 0;
    let hi = chunks.length - 1;
    if (hi < 0) return [0, 0];
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      this.visits++;
      if (cmpId(this.slotId(chunks[mid], 0), id) <= 0) lo = mid;
      else hi = mid - 1;
    }
    const slots = chunks[lo].slots;
    let a = 0;
    let b = slots.length;
    while (a < b) {
      const mid = (a + b) >> 1;
      this.visits++;
      if (cmpId(this.slotId(chunks[lo], mid), id) < 0) a = mid + 1;
      else b = mid;
    }
    if (a === slots.length) return [lo + 1, 0];
    return [lo, a];
  }

  /** A slot's ID, also of a tombstone (tombstones keep their ID for searching). */
  private slotId(chunk: Chunk, i: number): StreamID {
    const e = chunk.slots[i];
    return e !== null ? e.id : (chunk as ChunkWithIds).dead![i].id;
  }

  /** Live entries with start ≤ id ≤ end, ascending; at most count (0: all). */
  *range(start: StreamID, end: StreamID, count = 0): IterableIterator<StreamEntry> {
    if (cmpId(start, end) > 0) return;
    let [c, i] = this.seek(start);
    let n = 0;
    const { chunks } = this;
    for (; c < chunks.length; c++, i = 0) {
      const slots = chunks[c].slots;
      for (; i < slots.length; i++) {
        const e = slots[i];
        if (e === null) continue;
        if (cmpId(e.id, end) > 0) return;
        yield e;
        if (++n === count) return;
      }
    }
  }

  /** Live entries with start ≤ id ≤ end, descending; at most count (0: all). */
  *revRange(start: StreamID, end: StreamID, count = 0): IterableIterator<StreamEntry> {
    if (cmpId(start, end) > 0) return;
    const { chunks } = this;
    // Start at the last slot ≤ end.
    let [c, i] = this.seek(end);
    // seek gives the first slot ≥ end: step back unless it equals end.
    if (c < chunks.length && cmpId(this.slotId(chunks[c], i), end) === 0) {
      // keep
    } else if (i > 0) i--;
    else {
      c--;
      if (c < 0) return;
      i = chunks[c].slots.length - 1;
    }
    let n = 0;
    for (; c >= 0; c--, i = c >= 0 ? chunks[c].slots.length - 1 : 0) {
      const slots = chunks[c].slots;
      for (; i >= 0; i--) {
        const e = slots[i];
        if (e === null) continue;
        if (cmpId(e.id, start) < 0) return;
        yield e;
        if (++n === count) return;
      }
    }
  }

  /** The entry with this ID, if live. */
  get(id: StreamID): StreamEntry | undefined {
    const [c, i] = this.seek(id);
    if (c >= this.chunks.length) return undefined;
    const e = this.chunks[c].slots[i];
    return e !== null && cmpId(e.id, id) === 0 ? e : undefined;
  }

  /** The last live entry (streamLastValidID's entry). */
  lastEntry(): StreamEntry | undefined {
    for (const e of this.revRange(ZERO_ID, MAX_ID, 1)) return e;
    return undefined;
  }

  firstEntry(): StreamEntry | undefined {
    for (const e of this.range(ZERO_ID, MAX_ID, 1)) return e;
    return undefined;
  }

  /** Tombstones the entry with this ID (XDEL); false if there is none. Updates length and firstId, not maxDeletedId. */
  delete(id: StreamID): boolean {
    const [c, i] = this.seek(id);
    if (c >= this.chunks.length) return false;
    const chunk = this.chunks[c];
    const e = chunk.slots[i];
    if (e === null || cmpId(e.id, id) !== 0) return false;
    this.tombstone(chunk, i);
    if (chunk.live === 0) this.chunks.splice(c, 1);
    this.length--;
    return true;
  }

  private tombstone(chunk: Chunk, i: number): void {
    const c = chunk as ChunkWithIds;
    if (c.dead === undefined) c.dead = [];
    c.dead[i] = chunk.slots[i]!;
    chunk.slots[i] = null;
    chunk.live--;
  }

  /** Recomputes firstId (streamGetEdgeID on the first live entry). */
  refreshFirst(): void {
    this.firstId = this.length === 0 ? ZERO_ID : (this.firstEntry()?.id ?? ZERO_ID);
  }

  /**
   * Redis's streamTrim: MAXLEN (keep at most maxLen entries) or MINID (drop
   * entries below minId). Whole chunks go first; `approx` stops at the first
   * chunk that cannot go whole; `limit` (0: none) caps the entries removed
   * with whole chunks. Returns how many were removed.
   */
  trim(strategy: 'maxlen' | 'minid', maxLen: number, minId: StreamID, approx: boolean, limit: number): number {
    let deleted = 0;
    const { chunks } = this;
    while (chunks.length > 0) {
      if (strategy === 'maxlen' && this.length <= maxLen) break;
      const chunk = chunks[0];
      const entries = chunk.live;
      if (limit !== 0 && deleted + entries > limit) break;
      let removeNode: boolean;
      if (strategy === 'maxlen') removeNode = this.length - entries >= maxLen;
      else removeNode = cmpId(this.slotId(chunk, chunk.slots.length - 1), minId) < 0;
      if (removeNode) {
        chunks.shift();
        this.length -= entries;
        deleted += entries;
        continue;
      }
      if (approx) break;
      for (let i = 0; i < chunk.slots.length; i++) {
        const e = chunk.slots[i];
        const stop = strategy === 'maxlen' ? this.length <= maxLen : cmpId(this.slotId(chunk, i), minId) >= 0;
        if (stop) break;
        if (e === null) continue;
        this.tombstone(chunk, i);
        this.length--;
        deleted++;
      }
      if (chunk.live === 0) chunks.shift();
      break;
    }
    this.refreshFirst();
    return deleted;
  }

  /** Redis's streamRangeHasTombstones. */
  rangeHasTombstones(start: StreamID | null, end: StreamID | null): boolean {
    if (this.length === 0 || isZeroId(this.maxDeletedId)) return false;
    if (cmpId(this.firstId, this.maxDeletedId) > 0) return false;
    const s = start ?? ZERO_ID;
    const e = end ?? MAX_ID;
    return cmpId(s, this.maxDeletedId) <= 0 && cmpId(this.maxDeletedId, e) <= 0;
  }

  /** Redis's streamEstimateDistanceFromFirstEverEntry. */
  estimateDistance(id: StreamID): number {
    if (this.entriesAdded === 0) return 0;
    if (this.length === 0 && cmpId(id, this.lastId) < 1) return this.entriesAdded;
    const cmpLast = cmpId(id, this.lastId);
    if (cmpLast === 0) return this.entriesAdded;
    if (cmpLast > 0) return INVALID_ENTRIES_READ;
    const cmpFirst = cmpId(id, this.firstId);
    const cmpXdelFirst = cmpId(this.maxDeletedId, this.firstId);
    if (isZeroId(this.maxDeletedId) || cmpXdelFirst < 0) {
      if (cmpFirst < 0) return this.entriesAdded - this.length;
      if (cmpFirst === 0) return this.entriesAdded - this.length + 1;
    }
    return INVALID_ENTRIES_READ;
  }

  /** The nodes (Redis's rax of listpacks), in ID order, for the RDB writer. */
  *nodes(): IterableIterator<StreamNode> {
    for (const c of this.chunks) {
      const dead = (c as ChunkWithIds).dead;
      const entries = c.slots.map((e, i) => (e !== null ? { entry: e, deleted: false } : { entry: dead![i], deleted: true }));
      yield { masterId: this.slotId(c, 0), masterFields: c.masterFields, entries, bytes: c.bytes };
    }
  }

  /**
   * Appends a node read from an RDB file (the loader checks that its IDs
   * ascend past the previous node's, and that it holds a live entry). The
   * stream's counters (length, IDs, entriesAdded) are the caller's to set.
   */
  loadNode(node: StreamNode): void {
    const slots: (StreamEntry | null)[] = [];
    const dead: StreamEntry[] = [];
    let live = 0;
    node.entries.forEach(({ entry, deleted }, i) => {
      if (deleted) {
        slots.push(null);
        dead[i] = entry;
      } else {
        slots.push(entry);
        live++;
      }
    });
    const chunk: ChunkWithIds = { slots, live, bytes: node.bytes, masterFields: node.masterFields };
    if (dead.length > 0) chunk.dead = dead;
    this.chunks.push(chunk);
  }

  /** A deep copy (COPY). */
  clone(): Stream {
    const s = new Stream();
    // Node by node, tombstones included, as Redis's streamDup copies its listpacks.
    s.chunks = this.chunks.map((c) => {
      const copy: ChunkWithIds = { slots: c.slots.slice(), live: c.live, bytes: c.bytes, masterFields: c.masterFields };
      const dead = (c as ChunkWithIds).dead;
      if (dead !== undefined) copy.dead = dead.slice();
      return copy;
    });
    s.length = this.length;
    s.lastId = this.lastId;
    s.firstId = this.firstId;
    s.entriesAdded = this.entriesAdded;
    s.maxDeletedId = this.maxDeletedId;
    for (const g of this.groups.values()) {
      const ng: ConsumerGroup = { name: g.name, lastId: g.lastId, entriesRead: g.entriesRead, pel: new IdMap(), consumers: new Map() };
      for (const c of g.consumers.values()) ng.consumers.set(c.name, { name: c.name, seenTime: c.seenTime, pel: new IdMap() });
      for (const [id, n] of g.pel.range(ZERO_ID)) {
        const consumer = ng.consumers.get(n.consumer.name)!;
        const nn: Nack = { consumer, deliveryTime: n.deliveryTime, deliveryCount: n.deliveryCount };
        ng.pel.set(id, nn);
        consumer.pel.set(id, nn);
      }
      s.groups.set(g.name, ng);
    }
    return s;
  }

  /**
   * WATCH's fingerprint: the entries alone. redis-server 7.0.15 signals a
   * stream as modified when its entries change (XADD, XDEL, XTRIM), not for
   * XSETID, XREADGROUP, XACK, XCLAIM or XGROUP (test/compat/streams.test.ts).
   */
  fingerprint(): string {
    let s = `x${this.length}`;
    for (const e of this.range(ZERO_ID, MAX_ID)) s += `\0${idText(e.id)}\0${e.fields.join('\0')}`;
    return s;
  }
}

interface ChunkWithIds extends Chunk {
  /**
   * The entries of the tombstoned slots: Redis keeps a deleted entry in its
   * node's listpack (flagged deleted) until the node goes, and so does the RDB
   * encoding of the stream.
   */
  dead?: StreamEntry[];
}

/** One node as the RDB encoding holds it: its entries in slot order, deleted ones flagged. */
export interface StreamNode {
  readonly masterId: StreamID;
  readonly masterFields: string[];
  readonly entries: { readonly entry: StreamEntry; readonly deleted: boolean }[];
  /** Its listpack's size in bytes. */
  readonly bytes: number;
}
