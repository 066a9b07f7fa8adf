// The blocking commands (RESP only): BLPOP, BRPOP, BLMOVE, BRPOPLPUSH, BLMPOP,
// BZPOPMIN, BZPOPMAX, BZMPOP, with Redis 7.0's semantics (t_list.c, t_zset.c,
// blocked.c):
//
// - A key that holds a value of the right type answers at once, as the
//   non-blocking sibling would (LPOP, LMOVE, LMPOP, ZPOPMIN, ZMPOP); their
//   cores (lmpopApply, lmoveApply, zpopApply) do the work. A key of another type
//   answers WRONGTYPE (for BLMOVE only its source is checked then).
// - Otherwise the client blocks: it is queued on each of its keys (FIFO per
//   key), writes no reply, and sets `waiting`, so the pipeline parses none of
//   its further requests. A timeout (double seconds, 0 = forever) is a timer
//   in the loop's heap; when it fires the client gets a null array (`*-1`,
//   BLMOVE and BRPOPLPUSH too: redis-server 7.0 answers them the same way).
// - Inside EXEC a blocking command never blocks: with nothing to pop it
//   answers as a timeout would — a null array, or a null bulk for BLMOVE and
//   BRPOPLPUSH (Redis's CLIENT_DENY_BLOCKING branches).
// - While anyone waits, a key listener marks every key with waiters that is
//   stored where none was as ready (Redis's dbAdd → signalKeyAsReady; a
//   ZUNIONSTORE over a live key, dbOverwrite, wakes nobody, as in 7.0, and
//   neither does LPUSH onto an existing list); dispatch's afterCommand hook
//   then serves them once the command (a push of several elements, a whole
//   transaction) has completed (handleClientsBlockedOnKeys): for each ready
//   key that now holds a list or a sorted set, its waiters of that kind in the
//   order they blocked, until the value is gone. A waiter of the other kind
//   (BZPOPMIN on a key that became a list) stays blocked, as in 7.0. Serving
//   can make new keys ready (BLMOVE creating its destination): served in turn.
// - A served client's reply goes through client.deliver; then it carries on
//   (waiting = false, wake()). A disconnected waiter leaves every queue and
//   its timer is cancelled. CLIENT UNBLOCK goes through unblockClient.
//
// The book port has none of these: its protocol has no way to say "later".

import { ErrCode, type ReplyWriter } from '../../protocol/reply.js';
import { List, Stream, ZSet, type Keyspace } from '../../store/keyspace.js';
import { LIST_ENDS, lmoveApply, lmpopApply, parseListEnd, type ListEnd } from '../list.js';
import { mpopParse } from '../mpop.js';
import { readTimeout } from '../timeout.js';
import type { ClientState, CommandContext, CommandSpec, KeyListener, ServerContext } from '../types.js';
import { ZSET_ENDS, zpopApply, type ZSetEnd } from './zset.js';
import { clientExtensions } from './client.js';

/** Which values a waiter can be served from (Redis's BLOCKED_LIST / BLOCKED_ZSET). */
type Kind = 'list' | 'zset' | 'stream';

/**
 * How a stream waiter (XREAD, XREADGROUP BLOCK) is served from a key that holds
 * a stream: the reply to deliver, or null to keep waiting (nothing new after
 * the ID it waits after).
 */
export interface StreamServe {
  serve(store: Keyspace, key: string, client: ClientState): ((w: ReplyWriter) => void) | null;
  /** XREADGROUP's group (the AOF logs its new state), null for XREAD. */
  readonly group: string | null;
}

/** One blocked client. */
interface Waiter {
  readonly client: ClientState;
  /** The index of the database its keys are in (the client's selected one when it blocked). */
  readonly db: number;
  /** Its command, upper case, for the trace. */
  readonly name: string;
  readonly kind: Kind;
  /** The keys it waits on, without repeats, in the order given. */
  readonly keys: readonly string[];
  /** BLMOVE's destination (WATCH must see the push into it), else null. */
  readonly target: string | null;
  /** Pops from `key` (which holds a value of `kind`) and writes the reply. */
  readonly serve: (store: Keyspace, key: string, w: ReplyWriter) => void;
  /** Stream waiters: decides whether (and what) to serve. */
  readonly stream: StreamServe | null;
  /** The timeout timer, or null (timeout 0: forever). */
  timer: unknown;
  readonly timeoutMs: number;
}

