// RESP keyspace commands with Redis 7's semantics: DEL/UNLINK/EXISTS/TYPE/TOUCH,
// KEYS and SCAN with Redis's glob patterns, RENAME(NX), COPY, the EXPIRE family
// with NX/XX/GT/LT, TTL/PTTL/EXPIRETIME/PEXPIRETIME/PERSIST, DBSIZE,
// FLUSHDB/FLUSHALL, RANDOMKEY.

import type { ReplyWriter } from '../../protocol/reply.js';
import { Bytes, Keyspace, cloneValue, typeOf } from '../../store/keyspace.js';
import { NOT_INTEGER, SYNTAX, parseInt64 } from '../args.js';
import { bookStringCommands } from '../book/strings.js';
import type { CommandContext, CommandSpec } from '../types.js';
import { notify, notifyIn, NOTIFY_GENERIC } from '../notify.js';
import { ALL_KEYS, KEY1, NO_KEYS, deadlineFromUnixMs, err, isOpt, parseDbIndex, unixExpireOf, unixNowMs } from '../common.js';

/** PTTL means the same on both protocols: the book's implementation serves RESP too. */
const bookPttl = bookStringCommands.find((c) => c.name === 'pttl')!.run;

const INT64_MAX = 2n ** 63n - 1n;

// ---- glob patterns (Redis's stringmatchlen) ----

/**
 * Whether s matches the glob pattern, exactly as Redis's stringmatchlen: `*`,
 * `?`, `[abc]`, `[^a-z]` (reversed ranges allowed), `\x` escapes. `nocase`
 * folds ASCII letters (CONFIG GET's patterns).
 */
export function globMatch(pattern: string, s: string, nocase = false): boolean {
  if (pattern === '*') return true;
  const state = { skipLonger: false };
  return matchFrom(pattern, 0, s, 0, nocase, state, 0);
}

function lower(c: number): number {
  return c >= 65 && c <= 90 ? c + 32 : c;
}

function matchFrom(
  pat: string,
  p: number,
  str: string,
  s: number,
  nocase: boolean,
  state: { skipLonger: boolean },
  nesting: number,
): boolean {
  // Redis caps the recursion that '*' causes (CVE-2022-36021).
  if (nesting > 1000) return false;
  const plen = pat.length;
  const slen = str.length;
  const pc = (i: number): number => (i < plen ? pat.charCodeAt(i) : 0);
  while (p < plen && s < slen) {
    const c = pat.charCodeAt(p);
    if (c === 42) {
      // '*'
      while (p + 1 < plen && pat.charCodeAt(p + 1) === 42) p++;
      if (p + 1 === plen) return true;
      while (s < slen) {
        if (matchFrom(pat, p + 1, str, s, nocase, state, nesting + 1)) return true;
        if (state.skipLonger) return false;
        s++;
      }
      state.skipLonger = true;
      return false;
    } else if (c === 63) {
      // '?'
      s++;
    } else if (c === 91) {
      // '['
      p++;
      const not = pc(p) === 94;
      if (not) p++;
      let match = false;
      const sc = str.charCodeAt(s);
      for (;;) {
        if (pc(p) === 92 && plen - p >= 2) {
          p++;
          if (pc(p) === sc) match = true;
        } else if (pc(p) === 93) {
          break;
        } else if (p >= plen) {
          p--;
          break;
        } else if (plen - p >= 3 && pc(p + 1) === 45) {
          let lo = pc(p);
          let hi = pc(p + 2);
          let ch = sc;
          if (lo > hi) [lo, hi] = [hi, lo];
          if (nocase) (lo = lower(lo)), (hi = lower(hi)), (ch = lower(ch));
          p += 2;
          if (ch >= lo && ch <= hi) match = true;
        } else if (nocase ? lower(pc(p)) === lower(sc) : pc(p) === sc) {
          match = true;
        }
        p++;
      }
      if (not) match = !match;
      if (!match) return false;
      s++;
    } else {
      if (c === 92 && plen - p >= 2) p++;
      const want = pc(p);
      const got = str.charCodeAt(s);
      if (nocase ? lower(want) !== lower(got) : want !== got) return false;
      s++;
    }
    p++;
    if (s === slen) {
      while (p < plen && pat.charCodeAt(p) === 42) p++;
      break;
    }
  }
  return p >= plen && s === slen;
}

