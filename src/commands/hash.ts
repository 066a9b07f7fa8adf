// Hash commands with Redis 7's names, arities, replies and error strings; served
// on both protocols. A missing key reads as an empty hash; an emptied hash is deleted.

import { ErrCode, type ReplyWriter } from '../protocol/reply.js';
import { Hash, type Keyspace, type Value } from '../store/keyspace.js';
import { NOT_FLOAT, SYNTAX, notInteger, parseInt64 } from './args.js';
import { addLongDouble, formatLongDoubleHuman, parseLongDouble } from './longdouble.js';
import { KEY1, MAX_REPEATED_PICKS, WRONG, arityError, distinctPicks, err, isOpt, readTyped } from './common.js';
import type { CommandContext, CommandSpec } from './types.js';
import { notify, NOTIFY_GENERIC, NOTIFY_HASH } from './notify.js';

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

const isHash = (v: Value): v is Hash => v instanceof Map;

/** The hash under key, created (and stored) if missing; null after writing WRONGTYPE. */
function hashForWrite(store: Keyspace, key: string, w: ReplyWriter): Hash | null {
  const h = readTyped(store, key, isHash, w);
  if (h === WRONG) return null;
  if (h !== undefined) return h;
  const created: Hash = new Hash();
  store.put(key, created);
  return created;
}

/** A 64-bit integer reply: a number when it is exact as one, else a bigint. */
function int64Reply(v: bigint): number | bigint {
  return v >= -(2n ** 53n) && v <= 2n ** 53n ? Number(v) : v;
}

/** Writes fields, or WITHVALUES [field, value] pairs (flat in RESP2, nested in RESP3). */
function writeFields(entries: [string, string][], withValues: boolean, w: ReplyWriter): void {
  if (!withValues) {
    w.arr(entries.length);
    for (const [f] of entries) w.str(f);
    return;
  }
  w.pairs(entries.length);
  for (const [f, v] of entries) {
    w.pair();
    w.str(f);
    w.str(v);
  }
}

/** HRANDFIELD key [count [WITHVALUES]] (hrandfieldCommand). */
function hrandfield(args: string[], w: ReplyWriter, store: Keyspace): void {
  if (args.length === 2) {
    const h = readTyped(store, args[1], isHash, w);
    if (h === WRONG) return;
    if (h === undefined) return w.nil();
    return w.str(h.random()!);
  }
  const c = parseInt64(args[2]);
  if (c === null) return notInteger(w);
  if (c === INT64_MIN) return err(w, 'ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807');
  if (args.length > 4 || (args.length === 4 && !isOpt(args[3], 'withvalues'))) return err(w, SYNTAX);
  const withValues = args.length === 4;
  // LONG_MAX / 2 in C's integer division.
  if (withValues && (c < -4611686018427387903n || c > 4611686018427387903n)) return err(w, 'ERR value is out of range');
  const h = readTyped(store, args[1], isHash, w);
  if (h === WRONG) return;
  if (h === undefined || c === 0) return w.arr(0);
  const count = Number(c);
  const entry = (f: string): [string, string] => [f, h.get(f)!];
  if (count === 1) return writeFields([entry(h.random()!)], withValues, w);
  if (count < 0) {
    // Repetitions allowed: |count| independent picks, in random order.
    const n = -count;
    if (n > MAX_REPEATED_PICKS) return err(w, `ERR value is out of range, must be at least -${MAX_REPEATED_PICKS}`);
    const picks: [string, string][] = [];
    for (let i = 0; i < n; i++) picks.push(entry(h.random()!));
    return writeFields(picks, withValues, w);
  }
  // The whole hash in its order, or `count` distinct fields.
  writeFields(count >= h.size ? [...h] : distinctPicks(h.size, count, () => h.random()!, () => h.keys()).map(entry), withValues, w);
}

// ---------- the commands ----------

