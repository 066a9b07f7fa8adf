// A point-in-time snapshot of the keyspaces without fork (Dragonfly's idea,
// at key granularity): the keys are serialized as RDB in slices between loop
// iterations, while clients keep writing. Before a write changes a key the
// walk has not reached yet, the keyspace's beforeChange hook (and, for
// in-place changes such as LPUSH onto an existing list, dispatch's
// beforeWrite hook) serializes that key's old value at once — "preserved"
// ahead of the walk — and marks it done, so the walk skips it later. A key
// that did not exist when the snapshot started is marked done the same way
// when it is first written, so it never enters the file.
//
// The walk goes shard by shard (the keyspace's 256 Maps). A shard below the
// cursor is finished: writes to it cost one comparison. Each shard's "done"
// set lives only until the walk has passed the shard. A FLUSHALL during the
// walk detaches the old Maps from the keyspace without emptying them; the
// snapshot holds them and the rest of the walk reads them, untouched.
//
// Used by BGSAVE (src/servers/persistence.ts) and by the background AOF
// rewrite (src/servers/aof.ts), which passes its own PieceWriter when the base
// is commands rather than an RDB (aof-use-rdb-preamble no).

import { performance } from 'node:perf_hooks';
import { Keyspace, type KeyShardView, type Stored } from '../store/keyspace.js';
import type { TtlEntry } from '../store/ttl.js';
import { RdbPieceWriter, type SaveOptions } from './rdb.js';

/** Where the snapshot's bytes go (a background file writer, for BGSAVE). */
export interface SnapshotSink {
  /** Takes a chunk of the file, in order; the bytes are valid only during the call (copy what is kept). */
  chunk(bytes: Uint8Array): void;
  /** Bytes handed over and not yet consumed: the walk waits while this is over maxBacklog. */
  backlog(): number;
}

/** What a snapshot did, for INFO and the log. */
export interface SnapshotStats {
  keys: number;
  bytes: number;
  /** Keys serialized by a write's hook ahead of the walk, and their bytes (INFO's rdb_last_cow_size). */
  preservedKeys: number;
  preservedBytes: number;
  /** The most bytes handed to the sink and not yet consumed at once. */
  peakBacklog: number;
  /** The longest step() (ms): the walk's longest stall of the loop. */
  longestStepMs: number;
}

/** What the walk serializes through: an RDB (RdbPieceWriter) or, for an AOF base of commands, the commands. */
export interface PieceWriter {
  /** Bytes serialized and not yet drained. */
  readonly pending: number;
  header(): void;
  /** Database db's keys follow (size null: its sizes were given before). */
  selectDb(db: number, size: number | null, expires: number): void;
  /** One key; throws for a value it cannot write (nothing half-written stays). */
  entry(key: string, v: Stored, deadlineUnixMs: number | undefined): void;
  eof(): void;
  /** Hands what is serialized to fn (valid only during the call) and starts over. */
  drainTo(fn: (bytes: Uint8Array) => void): void;
}

export type StepResult = 'more' | 'waiting' | 'done' | 'failed';

/** A chunk is handed to the sink once this many bytes are serialized. */
const CHUNK = 256 * 1024;
/** The walk pauses while the sink holds this many unconsumed bytes (memory bound). */
const MAX_BACKLOG = 4 * 1024 * 1024;

interface DbWalk {
  readonly ks: Keyspace;
  readonly data: readonly (KeyShardView | undefined)[];
  readonly ttl: readonly (ReadonlyMap<string, TtlEntry> | undefined)[];
  /** Monotonic ms at the start: a key whose deadline is not after it had expired. */
  readonly t0: number;
  readonly size: number;
  readonly expires: number;
  /** Shards below this are written; the shard at it is being walked. */
  cursor: number;
  iter: Iterator<string> | null;
  /** Per shard: keys already accounted for (written, or absent at the start). */
  readonly done: (Set<string> | undefined)[];
  /** A flush replaced the keyspace's Maps: what we hold can no longer change. */
  frozen: boolean;
  readonly prevHook: ((key: string | null) => void) | null;
}

export class Snapshot {
  readonly stats: SnapshotStats = { keys: 0, bytes: 0, preservedKeys: 0, preservedBytes: 0, peakBacklog: 0, longestStepMs: 0 };
  /** Why the snapshot failed (a value it cannot serialize), or null. */
  error: string | null = null;
  private readonly walks: DbWalk[] = [];
  private readonly out: PieceWriter;
  private db = 0;
  /** The database the last SELECTDB in the stream named. */
  private streamDb = -1;
  private readonly resized = new Set<number>();
  private attached = true;

  constructor(
    dbs: readonly Keyspace[],
    private readonly opts: SaveOptions,
    private readonly sink: SnapshotSink,
    private readonly maxBacklog = MAX_BACKLOG,
    out?: PieceWriter,
  ) {
    this.out = out ?? new RdbPieceWriter(opts);
    this.out.header();
    dbs.forEach((ks, i) => {
      if (ks.beforeChange !== null) throw new Error('a snapshot of this keyspace is already running');
      const { data, ttl } = ks.captureShards();
      const walk: DbWalk = {
        ks,
        data,
        ttl,
        t0: ks.now(),
        size: ks.size,
        expires: ks.volatileCount,
        cursor: ks.size === 0 ? Keyspace.shardCount : 0,
        iter: null,
        done: new Array(Keyspace.shardCount),
        frozen: false,
        prevHook: null,
      };
      this.walks.push(walk);
      ks.beforeChange = (key) => this.preserve(i, key);
    });
  }