// ---- the EXPIRE family ----

const E_NX = 1;
const E_XX = 2;
const E_GT = 4;
const E_LT = 8;

/**
 * EXPIRE/PEXPIRE/EXPIREAT/PEXPIREAT key t [NX|XX|GT|LT] (Redis's
 * expireGenericCommand): `base` is now for the relative forms and 0 for the
 * absolute ones; times before now delete the key.
 */
function expireGeneric(args: string[], w: ReplyWriter, ctx: CommandContext, cmd: string, seconds: boolean, relative: boolean): void {
  const { store } = ctx;
  let flags = 0;
  for (let j = 3; j < args.length; j++) {
    const opt = args[j];
    if (isOpt(opt, 'nx')) flags |= E_NX;
    else if (isOpt(opt, 'xx')) flags |= E_XX;
    else if (isOpt(opt, 'gt')) flags |= E_GT;
    else if (isOpt(opt, 'lt')) flags |= E_LT;
    else return err(w, `ERR Unsupported option ${opt}`);
  }
  if (flags & E_NX && flags & (E_XX | E_GT | E_LT)) return err(w, 'ERR NX and XX, GT or LT options at the same time are not compatible');
  if (flags & E_GT && flags & E_LT) return err(w, 'ERR GT and LT options at the same time are not compatible');
  const t = parseInt64(args[2]);
  if (t === null) return err(w, NOT_INTEGER);
  let when = BigInt(t);
  const invalid = `ERR invalid expire time in '${cmd}' command`;
  if (seconds) {
    if (when > INT64_MAX / 1000n || when < -INT64_MAX / 1000n) return err(w, invalid);
    when *= 1000n;
  }
  const now = unixNowMs();
  if (relative) {
    if (when > INT64_MAX - BigInt(now)) return err(w, invalid);
    when += BigInt(now);
  }
  const key = args[1];
  if (!store.has(key)) return w.int(0);
  const whenMs = Number(when);
  if (flags) {
    const current = unixExpireOf(store, key);
    if (flags & E_NX && current !== -1) return w.int(0);
    if (flags & E_XX && current === -1) return w.int(0);
    if (flags & E_GT && (whenMs <= current || current === -1)) return w.int(0);
    if (flags & E_LT && current !== -1 && whenMs >= current) return w.int(0);
  }
  if (whenMs <= now) {
    store.delete(key);
    notify(ctx, NOTIFY_GENERIC, 'del', key);
    w.int(1);
  } else {
    store.setDeadline(key, deadlineFromUnixMs(store, whenMs));
    w.int(1);
    notify(ctx, NOTIFY_GENERIC, 'expire', key);
  }
}

/** FLUSHDB [ASYNC|SYNC] (the selected database) and FLUSHALL (every database, dbs given). Frees are synchronous either way. */
function flush(args: string[], w: ReplyWriter, store: Keyspace, dbs: readonly Keyspace[] | null): void {
  if (args.length > 2 || (args.length === 2 && !isOpt(args[1], 'sync') && !isOpt(args[1], 'async'))) return err(w, SYNTAX);
  if (dbs === null) store.flush();
  else for (const db of dbs) db.flush('flushall');
  w.status('OK');
}

