// The book's sorted-set commands with the book's semantics and error words:
// zadd, zrem, zscore, zquery. A missing key reads as an empty sorted set.

import { ErrCode, type ReplyWriter } from '../../protocol/reply.js';
import type { Value } from '../../store/keyspace.js';
import { ZSet } from '../../store/zset.js';
import { parseFloat64, parseInt64 } from '../args.js';
import { KEY1, WRONG, readTyped } from '../common.js';
import type { CommandSpec } from '../types.js';
import { notify, NOTIFY_GENERIC, NOTIFY_ZSET } from '../notify.js';

const isZSet = (v: Value): v is ZSet => v instanceof ZSet;

/**
 * zquery's reply, apart from argument parsing: seek the first entry ≥
 * (score, name), move `offset` ranks, then emit name/score pairs while the
 * array holds fewer than `limit` elements. Seek and move are O(log n), each
 * emitted pair O(1) amortised. Exported for the model-based tests.
 */
export function writeZQuery(zset: ZSet | null, score: number, name: string, offset: number, limit: number, w: ReplyWriter): void {
  if (zset === null || limit <= 0) return w.arr(0);
  const first = zset.seek(score, name);
  if (first >= zset.size) return w.arr(0);
  const start = zset.offset(first, offset);
  if (start < 0) return w.arr(0);
  // "while n < limit: emit 2 elements" emits ceil(limit / 2) pairs.
  const pairs = Math.min(Math.ceil(limit / 2), zset.size - start);
  w.arr(pairs * 2);
  for (const e of zset.range(start, start + pairs - 1)) {
    w.str(e.name);
    w.dbl(e.score);
  }
}

/** The book's str2int accepts any int64; beyond ±2^53 the exact value no longer matters for ranks. */
function toNumber(v: number | bigint): number {
  return typeof v === 'bigint' ? Number(v) : v;
}

export const bookZsetCommands: CommandSpec[] = [
  {
    name: 'zadd',
    arity: 4,
    flags: ['write', 'denyoom', 'fast'],
    ...KEY1,
    run(args, w, ctx) {
      const { store } = ctx;
      const score = parseFloat64(args[2]);
      if (score === null) return w.err(ErrCode.BadArg, 'expect float');
      let zset = readTyped(store, args[1], isZSet, w);
      if (zset === WRONG) return;
      if (zset === undefined) {
        zset = new ZSet();
        store.put(args[1], zset);
      }
      const before = zset.score(args[3]);
      const added = zset.add(args[3], score);
      w.int(added ? 1 : 0);
      if (before !== score) notify(ctx, NOTIFY_ZSET, 'zadd', args[1]);
    },
  },
  {
    name: 'zrem',
    arity: 3,
    flags: ['write', 'fast'],
    ...KEY1,
    run(args, w, ctx) {
      const { store } = ctx;
      const zset = readTyped(store, args[1], isZSet, w);
      if (zset === WRONG) return;
      if (zset === undefined) return w.int(0);
      const removed = zset.remove(args[2]);
      if (removed) notify(ctx, NOTIFY_ZSET, 'zrem', args[1]);
      if (zset.size === 0) {
        store.delete(args[1]); // an empty sorted set is no key at all, as in Redis
        notify(ctx, NOTIFY_GENERIC, 'del', args[1]);
      }
      w.int(removed ? 1 : 0);
    },
  },
  {
    name: 'zscore',
    arity: 3,
    flags: ['readonly', 'fast'],
    ...KEY1,
    run(args, w, { store }) {
      const zset = readTyped(store, args[1], isZSet, w);
      if (zset === WRONG) return;
      const score = zset?.score(args[2]);
      if (score === undefined) w.nil();
      else w.dbl(score);
    },
  },
  {
    name: 'zquery',
    arity: 6,
    flags: ['readonly'],
    ...KEY1,
    run(args, w, { store }) {
      // The book parses every argument before it looks at the key.
      const score = parseFloat64(args[2]);
      if (score === null) return w.err(ErrCode.BadArg, 'expect fp number');
      const offset = parseInt64(args[4]);
      const limit = parseInt64(args[5]);
      if (offset === null || limit === null) return w.err(ErrCode.BadArg, 'expect int');
      const zset = readTyped(store, args[1], isZSet, w);
      if (zset === WRONG) return;
      writeZQuery(zset ?? null, score, args[3], toNumber(offset), toNumber(limit), w);
    },
  },
];
