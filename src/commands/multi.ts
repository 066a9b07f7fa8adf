// Transactions: MULTI, EXEC, DISCARD, WATCH, UNWATCH, as Redis's multi.c.
// Queueing happens in dispatch (a command inside MULTI is checked, then
// queued with +QUEUED; a refused one marks the transaction failed, and EXEC
// answers EXECABORT). EXEC runs the queue with nothing in between, so it is
// atomic; blocking commands in it behave as their non-blocking forms.
//
// WATCH: a watched key is "touched" when any client (the watcher included)
// changes it before EXEC; EXEC then answers a null array. Changes reach us in
// two ways: the keyspace's listener reports keys stored, deleted, expired
// and flushed; and while any key is watched, every write command runs inside
// `aroundWrite`, which compares a snapshot of each watched key among its
// arguments before and after it ran (unless every watcher of the key is
// already touched) — that catches in-place changes (LPUSH
// onto an existing list) without a hook in every command, and ignores writes
// that changed nothing (SREM of a missing member), as Redis's signalModifiedKey
// does. Both are installed only while some key is watched: the hot path pays
// nothing otherwise. A snapshot costs O(size of the value), paid only for
// watched keys that a write command names, and only until the key is touched.

import { ErrCode, type ReplyWriter } from '../protocol/reply.js';
import { List, Stream, ZSet, type Keyspace } from '../store/keyspace.js';
import { NO_KEYS, ALL_KEYS } from './common.js';
import { execute } from './dispatch.js';
import type { ClientState, CommandSpec, KeyListener, ServerContext } from './types.js';

/**
 * The server's watched keys. A watched key is (database, key), as in Redis:
 * per database index, key → watching clients; per client, its keys per
 * database index. The maps are indexed by the index, not the Keyspace: SWAPDB
 * moves contents between Keyspaces, and a watcher stays with its index.
 */
class Watches {
  /** byDb[id]: key → watching clients (created on first use). */
  private readonly byDb: (Map<string, Set<ClientState>> | undefined)[] = [];
  readonly byClient = new Map<ClientState, Map<number, Set<string>>>();
  /** Watched (db, key) pairs in all. */
  private count = 0;
  private readonly listener: KeyListener;

  constructor(private readonly server: ServerContext) {
    this.listener = (key, why, db) => {
      if (key !== null) {
        if (why !== 'new') this.touch(db.id, key);
      }
      // FLUSHDB/FLUSHALL: every watched key of the database that exists is touched (Redis's touchAllWatchedKeysInDb).
      else this.touchExisting(db, null);
    };
    server.onClientClosed((c) => this.unwatchAll(c));
    // SWAPDB: a watched key of either database is touched if it exists on either side (dbSwapDatabases).
    server.onSwapDb((a, b) => {
      this.touchExisting(a, b);
      this.touchExisting(b, a);
    });
  }

  touch(db: number, key: string): void {
    const set = this.byDb[db]?.get(key);
    if (set === undefined) return;
    for (const c of set) c.dirtyCas = true;
  }

  /** Touches the watched keys of db that are in db (expired or not, as Redis's dictFind) or in other. */
  private touchExisting(db: Keyspace, other: Keyspace | null): void {
    const m = this.byDb[db.id];
    if (m === undefined) return;
    for (const k of [...m.keys()]) if (db.holds(k) || (other !== null && other.holds(k))) this.touch(db.id, k);
  }

  watch(c: ClientState, db: Keyspace, key: string): void {
    let perDb = this.byClient.get(c);
    if (perDb === undefined) this.byClient.set(c, (perDb = new Map()));
    let keys = perDb.get(db.id);
    if (keys === undefined) perDb.set(db.id, (keys = new Set()));
    if (keys.has(key)) return;
    // A key already expired is treated as missing (lazy expiry deletes it now).
    db.has(key);
    keys.add(key);
    const m = (this.byDb[db.id] ??= new Map());
    let set = m.get(key);
    if (set === undefined) m.set(key, (set = new Set()));
    set.add(c);
    if (this.count++ === 0) this.activate();
  }

  unwatchAll(c: ClientState): void {
    c.dirtyCas = false;
    const perDb = this.byClient.get(c);
    if (perDb === undefined) return;
    this.byClient.delete(c);
    for (const [id, keys] of perDb) {
      const m = this.byDb[id]!;
      for (const k of keys) {
        const set = m.get(k)!;
        set.delete(c);
        if (set.size === 0) m.delete(k);
        this.count--;
      }
    }
    if (this.count === 0) this.deactivate();
  }

  /** Whether one of the client's watched keys has passed its TTL since WATCH (Redis 7.0's isWatchedKeyExpired). */
  anyExpired(c: ClientState): boolean {
    const perDb = this.byClient.get(c);
    if (perDb === undefined) return false;
    for (const [id, keys] of perDb) {
      const store = this.server.databases[id];
      const now = store.now();
      for (const k of keys) {
        const d = store.deadline(k);
        if (d !== undefined && d <= now) return true;
      }
    }
    return false;
  }

  private activate(): void {
    this.server.addKeyListener(this.listener);
    this.server.hooks.aroundWrite = (args, run, db) => {
      const m = this.byDb[db.id];
      if (m === undefined || m.size === 0) return run();
      let watched: string[] | null = null;
      for (let i = 1; i < args.length; i++) {
        // A key whose watchers are all touched already has nothing more to learn.
        if (m.has(args[i]) && this.anyClean(m, args[i])) (watched ??= []).push(args[i]);
      }
      if (watched === null) return run();
      const before = watched.map((k) => snapshot(db, k));
      try {
        run();
      } finally {
        for (let i = 0; i < watched.length; i++) {
          if (!sameSnapshot(before[i], snapshot(db, watched[i]))) this.touch(db.id, watched[i]);
        }
      }
    };
  }