/** MOVE key db: the key, its value and TTL go to database db, unless it is there already (Redis's moveCommand). */
function move(args: string[], w: ReplyWriter, ctx: CommandContext): void {
  const src = ctx.store;
  const id = parseDbIndex(args[2], ctx.server.databases.length, w);
  if (id === null) return;
  const dst = ctx.server.databases[id];
  if (dst === src) return err(w, 'ERR source and destination objects are the same');
  const key = args[1];
  const v = src.getRaw(key);
  if (v === undefined) return w.int(0);
  const deadline = src.deadline(key);
  if (dst.has(key)) return w.int(0);
  dst.put(key, v);
  if (deadline !== undefined) dst.setDeadline(key, deadline);
  src.delete(key);
  notifyIn(ctx, src, NOTIFY_GENERIC, 'move_from', key);
  notifyIn(ctx, dst, NOTIFY_GENERIC, 'move_to', key);
  w.int(1);
}

/** SWAPDB index1 index2: the two databases exchange their contents; clients stay with their index (Redis's dbSwapDatabases). */
function swapdb(args: string[], w: ReplyWriter, ctx: CommandContext): void {
  const n = ctx.server.databases.length;
  const a = parseDbArg(args[1], w, 'ERR invalid first DB index');
  if (a === null) return;
  const b = parseDbArg(args[2], w, 'ERR invalid second DB index');
  if (b === null) return;
  if (a < 0 || a >= n || b < 0 || b >= n) return err(w, 'ERR DB index is out of range');
  ctx.server.swapDatabases(a, b);
  w.status('OK');
}

/** A C int, or msg (SWAPDB's getIntFromObjectOrReply with its own message). */
function parseDbArg(arg: string, w: ReplyWriter, msg: string): number | null {
  const n = parseInt64(arg);
  if (n === null || n < -2147483648 || n > 2147483647) {
    err(w, msg);
    return null;
  }
  return Number(n);
}

/** RENAME/RENAMENX: the value and its TTL move; the destination is overwritten (or, with nx, kept). */
function rename(args: string[], w: ReplyWriter, ctx: CommandContext, nx: boolean): void {
  const { store } = ctx;
  const [, src, dst] = args;
  const v = store.get(src);
  if (v === undefined) return err(w, 'ERR no such key');
  if (src === dst) return nx ? w.int(0) : w.status('OK');
  const deadline = store.deadline(src);
  if (store.has(dst)) {
    if (nx) return w.int(0);
    store.delete(dst);
  }
  store.replace(dst, v);
  if (deadline !== undefined) store.setDeadline(dst, deadline);
  store.delete(src);
  notify(ctx, NOTIFY_GENERIC, 'rename_from', src);
  notify(ctx, NOTIFY_GENERIC, 'rename_to', dst);
  if (nx) w.int(1);
  else w.status('OK');
}

/** EXPIRETIME/PEXPIRETIME: the key's deadline as unix time (seconds rounded, as Redis's ttlGenericCommand), -1 without a TTL, -2 if missing. */
function expireTime(args: string[], w: ReplyWriter, store: Keyspace, ms: boolean): void {
  if (!store.has(args[1])) return w.int(-2);
  const t = unixExpireOf(store, args[1]);
  w.int(t === -1 || ms ? t : Math.floor((t + 500) / 1000));
}

/**
 * COPY source destination [DB destination-db] [REPLACE]: a deep copy with the
 * source's TTL, into the selected database or destination-db.
 */
function copy(args: string[], w: ReplyWriter, ctx: CommandContext): void {
  const store = ctx.store;
  let target = store;
  let replace = false;
  for (let j = 3; j < args.length; j++) {
    if (isOpt(args[j], 'replace')) replace = true;
    else if (isOpt(args[j], 'db') && j + 1 < args.length) {
      const id = parseDbIndex(args[++j], ctx.server.databases.length, w);
      if (id === null) return;
      target = ctx.server.databases[id];
    } else return err(w, SYNTAX);
  }
  const [, src, dst] = args;
  if (target === store && src === dst) return err(w, 'ERR source and destination objects are the same');
  const v = store.get(src);
  if (v === undefined) return w.int(0);
  const deadline = store.deadline(src);
  if (target.has(dst)) {
    if (!replace) return w.int(0);
    target.delete(dst);
  }
  target.put(dst, cloneValue(v));
  if (deadline !== undefined) target.setDeadline(dst, deadline);
  notifyIn(ctx, target, NOTIFY_GENERIC, 'copy_to', dst);
  w.int(1);
}