  /** Dispatch's beforeWrite: a write command may change any key among its arguments in place. */
  preserveArgs(ks: Keyspace, args: readonly string[]): void {
    // Through the keyspace's own hook: after a SWAPDB it guards the other database's walk.
    const hook = ks.beforeChange;
    if (hook === null) return;
    for (let a = 1; a < args.length; a++) hook(args[a]);
  }

  /** Called before key (null: every key) of database i changes: write its old value now if the walk has not. */
  preserve(i: number, key: string | null): void {
    const w = this.walks[i];
    if (w.frozen || this.error !== null) return;
    if (key === null) {
      w.frozen = true; // the flush leaves our Maps as they are
      return;
    }
    const s = Keyspace.shardOf(key);
    if (s < w.cursor) return; // written already
    const map = w.data[s];
    if (map === undefined) return; // the shard was empty at the start, and is never walked
    let done = w.done[s];
    if (done === undefined) done = w.done[s] = new Set();
    else if (done.has(key)) return;
    done.add(key);
    const v = map.get(key);
    if (v === undefined) return; // not there at the start: never in the file
    const before = this.out.pending;
    if (!this.write(i, w, key, v, w.ttl[s]?.get(key))) return;
    this.stats.preservedKeys++;
    this.stats.preservedBytes += this.out.pending - before;
    if (this.out.pending >= CHUNK) this.hand();
  }

  /** Serializes one key; false if it was skipped (expired at the start) or failed. */
  private write(i: number, w: DbWalk, key: string, v: Stored, ttl: TtlEntry | undefined): boolean {
    if (ttl !== undefined && ttl.deadline <= w.t0) return false;
    if (this.streamDb !== i) {
      // RESIZEDB once per database: a hint to the loader, from the sizes at the start.
      this.out.selectDb(i, this.resized.has(i) ? null : w.size, w.expires);
      this.resized.add(i);
      this.streamDb = i;
    }
    try {
      this.out.entry(key, v, ttl === undefined ? undefined : Math.round(ttl.deadline + this.opts.unixOffsetMs));
    } catch (e) {
      this.fail((e as Error).message);
      return false;
    }
    this.stats.keys++;
    return true;
  }

  private fail(why: string): void {
    this.error = why;
    this.detach();
  }

  /** Hands what is serialized to the sink. */
  private hand(): void {
    if (this.out.pending === 0) return;
    this.stats.bytes += this.out.pending;
    this.out.drainTo((bytes) => this.sink.chunk(bytes));
    const backlog = this.sink.backlog();
    if (backlog > this.stats.peakBacklog) this.stats.peakBacklog = backlog;
  }

  /**
   * Walks for about budgetMs. 'more': call again (next iteration);
   * 'waiting': the sink is behind, call again once it has consumed;
   * 'done': every byte is handed over (hooks removed); 'failed': see error.
   */
  step(budgetMs: number): StepResult {
    const started = performance.now();
    const r = this.walk(started + budgetMs);
    const took = performance.now() - started;
    if (took > this.stats.longestStepMs) this.stats.longestStepMs = took;
    return r;
  }

  private walk(stopAt: number): StepResult {
    if (this.error !== null) return 'failed';
    if (this.db >= this.walks.length) return 'done';
    if (this.sink.backlog() > this.maxBacklog) return 'waiting';
    let n = 0;
    while (this.db < this.walks.length) {
      const w = this.walks[this.db];
      if (w.iter === null) {
        if (w.cursor >= Keyspace.shardCount) {
          this.db++;
          continue;
        }
        const map = w.data[w.cursor];
        if (map === undefined) {
          w.cursor++;
          continue;
        }
        w.iter = map.keys(); // keys, then get: entries() would allocate a pair per key
        w.done[w.cursor] ??= new Set();
      }
      const done = w.done[w.cursor]!;
      const map = w.data[w.cursor]!;
      const ttlMap = w.ttl[w.cursor];
      for (;;) {
        const r = w.iter.next();
        if (r.done === true) {
          w.iter = null;
          w.done[w.cursor] = undefined;
          w.cursor++;
          break;
        }
        const key = r.value;
        if (done.has(key)) continue;
        done.add(key);
        this.write(this.db, w, key, map.get(key)!, ttlMap?.get(key));
        if (this.error !== null) return 'failed';
        // The clock every 8 keys, and after any chunk handed over (big values: 8 of them can take far longer than the budget).
        let check = (++n & 7) === 0;
        if (this.out.pending >= CHUNK) {
          this.hand();
          if (this.sink.backlog() > this.maxBacklog) return 'waiting';
          check = true;
        }
        if (check && performance.now() >= stopAt) {
          this.hand();
          return 'more';
        }
      }
    }
    this.detach();
    this.out.eof();
    this.hand();
    return 'done';
  }

  /** Removes the hooks (at the end, on failure, or to abandon the snapshot). */
  detach(): void {
    if (!this.attached) return;
    this.attached = false;
    for (const w of this.walks) if (w.ks.beforeChange !== null) w.ks.beforeChange = w.prevHook;
  }

  get running(): boolean {
    return this.attached;
  }
}

/** Starts a snapshot of dbs (database i = dbs[i]) into sink; drive it with step() until 'done'. */
export function startSnapshot(dbs: readonly Keyspace[], opts: SaveOptions, sink: SnapshotSink): Snapshot {
  return new Snapshot(dbs, opts, sink);
}