/** What a blocking command asks for when nothing is there to pop. */
interface BlockRequest {
  readonly name: string;
  readonly kind: Kind;
  readonly keys: readonly string[];
  readonly target: string | null;
  readonly timeoutMs: number;
  readonly serve: Waiter['serve'];
  readonly stream?: StreamServe;
}

/** The reply of a timeout (and of CLIENT UNBLOCK ... TIMEOUT): Redis 7.0's addReplyNullArray for every blocked list and zset command. */
function timeoutReply(w: ReplyWriter): void {
  w.nilArr();
}

const UNBLOCKED = 'UNBLOCKED client unblocked via CLIENT UNBLOCK';

/**
 * The server's blocked clients: per database index and key a FIFO of waiters,
 * per client its waiter, and the (database, key) pairs made ready by the
 * running command. A waiter belongs to a database index, not to a Keyspace:
 * after SWAPDB it waits on the same index, now holding the other contents
 * (Redis keeps blocking_keys with the db, not with its dict).
 */
class Blocking {
  /** byDb[id]: key → its waiters in the order they blocked (a Set keeps insertion order and deletes in O(1)). */
  private readonly byDb: (Map<string, Set<Waiter>> | undefined)[] = [];
  private readonly byClient = new Map<ClientState, Waiter>();
  /** (database, key) pairs stored since the last serve that have waiters, in the order they became ready; by `${db}:${key}`. */
  private readonly ready = new Map<string, readonly [number, string]>();
  private readonly listener: KeyListener;
  private readonly serveReady = (): void => this.serve();

  constructor(private readonly server: ServerContext) {
    this.listener = (key, why, db) => {
      // Only a key stored where there was none (Redis's dbAdd, which signals the
      // key as ready) can wake waiters: an existing non-empty value has no
      // waiters of its kind, and a value stored over a live key by replace()
      // (ZUNIONSTORE onto a string: Redis's dbOverwrite) wakes nobody in 7.0.
      if (why !== 'put' || key === null) return;
      this.signal(db.id, key);
    };
    // SWAPDB: every key waited on in either database that now holds a value is
    // looked at after the command (Redis's scanDatabaseForReadyKeys).
    server.onSwapDb((a, b) => {
      for (const db of [a, b]) {
        const m = this.byDb[db.id];
        if (m === undefined) continue;
        for (const key of m.keys()) if (db.holds(key)) this.signal(db.id, key);
      }
    });
    server.onClientClosed((c) => {
      const waiter = this.byClient.get(c);
      if (waiter === undefined) return;
      this.remove(waiter);
      server.note?.(`client ${c.id}: ${waiter.name} waiter freed (client gone)`);
    });
  }

  block(client: ClientState, db: number, req: BlockRequest): void {
    const { server } = this;
    const keys = [...new Set(req.keys)];
    const waiter: Waiter = { client, db, name: req.name, kind: req.kind, keys, target: req.target, serve: req.serve, stream: req.stream ?? null, timer: null, timeoutMs: req.timeoutMs };
    if (this.byClient.size === 0) server.addKeyListener(this.listener);
    this.byClient.set(client, waiter);
    const byKey = (this.byDb[db] ??= new Map());
    for (const key of keys) {
      let queue = byKey.get(key);
      if (queue === undefined) byKey.set(key, (queue = new Set()));
      queue.add(waiter);
    }
    if (req.timeoutMs > 0) {
      const timers = server.timers;
      waiter.timer = timers.add(timers.now() + req.timeoutMs, () => this.timedOut(waiter), `${req.name} timeout of client ${client.id}`);
    }
    client.waiting = true;
    server.note?.(
      `client ${client.id}: ${req.name} blocked on ${keys.map(quoteKey).join(' ')} (${req.timeoutMs > 0 ? `timeout ${req.timeoutMs} ms` : 'no timeout'})`,
    );
  }