/** SCAN's cursor: strtoul's grammar (an optional sign, digits), 64-bit; "ERR invalid cursor" otherwise. */
export function parseCursor(s: string): bigint | null {
  if (s === '') return 0n; // strtoul parses nothing and stops at the end: cursor 0
  if (!/^[+-]?\d+$/.test(s)) return null;
  const digits = s.replace(/^[+-]/, '');
  const v = BigInt(digits);
  return v > 2n ** 64n - 1n ? null : v;
}

// ---- SCAN's cursor ----
//
// The keyspace is Keyspace.shardCount Maps and a key never changes shard. A
// cursor names a shard and, within it, a live iterator over that shard's Map
// (a Map's own iterator survives inserts, deletes and rehashing: a key deleted
// before it is reached is skipped, one added later is reached), parked in a
// table under a number: cursor = number × shardCount + shard. Each call walks
// COUNT keys from there (and past empty shards), so it does O(COUNT) work plus
// at most one step per shard. The table holds at most MAX_SCAN_CURSORS
// iterators, least recently used dropped first; a cursor whose iterator is gone
// (dropped, another server's, a made-up number) restarts its shard from the
// beginning. Shards before it were walked whole, so a key present for the whole
// iteration is still returned at least once (some of that shard's come twice,
// which SCAN allows).

interface ScanCursor {
  readonly store: Keyspace;
  readonly shard: number;
  readonly keys: Iterator<string>;
}

/** Most parked SCAN iterators at once. */
const MAX_SCAN_CURSORS = 1024;
/** number → iterator; Map order is recency (a use removes the entry; parking again appends it). */
const scanCursors = new Map<number, ScanCursor>();
let lastScanCursor = 0;

/**
 * One SCAN call: walks about count keys from cursor; returns the next cursor
 * ('0' when the walk is over) and the keys walked that match the pattern and
 * type (lower case).
 */
export function scanKeys(store: Keyspace, cursor: bigint, count: number, pattern: string | null, type: string | null): [string, string[]] {
  const shards = BigInt(Keyspace.shardCount);
  let shard = Number(cursor % shards);
  const id = Number(cursor / shards);
  const parked = id === 0 ? undefined : scanCursors.get(id);
  let it: Iterator<string>;
  if (parked !== undefined && parked.store === store && parked.shard === shard) {
    scanCursors.delete(id);
    it = parked.keys;
  } else it = store.keysInShard(shard);
  const found: string[] = [];
  let walked = 0;
  for (;;) {
    const r = it.next();
    if (r.done === true) {
      if (++shard >= Keyspace.shardCount) return ['0', found];
      it = store.keysInShard(shard);
      continue;
    }
    const k = r.value;
    // A key of a Map the keyspace has since dropped (FLUSHALL) or one just deleted is not there.
    // Not an access: a SCAN leaves the keys' idle times alone (Redis's LOOKUP_NOTOUCH).
    const v = store.lookupNoTouch(k);
    if (v === undefined) continue;
    if ((pattern === null || globMatch(pattern, k)) && (type === null || (v instanceof Bytes ? 'string' : typeOf(v)) === type)) found.push(k);
    if (++walked >= count) break;
  }
  if (scanCursors.size >= MAX_SCAN_CURSORS) scanCursors.delete(scanCursors.keys().next().value!);
  const next = ++lastScanCursor;
  scanCursors.set(next, { store, shard, keys: it });
  return [String(BigInt(next) * shards + BigInt(shard)), found];
}

