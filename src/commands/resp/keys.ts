// RESP keyspace commands with Redis 7's semantics: DEL/UNLINK/EXISTS/TYPE/TOUCH,
// KEYS and SCAN with Redis's glob patterns, RENAME(NX), COPY, the EXPIRE family
// with NX/XX/GT/LT, TTL/PTTL/EXPIRETIME/PEXPIRETIME/PERSIST, DBSIZE,
// FLUSHDB/FLUSHALL, RANDOMKEY.

import type { ReplyWriter } from '../../protocol/reply.js';
import { Keyspace, cloneValue, typeOf } from '../../store/keyspace.js';
import { NOT_INTEGER, SYNTAX, parseInt64 } from '../args.js';
import { bookStringCommands } from '../book/strings.js';
import type { CommandSpec } from '../types.js';
import { ALL_KEYS, KEY1, NO_KEYS, deadlineFromUnixMs, err, isOpt, unixExpireOf, unixNowMs } from '../common.js';

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
function expireGeneric(args: string[], w: ReplyWriter, store: Keyspace, cmd: string, seconds: boolean, relative: boolean): void {
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
  if (whenMs <= now) store.delete(key);
  else store.setDeadline(key, deadlineFromUnixMs(store, whenMs));
  w.int(1);
}

/** FLUSHDB/FLUSHALL [ASYNC|SYNC]. */
function flush(args: string[], w: ReplyWriter, store: Keyspace): void {
  if (args.length > 2 || (args.length === 2 && !isOpt(args[1], 'sync') && !isOpt(args[1], 'async'))) return err(w, SYNTAX);
  store.flush();
  w.status('OK');
}

/** RENAME/RENAMENX: the value and its TTL move; the destination is overwritten (or, with nx, kept). */
function rename(args: string[], w: ReplyWriter, store: Keyspace, nx: boolean): void {
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
 * source's TTL. One database exists, so DB accepts 0 only (README's deviations).
 */
function copy(args: string[], w: ReplyWriter, store: Keyspace): void {
  let replace = false;
  for (let j = 3; j < args.length; j++) {
    if (isOpt(args[j], 'replace')) replace = true;
    else if (isOpt(args[j], 'db') && j + 1 < args.length) {
      const db = parseInt64(args[++j]);
      if (db === null) return err(w, NOT_INTEGER);
      if (db < -2147483648 || db > 2147483647) return err(w, 'ERR value is out of range, value must between -2147483648 and 2147483647');
      if (db !== 0) return err(w, 'ERR DB index is out of range');
    } else return err(w, SYNTAX);
  }
  const [, src, dst] = args;
  if (src === dst) return err(w, 'ERR source and destination objects are the same');
  const v = store.get(src);
  if (v === undefined) return w.int(0);
  if (store.has(dst)) {
    if (!replace) return w.int(0);
    store.delete(dst);
  }
  const deadline = store.deadline(src);
  store.replace(dst, cloneValue(v));
  if (deadline !== undefined) store.setDeadline(dst, deadline);
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

export const respKeyCommands: CommandSpec[] = [
  {
    name: 'del',
    arity: -2,
    flags: ['write'],
    ...ALL_KEYS,
    run(args, w, { store }) {
      let n = 0;
      for (let i = 1; i < args.length; i++) if (store.delete(args[i])) n++;
      w.int(n);
    },
  },
  {
    name: 'unlink',
    arity: -2,
    flags: ['write', 'fast'],
    ...ALL_KEYS,
    run(args, w, { store }) {
      let n = 0;
      for (let i = 1; i < args.length; i++) if (store.delete(args[i])) n++;
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
      const v = store.get(args[1]);
      w.status(v === undefined ? 'none' : typeOf(v));
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
      // The cursor is a shard index of the keyspace: each call walks whole
      // shards until it has looked at COUNT keys. A key never changes shard,
      // so a key present for the whole iteration is returned (exactly once),
      // whatever happens to the keyspace in between — SCAN's guarantee.
      const found: string[] = [];
      let shard = cursor < BigInt(Keyspace.shardCount) ? Number(cursor) : Keyspace.shardCount;
      let seen = 0;
      while (shard < Keyspace.shardCount && seen < count) {
        for (const k of store.keysInShard(shard)) {
          seen++;
          if (pattern !== null && !globMatch(pattern, k)) continue;
          if (type !== null) {
            const v = store.get(k);
            if (v === undefined || typeOf(v) !== type.toLowerCase()) continue;
          }
          found.push(k);
        }
        shard++;
      }
      w.arr(2);
      w.str(shard >= Keyspace.shardCount ? '0' : String(shard));
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
    run(args, w, { store }) {
      rename(args, w, store, false);
    },
  },
  {
    name: 'renamenx',
    arity: 3,
    flags: ['write', 'fast'],
    firstKey: 1,
    lastKey: 2,
    keyStep: 1,
    run(args, w, { store }) {
      rename(args, w, store, true);
    },
  },
  {
    name: 'expire',
    arity: -3,
    flags: ['write', 'fast'],
    ...KEY1,
    run(args, w, { store }) {
      expireGeneric(args, w, store, 'expire', true, true);
    },
  },
  {
    name: 'pexpire',
    arity: -3,
    flags: ['write', 'fast'],
    ...KEY1,
    run(args, w, { store }) {
      expireGeneric(args, w, store, 'pexpire', false, true);
    },
  },
  {
    name: 'expireat',
    arity: -3,
    flags: ['write', 'fast'],
    ...KEY1,
    run(args, w, { store }) {
      expireGeneric(args, w, store, 'expireat', true, false);
    },
  },
  {
    name: 'pexpireat',
    arity: -3,
    flags: ['write', 'fast'],
    ...KEY1,
    run(args, w, { store }) {
      expireGeneric(args, w, store, 'pexpireat', false, false);
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
    run(args, w, { store }) {
      w.int(store.has(args[1]) && store.clearDeadline(args[1]) ? 1 : 0);
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
      flush(args, w, store);
    },
  },
  {
    name: 'flushall',
    arity: -1,
    flags: ['write'],
    ...NO_KEYS,
    run(args, w, { store }) {
      flush(args, w, store);
    },
  },
  {
    name: 'randomkey',
    arity: 1,
    flags: ['readonly'],
    ...NO_KEYS,
    run(_args, w, { store }) {
      // A Map has no random access: walk to a random position (O(n), see README).
      const n = store.size;
      if (n === 0) return w.nil();
      let skip = Math.floor(Math.random() * n);
      let last: string | undefined;
      for (const k of store.keys()) {
        last = k;
        if (skip-- === 0) break;
      }
      if (last === undefined) w.nil();
      else w.str(last);
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
    run(args, w, { store }) {
      copy(args, w, store);
    },
  },
];

/** EXISTS and TOUCH: how many of args[1..] exist (a key named twice counts twice, as in Redis). */
function countExisting(store: Keyspace, args: string[]): number {
  let n = 0;
  for (let i = 1; i < args.length; i++) if (store.has(args[i])) n++;
  return n;
}