  /** Takes the waiter out of every queue and cancels its timer; the last one out stops listening. */
  private remove(waiter: Waiter): void {
    if (this.byClient.get(waiter.client) !== waiter) return;
    this.byClient.delete(waiter.client);
    const byKey = this.byDb[waiter.db]!;
    for (const key of waiter.keys) {
      const queue = byKey.get(key)!;
      queue.delete(waiter);
      if (queue.size === 0) byKey.delete(key);
    }
    if (waiter.timer !== null) {
      this.server.timers.cancel(waiter.timer);
      waiter.timer = null;
    }
    if (this.byClient.size === 0) {
      this.server.removeKeyListener(this.listener);
      this.ready.clear();
    }
  }

  /** Ends a waiter's wait with `reply` (timeout, CLIENT UNBLOCK) and lets its client carry on. */
  private release(waiter: Waiter, reply: (w: ReplyWriter) => void): void {
    this.remove(waiter);
    const { client } = waiter;
    client.deliver(reply);
    client.waiting = false;
    client.wake();
  }

  private timedOut(waiter: Waiter): void {
    waiter.timer = null; // fired: nothing to cancel
    this.server.note?.(`client ${waiter.client.id}: ${waiter.name} timed out after ${waiter.timeoutMs} ms`);
    this.release(waiter, timeoutReply);
  }

  /**
   * Redis's signalKeyAsReady for a change the key listener does not see (XADD
   * onto an existing stream, XGROUP DESTROY): waiters on it are looked at after the command.
   */
  signal(db: number, key: string): void {
    if (this.byDb[db]?.has(key) !== true) return;
    const id = `${db}:${key}`;
    if (!this.ready.has(id)) this.ready.set(id, [db, key]);
    this.server.hooks.afterCommand = this.serveReady;
  }

  unblock(client: ClientState, how: 'timeout' | 'error'): boolean {
    const waiter = this.byClient.get(client);
    if (waiter === undefined) return false;
    this.server.note?.(`client ${client.id}: ${waiter.name} unblocked by CLIENT UNBLOCK ${how.toUpperCase()}`);
    this.release(waiter, how === 'timeout' ? timeoutReply : (w) => w.err(ErrCode.Unknown, UNBLOCKED));
    return true;
  }

  /**
   * Redis's handleClientsBlockedOnKeys: serves the ready keys in the order they
   * became ready; keys made ready meanwhile (a BLMOVE's destination) follow.
   */
  private serve(): void {
    const { ready } = this;
    while (ready.size !== 0) {
      for (const [id, [db, key]] of [...ready]) {
        ready.delete(id); // from now on a new put of the key makes it ready again
        this.serveKey(db, key);
      }
    }
    this.server.hooks.afterCommand = null;
  }

  /** Serves the key's waiters of its value's kind, first come first served, while the value lasts. */
  private serveKey(db: number, key: string): void {
    const store = this.server.databases[db];
    // Served pops change the value in place after the command that made it ready: as a write
    // command's lookups, it is measured again once they are done (used_memory).
    const wasWriting = store.writing;
    store.writing = true;
    try {
      this.serveKeyIn(store, db, key);
    } finally {
      store.writing = wasWriting;
      if (!wasWriting) store.settle();
    }
  }

  private serveKeyIn(store: Keyspace, db: number, key: string): void {
    const value = store.get(key);
    const kind: Kind | null = value instanceof List ? 'list' : value instanceof ZSet ? 'zset' : value instanceof Stream ? 'stream' : null;
    if (kind === null) return;
    const queue = this.byDb[db]?.get(key);
    if (queue === undefined) return;
    for (const waiter of [...queue]) {
      if (waiter.kind !== kind || !queue.has(waiter)) continue;
      if (waiter.stream !== null) {
        this.serveStreamWaiter(waiter, store, key);
        continue;
      }
      this.serveWaiter(waiter, store, key);
      // The value was emptied (and deleted): the others keep waiting.
      if (store.get(key) !== value) break;
    }
  }