export const respKeyCommands: CommandSpec[] = [
  {
    name: 'del',
    arity: -2,
    flags: ['write'],
    ...ALL_KEYS,
    run(args, w, ctx) {
      let n = 0;
      for (let i = 1; i < args.length; i++) {
        if (ctx.store.delete(args[i])) {
          notify(ctx, NOTIFY_GENERIC, 'del', args[i]);
          n++;
        }
      }
      w.int(n);
    },
  },
  {
    name: 'unlink',
    arity: -2,
    flags: ['write', 'fast'],
    ...ALL_KEYS,
    run(args, w, ctx) {
      let n = 0;
      for (let i = 1; i < args.length; i++) {
        if (ctx.store.delete(args[i])) {
          notify(ctx, NOTIFY_GENERIC, 'del', args[i]);
          n++;
        }
      }
      w.int(n);
    },
  },
  {
    name: 'exists',
    arity: -2,
    flags: ['readonly', 'fast'],
    ...ALL_KEYS,
    run(args, w, { store }) {
      w.int(countExisting(store, args));
    },
  },
  {
    name: 'type',
    arity: 2,
    flags: ['readonly', 'fast'],
    ...KEY1,
    run(args, w, { store }) {
      // Not an access (Redis's LOOKUP_NOTOUCH): OBJECT IDLETIME is left as it was.
      const v = store.lookupNoTouch(args[1]);
      w.status(v === undefined ? 'none' : v instanceof Bytes ? 'string' : typeOf(v));
    },
  },
  {
    name: 'keys',
    arity: 2,
    flags: ['readonly'],
    ...NO_KEYS,
    run(args, w, { store }) {
      const pattern = args[1];
      const found: string[] = [];
      for (const k of store.keys()) if (pattern === '*' || globMatch(pattern, k)) found.push(k);
      w.arr(found.length);
      for (const k of found) w.str(k);
    },
  },
  {
    name: 'scan',
    arity: -2,
    flags: ['readonly'],
    ...NO_KEYS,
    run(args, w, { store }) {
      const cursor = parseCursor(args[1]);
      if (cursor === null) return err(w, 'ERR invalid cursor');
      let pattern: string | null = null;
      let type: string | null = null;
      let count = 10;
      for (let i = 2; i < args.length; i += 2) {
        const more = args.length - i >= 2;
        if (isOpt(args[i], 'count') && more) {
          const n = parseInt64(args[i + 1]);
          if (n === null) return err(w, NOT_INTEGER);
          if (n < 1) return err(w, SYNTAX);
          count = Number(n);
        } else if (isOpt(args[i], 'match') && more) {
          pattern = args[i + 1] === '*' ? null : args[i + 1];
        } else if (isOpt(args[i], 'type') && more) {
          type = args[i + 1];
        } else return err(w, SYNTAX);
      }
      const [next, found] = scanKeys(store, cursor, count, pattern, type === null ? null : type.toLowerCase());
      w.arr(2);
      w.str(next);
      w.arr(found.length);
      for (const k of found) w.str(k);
    },
  },
  {
    name: 'rename',
    arity: 3,
    flags: ['write'],
    firstKey: 1,
    lastKey: 2,
    keyStep: 1,
    run(args, w, ctx) {
      rename(args, w, ctx, false);
    },
  },
  {
    name: 'renamenx',
    arity: 3,
    flags: ['write', 'fast'],
    firstKey: 1,
    lastKey: 2,
    keyStep: 1,
    run(args, w, ctx) {
      rename(args, w, ctx, true);
    },
  },
  {
    name: 'expire',
    arity: -3,
    flags: ['write', 'fast'],
    ...KEY1,
    run(args, w, ctx) {
      expireGeneric(args, w, ctx, 'expire', true, true);
    },
  },
  {
    name: 'pexpire',
    arity: -3,
    flags: ['write', 'fast'],
    ...KEY1,
    run(args, w, ctx) {
      expireGeneric(args, w, ctx, 'pexpire', false, true);
    },
  },
  {
    name: 'expireat',
    arity: -3,
    flags: ['write', 'fast'],
    ...KEY1,
    run(args, w, ctx) {
      expireGeneric(args, w, ctx, 'expireat', true, false);
    },
  },
  {
    name: 'pexpireat',
    arity: -3,
    flags: ['write', 'fast'],
    ...KEY1,
    run(args, w, ctx) {
      expireGeneric(args, w, ctx, 'pexpireat', false, false);
    },
  },
  {
    name: 'ttl',
    arity: 2,
    flags: ['readonly', 'fast'],
    ...KEY1,
    run(args, w, { store }) {
      const ms = store.pttl(args[1]);
      // Redis rounds the remaining time to the nearest second.
      w.int(ms < 0 ? ms : Math.floor((ms + 500) / 1000));
    },
  },
  { name: 'pttl', arity: 2, flags: ['readonly', 'fast'], ...KEY1, run: bookPttl },
  {
    name: 'persist',
    arity: 2,
    flags: ['write', 'fast'],
    ...KEY1,
    run(args, w, ctx) {
      const { store } = ctx;
      if (!store.has(args[1]) || !store.clearDeadline(args[1])) return w.int(0);
      notify(ctx, NOTIFY_GENERIC, 'persist', args[1]);
      w.int(1);
    },
  },
  {
    name: 'dbsize',
    arity: 1,
    flags: ['readonly', 'fast'],
    ...NO_KEYS,
    run(_args, w, { store }) {
      w.int(store.size);
    },
  },
  {
    name: 'flushdb',
    arity: -1,
    flags: ['write'],
    ...NO_KEYS,
    run(args, w, { store }) {
      flush(args, w, store, null);
    },
  },
  {
    name: 'flushall',
    arity: -1,
    flags: ['write'],
    ...NO_KEYS,
    run(args, w, { store, server }) {
      flush(args, w, store, server.databases);
    },
  },
  {
    name: 'randomkey',
    arity: 1,
    flags: ['readonly'],
    ...NO_KEYS,
    run(_args, w, { store }) {
      const k = store.randomKey();
      if (k === undefined) w.nil();
      else w.str(k);
    },
  },
  {
    name: 'touch',
    arity: -2,
    flags: ['readonly', 'fast'],
    ...ALL_KEYS,
    run(args, w, { store }) {
      // A lookup of each key (it updates access times; EXISTS does not), counting those that exist.
      let n = 0;
      for (let i = 1; i < args.length; i++) if (store.getRaw(args[i]) !== undefined) n++;
      w.int(n);
    },
  },
  {
    name: 'expiretime',
    arity: 2,
    flags: ['readonly', 'fast'],
    ...KEY1,
    run(args, w, { store }) {
      expireTime(args, w, store, false);
    },
  },
  {
    name: 'pexpiretime',
    arity: 2,
    flags: ['readonly', 'fast'],
    ...KEY1,
    run(args, w, { store }) {
      expireTime(args, w, store, true);
    },
  },
  {
    name: 'copy',
    arity: -3,
    flags: ['write', 'denyoom'],
    firstKey: 1,
    lastKey: 2,
    keyStep: 1,
    run(args, w, ctx) {
      copy(args, w, ctx);
    },
  },
  {
    name: 'move',
    arity: 3,
    flags: ['write', 'fast'],
    ...KEY1,
    run: move,
  },
  {
    name: 'swapdb',
    arity: 3,
    flags: ['write', 'fast'],
    ...NO_KEYS,
    run: swapdb,
  },
];

/** EXISTS and TOUCH: how many of args[1..] exist (a key named twice counts twice, as in Redis). */
function countExisting(store: Keyspace, args: string[]): number {
  let n = 0;
  for (let i = 1; i < args.length; i++) if (store.has(args[i])) n++;
  return n;
}