/** HSET and HMSET share their body; they differ only in the reply. */
function setFields(args: string[], w: ReplyWriter, store: Keyspace, name: string): number | null {
  if (args.length % 2 === 1) {
    arityError(w, name);
    return null;
  }
  const h = hashForWrite(store, args[1], w);
  if (h === null) return null;
  let added = 0;
  for (let i = 2; i < args.length; i += 2) {
    if (!h.has(args[i])) added++;
    h.set(args[i], args[i + 1]);
  }
  return added;
}

export const hashCommands: CommandSpec[] = [
  {
    name: 'hset',
    arity: -4,
    flags: ['write', 'denyoom', 'fast'],
    ...KEY1,
    run(args, w, ctx) {
      const added = setFields(args, w, ctx.store, 'hset');
      if (added === null) return;
      w.int(added);
      notify(ctx, NOTIFY_HASH, 'hset', args[1]);
    },
  },
  {
    name: 'hmset',
    arity: -4,
    flags: ['write', 'denyoom', 'fast'],
    ...KEY1,
    run(args, w, ctx) {
      if (setFields(args, w, ctx.store, 'hmset') === null) return;
      w.status('OK');
      notify(ctx, NOTIFY_HASH, 'hset', args[1]);
    },
  },
  {
    name: 'hsetnx',
    arity: 4,
    flags: ['write', 'denyoom', 'fast'],
    ...KEY1,
    run(args, w, ctx) {
      const h = hashForWrite(ctx.store, args[1], w);
      if (h === null) return;
      if (h.has(args[2])) return w.int(0);
      h.set(args[2], args[3]);
      w.int(1);
      notify(ctx, NOTIFY_HASH, 'hset', args[1]);
    },
  },
  {
    name: 'hget',
    arity: 3,
    flags: ['readonly', 'fast'],
    ...KEY1,
    run(args, w, { store }) {
      const h = readTyped(store, args[1], isHash, w);
      if (h === WRONG) return;
      const v = h?.get(args[2]);
      if (v === undefined) w.nil();
      else w.str(v);
    },
  },
  {
    name: 'hmget',
    arity: -3,
    flags: ['readonly', 'fast'],
    ...KEY1,
    run(args, w, { store }) {
      const h = readTyped(store, args[1], isHash, w);
      if (h === WRONG) return;
      w.arr(args.length - 2);
      for (let i = 2; i < args.length; i++) {
        const v = h?.get(args[i]);
        if (v === undefined) w.nil();
        else w.str(v);
      }
    },
  },
  {
    name: 'hdel',
    arity: -3,
    flags: ['write', 'fast'],
    ...KEY1,
    run(args, w, ctx) {
      const { store } = ctx;
      const h = readTyped(store, args[1], isHash, w);
      if (h === WRONG) return;
      if (h === undefined) return w.int(0);
      let removed = 0;
      for (let i = 2; i < args.length; i++) if (h.delete(args[i])) removed++;
      if (removed > 0) {
        notify(ctx, NOTIFY_HASH, 'hdel', args[1]);
        if (h.size === 0) {
          store.delete(args[1]);
          notify(ctx, NOTIFY_GENERIC, 'del', args[1]);
        }
      }
      w.int(removed);
    },
  },
  {
    name: 'hlen',
    arity: 2,
    flags: ['readonly', 'fast'],
    ...KEY1,
    run(args, w, { store }) {
      const h = readTyped(store, args[1], isHash, w);
      if (h === WRONG) return;
      w.int(h === undefined ? 0 : h.size);
    },
  },
  {
    name: 'hexists',
    arity: 3,
    flags: ['readonly', 'fast'],
    ...KEY1,
    run(args, w, { store }) {
      const h = readTyped(store, args[1], isHash, w);
      if (h === WRONG) return;
      w.int(h?.has(args[2]) ? 1 : 0);
    },
  },
  {
    name: 'hgetall',
    arity: 2,
    flags: ['readonly'],
    ...KEY1,
    run(args, w, { store }) {
      const h = readTyped(store, args[1], isHash, w);
      if (h === WRONG) return;
      if (h === undefined) return w.map(0);
      w.map(h.size);
      for (const [f, v] of h) {
        w.str(f);
        w.str(v);
      }
    },
  },
  {
    name: 'hkeys',
    arity: 2,
    flags: ['readonly'],
    ...KEY1,
    run(args, w, { store }) {
      const h = readTyped(store, args[1], isHash, w);
      if (h === WRONG) return;
      if (h === undefined) return w.arr(0);
      w.arr(h.size);
      for (const f of h.keys()) w.str(f);
    },
  },
  {
    name: 'hvals',
    arity: 2,
    flags: ['readonly'],
    ...KEY1,
    run(args, w, { store }) {
      const h = readTyped(store, args[1], isHash, w);
      if (h === WRONG) return;
      if (h === undefined) return w.arr(0);
      w.arr(h.size);
      for (const v of h.values()) w.str(v);
    },
  },
  {
    name: 'hstrlen',
    arity: 3,
    flags: ['readonly', 'fast'],
    ...KEY1,
    run(args, w, { store }) {
      const h = readTyped(store, args[1], isHash, w);
      if (h === WRONG) return;
      w.int(h?.get(args[2])?.length ?? 0); // binary strings: one char per byte
    },
  },
  {
    name: 'hincrby',
    arity: 4,
    flags: ['write', 'denyoom', 'fast'],
    ...KEY1,
    run(args, w, ctx) {
      const { store } = ctx;
      const incr = parseInt64(args[3]);
      if (incr === null) return notInteger(w);
      const h = readTyped(store, args[1], isHash, w);
      if (h === WRONG) return;
      const current = h?.get(args[2]);
      let value = 0n;
      if (current !== undefined) {
        const parsed = parseInt64(current);
        if (parsed === null) return w.err(ErrCode.BadArg, 'ERR hash value is not an integer');
        value = BigInt(parsed);
      }
      const next = value + BigInt(incr);
      if (next < INT64_MIN || next > INT64_MAX) return w.err(ErrCode.BadArg, 'ERR increment or decrement would overflow');
      const target = h ?? hashForWrite(store, args[1], w)!;
      target.set(args[2], next.toString());
      w.int(int64Reply(next));
      notify(ctx, NOTIFY_HASH, 'hincrby', args[1]);
    },
  },
  {
    name: 'hincrbyfloat',
    arity: 4,
    flags: ['write', 'denyoom', 'fast'],
    ...KEY1,
    run(args, w, ctx) {
      const { store } = ctx;
      // Redis adds in long double and replies "%.17Lf" minus trailing zeros: 0.3 + 5000 reads
      // 5000.29999999999999982. longdouble.ts emulates that exactly (INCRBYFLOAT shares it).
      const incr = parseLongDouble(args[3]);
      if (incr === null) return w.err(ErrCode.BadArg, NOT_FLOAT);
      if (typeof incr === 'number') return w.err(ErrCode.BadArg, 'ERR value is NaN or Infinity'); // ±inf
      const h = readTyped(store, args[1], isHash, w);
      if (h === WRONG) return;
      const value = parseLongDouble(h?.get(args[2]) ?? '0');
      if (value === null) return w.err(ErrCode.BadArg, 'ERR hash value is not a float');
      const sum = typeof value === 'number' ? null : addLongDouble(value, incr); // an "inf" field stays inf
      if (sum === null) return w.err(ErrCode.BadArg, 'ERR increment would produce NaN or Infinity');
      const text = formatLongDoubleHuman(sum);
      const target = h ?? hashForWrite(store, args[1], w)!;
      target.set(args[2], text);
      w.str(text);
      notify(ctx, NOTIFY_HASH, 'hincrbyfloat', args[1]);
    },
  },
  {
    name: 'hrandfield',
    arity: -2,
    flags: ['readonly'],
    ...KEY1,
    run(args, w, { store }) {
      hrandfield(args, w, store);
    },
  },
];