  /** Redis's serveClientsBlockedOnStreamKey: a stream is not consumed, so every waiter with something new is served. */
  private serveStreamWaiter(waiter: Waiter, store: Keyspace, key: string): void {
    const { client } = waiter;
    const { hooks, note } = this.server;
    let reply: ((w: ReplyWriter) => void) | null = null;
    // WATCH sees an XREADGROUP's changes to the groups as a write command's.
    const decide = (): void => {
      reply = waiter.stream!.serve(store, key, client);
      if (reply !== null) client.deliver(reply);
    };
    if (hooks.beforeWrite !== null && waiter.name === 'XREADGROUP') hooks.beforeWrite(store, [waiter.name, key]);
    if (hooks.aroundWrite !== null && waiter.name === 'XREADGROUP') hooks.aroundWrite([waiter.name, key], decide, store);
    else decide();
    if (reply === null) return;
    // The AOF logs the group's new state (Redis propagates XCLAIMs and XGROUP SETID).
    const group = waiter.stream!.group;
    if (hooks.propagateAs !== null && group !== null) hooks.propagateAs(store, [], [key], group);
    this.remove(waiter);
    client.waiting = false;
    client.wake();
    note?.(`client ${client.id}: ${waiter.name} woken: served from ${quoteKey(key)}`);
  }

  private serveWaiter(waiter: Waiter, store: Keyspace, key: string): void {
    this.remove(waiter);
    const { client } = waiter;
    const { hooks, note } = this.server;
    const pop = (): void => client.deliver((w) => waiter.serve(store, key, w));
    // A background save and WATCH see the pop (and BLMOVE's push) as they see a write command's changes.
    if (hooks.beforeWrite !== null) hooks.beforeWrite(store, waiter.target === null ? [waiter.name, key] : [waiter.name, key, waiter.target]);
    if (hooks.aroundWrite !== null) hooks.aroundWrite(waiter.target === null ? [waiter.name, key] : [waiter.name, key, waiter.target], pop, store);
    else pop();
    client.waiting = false;
    client.wake();
    note?.(`client ${client.id}: ${waiter.name} woken: served from ${quoteKey(key)}`);
  }
}