  /** Whether some client watching key has not been touched yet. */
  private anyClean(m: Map<string, Set<ClientState>>, key: string): boolean {
    for (const c of m.get(key)!) if (!c.dirtyCas) return true;
    return false;
  }

  private deactivate(): void {
    this.server.removeKeyListener(this.listener);
    this.server.hooks.aroundWrite = null;
  }
}

/**
 * A value's identity for WATCH: its type, TTL and contents as a flat array of
 * references (the element strings are shared with the value, not copied), so
 * that comparing two costs O(size) without building one string of the whole
 * value (which for a big value would cost its size again in memory, and past
 * V8's longest string throw inside another client's write).
 */
export function snapshot(store: Keyspace, key: string): unknown[] {
  const v = store.get(key);
  if (v === undefined) return [];
  const ttl = store.deadline(key) ?? -1;
  if (typeof v === 'string') return ['s', ttl, v];
  if (v instanceof List) {
    const out: unknown[] = v.toArray();
    out.push('l', ttl);
    return out;
  }
  // A stream's own fingerprint covers its entries (what Redis 7.0's WATCH sees change).
  if (v instanceof Stream) return ['x', ttl, v.fingerprint()];
  const out: unknown[] = [];
  if (v instanceof ZSet) {
    for (const e of v) out.push(e.name, e.score);
    out.push('z', ttl);
  } else if (v instanceof Map) {
    for (const [f, x] of v) out.push(f, x);
    out.push('h', ttl);
  } else {
    for (const m of v) out.push(m);
    out.push('S', ttl);
  }
  return out;
}

export function sameSnapshot(a: unknown[], b: unknown[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function watchesOf(server: ServerContext): Watches {
  let w = server.registry.get('watch') as Watches | undefined;
  if (w === undefined) server.registry.set('watch', (w = new Watches(server)));
  return w;
}

/** Leaves MULTI, dropping the queue (DISCARD, RESET, EXEC's end). */
export function discardTransaction(_server: ServerContext, client: ClientState): void {
  client.multi = null;
}

/** Forgets the client's watched keys (EXEC, DISCARD, UNWATCH, RESET, disconnect). */
export function unwatchAll(server: ServerContext, client: ClientState): void {
  (server.registry.get('watch') as Watches | undefined)?.unwatchAll(client);
  client.dirtyCas = false;
}

const flags = (...f: string[]): readonly string[] => f;

export const transactionCommands: CommandSpec[] = [
  {
    name: 'multi',
    arity: 1,
    flags: flags('noscript', 'loading', 'stale', 'fast', 'allow_busy'),
    ...NO_KEYS,
    run(_args, w, { client, server }) {
      if (client.multi !== null) return w.err(ErrCode.Unknown, 'ERR MULTI calls can not be nested');
      const limit = Number(server.config.get('client-query-buffer-limit') ?? 0) || Infinity;
      client.multi = { queue: [], specs: [], failed: false, bytes: 0, limit };
      w.status('OK');
    },
  },
  {
    name: 'exec',
    arity: 1,
    flags: flags('noscript', 'loading', 'stale', 'skip_slowlog'),
    ...NO_KEYS,
    run(_args, w, ctx) {
      const { client, server } = ctx;
      const multi = client.multi;
      if (multi === null) return w.err(ErrCode.Unknown, 'ERR EXEC without MULTI');
      client.multi = null;
      const watches = server.registry.get('watch') as Watches | undefined;
      if (multi.failed) {
        unwatchAll(server, client);
        return w.err(ErrCode.Unknown, 'EXECABORT Transaction discarded because of previous errors.');
      }
      if (client.dirtyCas || (watches !== undefined && watches.anyExpired(client))) {
        unwatchAll(server, client);
        return w.nilArr();
      }
      // Unwatch first, as Redis does: the transaction's own writes must not matter.
      unwatchAll(server, client);
      client.inExec = true;
      try {
        w.arr(multi.queue.length);
        for (let i = 0; i < multi.queue.length; i++) runQueued(multi.specs[i], multi.queue[i], w, ctx);
      } finally {
        client.inExec = false;
      }
    },
  },
  {
    name: 'discard',
    arity: 1,
    flags: flags('noscript', 'loading', 'stale', 'fast', 'allow_busy'),
    ...NO_KEYS,
    run(_args, w, { client, server }) {
      if (client.multi === null) return w.err(ErrCode.Unknown, 'ERR DISCARD without MULTI');
      discardTransaction(server, client);
      unwatchAll(server, client);
      w.status('OK');
    },
  },
  {
    name: 'watch',
    arity: -2,
    flags: flags('noscript', 'loading', 'stale', 'fast', 'allow_busy'),
    ...ALL_KEYS,
    run(args, w, { client, server, store }) {
      if (client.multi !== null) return w.err(ErrCode.Unknown, 'ERR WATCH inside MULTI is not allowed');
      const watches = watchesOf(server);
      for (let i = 1; i < args.length; i++) watches.watch(client, store, args[i]);
      w.status('OK');
    },
  },
  {
    name: 'unwatch',
    arity: 1,
    flags: flags('noscript', 'loading', 'stale', 'fast', 'allow_busy'),
    ...NO_KEYS,
    run(_args, w, { client, server }) {
      unwatchAll(server, client);
      w.status('OK');
    },
  },
];

/** One queued command inside EXEC: its reply becomes one element of EXEC's array (errors included). */
function runQueued(spec: CommandSpec, args: string[], w: ReplyWriter, ctx: Parameters<CommandSpec['run']>[2]): void {
  execute(spec, args, w, ctx);
}