function quoteKey(key: string): string {
  return `'${key.length > 40 ? key.slice(0, 40) + '…' : key}'`.replace(/[\x00-\x1f\x7f-\xff]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

function blockingOf(ctx: CommandContext): Blocking {
  const { server } = ctx;
  let b = server.registry.get('blocking') as Blocking | undefined;
  if (b === undefined) server.registry.set('blocking', (b = new Blocking(server)));
  return b;
}

/**
 * Ends a blocked client's wait as CLIENT UNBLOCK does: 'timeout' replies as
 * its timeout would (a null array), 'error' replies
 * `-UNBLOCKED client unblocked via CLIENT UNBLOCK`. Returns false (and does
 * nothing) if the client is not blocked on keys.
 */
export function unblockClient(server: ServerContext, client: ClientState, how: 'timeout' | 'error'): boolean {
  const b = server.registry.get('blocking') as Blocking | undefined;
  return b !== undefined && b.unblock(client, how);
}

clientExtensions.unblock = unblockClient;

/** signalKeyAsReady: XADD and XGROUP DESTROY tell waiters on the key (in database db) to look again (nothing to do when nobody waits). */
export function signalKeyAsReady(server: ServerContext, db: Keyspace, key: string): void {
  const b = server.registry.get('blocking') as Blocking | undefined;
  if (b !== undefined) b.signal(db.id, key);
}

/** Blocks the client on stream keys (XREAD, XREADGROUP); timeoutMs 0 waits forever. */
export function blockOnStreams(ctx: CommandContext, name: string, keys: string[], timeoutMs: number, stream: StreamServe): void {
  blockingOf(ctx).block(ctx.client, ctx.store.id, {
    name,
    kind: 'stream',
    keys,
    target: null,
    timeoutMs,
    serve: () => {},
    stream,
  });
}

// ---- the commands ----

/** BLPOP/BRPOP key [key ...] timeout: [key, element]. */
function blockingPop(args: string[], w: ReplyWriter, ctx: CommandContext, end: ListEnd): void {
  const timeoutMs = readTimeout(args[args.length - 1], w);
  if (timeoutMs === null) return;
  const keys = args.slice(1, -1);
  listPopOrBlock(ctx, w, end === 'left' ? 'BLPOP' : 'BRPOP', keys, end, -1, timeoutMs);
}

/** The pop of BLPOP, BRPOP (count -1) and BLMPOP (count ≥ 1), or the block. */
function listPopOrBlock(ctx: CommandContext, w: ReplyWriter, name: string, keys: string[], end: ListEnd, count: number, timeoutMs: number): void {
  // The AOF logs the pop as its non-blocking form (Redis: BLPOP → LPOP, BLMPOP → LPOP key count).
  const log = (store: Keyspace, key: string): void => logAs(ctx, store, count === -1 ? [end === 'left' ? 'LPOP' : 'RPOP', key] : [end === 'left' ? 'LPOP' : 'RPOP', key, String(count)]);
  const popped = lmpopApply(ctx, keys, end, count, w);
  if (typeof popped === 'string') log(ctx.store, popped);
  if (popped !== null) return; // popped, or WRONGTYPE
  if (ctx.client.inExec) return w.nilArr();
  blockingOf(ctx).block(ctx.client, ctx.store.id, {
    name,
    kind: 'list',
    keys,
    target: null,
    timeoutMs,
    serve: (store, key, out) => {
      if (typeof lmpopApply(ctx, [key], end, count, out) === 'string') log(store, key);
    },
  });
}

/** Tells the AOF (if it is on) what a blocking command did, in its non-blocking form. */
function logAs(ctx: CommandContext, store: Keyspace, argv: string[]): void {
  const { propagateAs } = ctx.hooks;
  if (propagateAs !== null) propagateAs(store, [argv]);
}

/** BLMOVE/BRPOPLPUSH: the element moved; WRONGTYPE (nothing moved) if the destination holds another type when served. */
function blockingMove(ctx: CommandContext, w: ReplyWriter, name: string, src: string, dst: string, from: ListEnd, to: ListEnd, timeoutMs: number): void {
  const log = (store: Keyspace): void => logAs(ctx, store, name === 'BRPOPLPUSH' ? ['RPOPLPUSH', src, dst] : ['LMOVE', src, dst, from.toUpperCase(), to.toUpperCase()]);
  const moved = lmoveApply(ctx, src, dst, from, to, w);
  if (moved === 'moved') log(ctx.store);
  if (moved !== 'none') return; // moved, or WRONGTYPE
  if (ctx.client.inExec) return w.nil();
  blockingOf(ctx).block(ctx.client, ctx.store.id, {
    name,
    kind: 'list',
    keys: [src],
    target: dst,
    timeoutMs,
    serve: (store, key, out) => {
      if (lmoveApply(ctx, key, dst, from, to, out) === 'moved') log(store);
    },
  });
}

/** BZPOPMIN/BZPOPMAX (count -1: [key, member, score]) and BZMPOP (count ≥ 1: [key, [[member, score], ...]]). */
function zsetPopOrBlock(ctx: CommandContext, w: ReplyWriter, name: string, keys: string[], end: ZSetEnd, count: number, timeoutMs: number): void {
  const shape = count === -1 ? 'keyed' : 'nested';
  const n = count === -1 ? 1 : count;
  const log = (store: Keyspace, key: string): void => logAs(ctx, store, count === -1 ? [end === 'min' ? 'ZPOPMIN' : 'ZPOPMAX', key] : [end === 'min' ? 'ZPOPMIN' : 'ZPOPMAX', key, String(n)]);
  const popped = zpopApply(ctx, keys, end, n, shape, w);
  if (typeof popped === 'string') log(ctx.store, popped);
  if (popped !== null) return;
  if (ctx.client.inExec) return w.nilArr();
  blockingOf(ctx).block(ctx.client, ctx.store.id, {
    name,
    kind: 'zset',
    keys,
    target: null,
    timeoutMs,
    serve: (store, key, out) => {
      if (typeof zpopApply(ctx, [key], end, n, shape, out) === 'string') log(store, key);
    },
  });
}

function bzpop(args: string[], w: ReplyWriter, ctx: CommandContext, end: ZSetEnd): void {
  const timeoutMs = readTimeout(args[args.length - 1], w);
  if (timeoutMs === null) return;
  zsetPopOrBlock(ctx, w, end === 'min' ? 'BZPOPMIN' : 'BZPOPMAX', args.slice(1, -1), end, -1, timeoutMs);
}

/** Redis 7.0's flags and key positions (COMMAND INFO). */
const KEYS_BEFORE_TIMEOUT = { firstKey: 1, lastKey: -2, keyStep: 1 } as const;
const SOURCE_AND_DESTINATION = { firstKey: 1, lastKey: 2, keyStep: 1 } as const;
const MOVABLE_KEYS = { firstKey: 0, lastKey: 0, keyStep: 0 } as const;

export const respBlockingCommands: CommandSpec[] = [
  {
    name: 'blpop',
    arity: -3,
    flags: ['write', 'noscript', 'blocking'],
    ...KEYS_BEFORE_TIMEOUT,
    run: (args, w, ctx) => blockingPop(args, w, ctx, 'left'),
  },
  {
    name: 'brpop',
    arity: -3,
    flags: ['write', 'noscript', 'blocking'],
    ...KEYS_BEFORE_TIMEOUT,
    run: (args, w, ctx) => blockingPop(args, w, ctx, 'right'),
  },
  {
    name: 'blmove',
    arity: 6,
    flags: ['write', 'denyoom', 'noscript', 'blocking'],
    ...SOURCE_AND_DESTINATION,
    run(args, w, ctx) {
      // Redis's order: both ends, then the timeout.
      const from = parseListEnd(args[3], w);
      if (from === null) return;
      const to = parseListEnd(args[4], w);
      if (to === null) return;
      const timeoutMs = readTimeout(args[5], w);
      if (timeoutMs === null) return;
      blockingMove(ctx, w, 'BLMOVE', args[1], args[2], from, to, timeoutMs);
    },
  },
  {
    name: 'brpoplpush',
    arity: 4,
    flags: ['write', 'denyoom', 'noscript', 'blocking'],
    ...SOURCE_AND_DESTINATION,
    run(args, w, ctx) {
      const timeoutMs = readTimeout(args[3], w);
      if (timeoutMs === null) return;
      blockingMove(ctx, w, 'BRPOPLPUSH', args[1], args[2], 'right', 'left', timeoutMs);
    },
  },
  {
    name: 'blmpop',
    arity: -5,
    flags: ['write', 'blocking', 'movablekeys'],
    ...MOVABLE_KEYS,
    run(args, w, ctx) {
      // BLMPOP timeout numkeys key [key ...] LEFT|RIGHT [COUNT count]: the rest is parsed before the timeout.
      const req = mpopParse(args, 2, LIST_ENDS, w);
      if (req === null) return;
      const timeoutMs = readTimeout(args[1], w);
      if (timeoutMs === null) return;
      listPopOrBlock(ctx, w, 'BLMPOP', req.keys, req.end, req.count, timeoutMs);
    },
  },
  {
    name: 'bzpopmin',
    arity: -3,
    flags: ['write', 'noscript', 'blocking', 'fast'],
    ...KEYS_BEFORE_TIMEOUT,
    run: (args, w, ctx) => bzpop(args, w, ctx, 'min'),
  },
  {
    name: 'bzpopmax',
    arity: -3,
    flags: ['write', 'noscript', 'blocking', 'fast'],
    ...KEYS_BEFORE_TIMEOUT,
    run: (args, w, ctx) => bzpop(args, w, ctx, 'max'),
  },
  {
    name: 'bzmpop',
    arity: -5,
    flags: ['write', 'blocking', 'movablekeys'],
    ...MOVABLE_KEYS,
    run(args, w, ctx) {
      const req = mpopParse(args, 2, ZSET_ENDS, w);
      if (req === null) return;
      const timeoutMs = readTimeout(args[1], w);
      if (timeoutMs === null) return;
      zsetPopOrBlock(ctx, w, 'BZMPOP', req.keys, req.end, req.count, timeoutMs);
    },
  },
];
