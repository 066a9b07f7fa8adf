// List commands with Redis 7's names, arities, replies and error strings; served
// on both protocols. A missing key reads as an empty list; an emptied list is deleted.
// The cores of LMOVE and LMPOP (lmoveApply, lmpopApply) are exported for their
// blocking forms, which run them once a key they wait for holds a list.

import { ErrCode, type ReplyWriter } from '../protocol/reply.js';
import { List, type Keyspace, type Value } from '../store/keyspace.js';
import { notInteger, parseInt64, syntaxError } from './args.js';
import { KEY1, WRONG, isOpt, readTyped } from './common.js';
import { mpopParse } from './mpop.js';
import type { CommandContext, CommandSpec } from './types.js';
import { notify, NOTIFY_GENERIC, NOTIFY_LIST } from './notify.js';

const isList = (v: Value): v is List => v instanceof List;

/**
 * A C long (int64) argument as a number. Values beyond ±2^53 lose precision,
 * which cannot change an index clamp against a list that fits in memory.
 */
function parseLong(s: string): number | null {
  const v = parseInt64(s);
  return v === null ? null : Number(v);
}

/** Redis's getPositiveLongFromObjectOrReply: one message for "not an integer" and "negative". */
function parseNonNegative(s: string): number | null {
  const v = parseLong(s);
  return v === null || v < 0 ? null : v;
}

/** Clamps Redis-style start/stop (negative counts from the end) to [start, stop] inside 0..len-1; null if empty. */
function clampRange(start: number, stop: number, len: number): [number, number] | null {
  if (start < 0) start += len;
  if (stop < 0) stop += len;
  if (start < 0) start = 0;
  if (start > stop || start >= len) return null;
  if (stop >= len) stop = len - 1;
  return [start, stop];
}

/** A Redis-style index (negative counts from the end) as 0..len-1, or -1 if out of range. */
function resolveIndex(index: number, len: number): number {
  const i = index < 0 ? len + index : index;
  return i >= 0 && i < len ? i : -1;
}

function push(args: string[], w: ReplyWriter, ctx: CommandContext, front: boolean, onlyIfExists: boolean): void {
  const { store } = ctx;
  let list = readTyped(store, args[1], isList, w);
  if (list === WRONG) return;
  if (list === undefined) {
    if (onlyIfExists) return w.int(0);
    list = new List();
    store.put(args[1], list);
  }
  for (let i = 2; i < args.length; i++) {
    if (front) list.pushFront(args[i]);
    else list.pushBack(args[i]);
  }
  w.int(list.length);
  notify(ctx, NOTIFY_LIST, front ? 'lpush' : 'rpush', args[1]);
}

/** After elements were popped from key (Redis's listElementsRemoved): lpop/rpop, and del if it emptied (then deleted). */
function popped(ctx: CommandContext, key: string, list: List, front: boolean): void {
  notify(ctx, NOTIFY_LIST, front ? 'lpop' : 'rpop', key);
  if (list.length === 0) {
    ctx.store.delete(key);
    notify(ctx, NOTIFY_GENERIC, 'del', key);
  }
}

function pop(args: string[], w: ReplyWriter, ctx: CommandContext, front: boolean): void {
  const { store } = ctx;
  if (args.length > 3) return w.err(ErrCode.Unknown, `ERR wrong number of arguments for '${front ? 'lpop' : 'rpop'}' command`);
  const hasCount = args.length === 3;
  let count = 0;
  if (hasCount) {
    const c = parseNonNegative(args[2]);
    if (c === null) return w.err(ErrCode.BadArg, 'ERR value is out of range, must be positive');
    count = c;
  }
  const list = readTyped(store, args[1], isList, w);
  if (list === WRONG) return;
  if (list === undefined) return hasCount ? w.nilArr() : w.nil();
  if (hasCount && count === 0) return w.arr(0);
  if (!hasCount) {
    w.str((front ? list.popFront() : list.popBack())!);
  } else {
    const n = Math.min(count, list.length);
    w.arr(n);
    for (let i = 0; i < n; i++) w.str((front ? list.popFront() : list.popBack())!);
  }
  popped(ctx, args[1], list, front);
}

/** A list's end: LEFT is the head, RIGHT the tail. */
export type ListEnd = 'left' | 'right';

/** The end tokens of LMPOP and BLMPOP, for mpopParse. */
export const LIST_ENDS = ['left', 'right'] as const;

/** Redis's getListPositionFromObjectOrReply: LEFT or RIGHT in any case; otherwise a syntax error is written and null returned. */
export function parseListEnd(arg: string, w: ReplyWriter): ListEnd | null {
  if (isOpt(arg, 'left')) return 'left';
  if (isOpt(arg, 'right')) return 'right';
  syntaxError(w);
  return null;
}

/** What lmoveApply did. */
export type MoveResult = 'moved' | 'none' | 'wrongtype';

/**
 * LMOVE's core, Redis's lmoveGenericCommand; also what BLMOVE and BRPOPLPUSH
 * run once src holds a list. Pops an element from src's `from` end, pushes it
 * onto dst's `to` end (dst is created if missing) and replies the element.
 * - src missing: writes nothing and returns 'none' (LMOVE replies nil, a
 *   blocking form waits);
 * - src not a list, or src a list and dst another type: writes WRONGTYPE,
 *   moves nothing, returns 'wrongtype';
 * - otherwise 'moved'. src and dst may be the same key (a rotation); src is
 *   deleted when it empties (after the push, so a one-element rotation keeps it).
 */
export function lmoveApply(ctx: CommandContext, src: string, dst: string, from: ListEnd, to: ListEnd, w: ReplyWriter): MoveResult {
  const { store } = ctx;
  const source = readTyped(store, src, isList, w);
  if (source === WRONG) return 'wrongtype';
  if (source === undefined) return 'none';
  // Redis looks dst up (and checks its type) before it pops.
  let target = readTyped(store, dst, isList, w);
  if (target === WRONG) return 'wrongtype';
  const value = (from === 'left' ? source.popFront() : source.popBack())!;
  if (target === undefined) {
    target = new List();
    store.put(dst, target);
  }
  if (to === 'left') target.pushFront(value);
  else target.pushBack(value);
  // Redis's order: the push's event, the reply, then the pop's (and del).
  notify(ctx, NOTIFY_LIST, to === 'left' ? 'lpush' : 'rpush', dst);
  w.str(value);
  popped(ctx, src, source, from === 'left');
  return 'moved';
}

/**
 * The pop of LMPOP, and of BLMPOP, BLPOP and BRPOP on a key that holds a list
 * (Redis's mpopGenericCommand, and the first loop of blockingPopGenericCommand):
 * the first of `keys` that exists gives up to `count` elements from its
 * `end`. A missing key is skipped; a key of another type before the first list
 * answers WRONGTYPE (returns WRONG).
 * - count ≥ 1 replies [key, [element, ...]] (LMPOP, BLMPOP);
 * - count -1 pops one element and replies [key, element] (BLPOP, BRPOP).
 * Returns the key popped from (deleted if it emptied), or null with nothing
 * written when no key holds a list: LMPOP then replies a null array, a
 * blocking form waits (and, once a key is ready, calls this again with that key).
 */
export function lmpopApply(ctx: CommandContext, keys: readonly string[], end: ListEnd, count: number, w: ReplyWriter): string | null | typeof WRONG {
  const { store } = ctx;
  for (const key of keys) {
    const list = readTyped(store, key, isList, w);
    if (list === WRONG) return WRONG;
    if (list === undefined) continue;
    const front = end === 'left';
    w.arr(2);
    w.str(key);
    if (count === -1) {
      w.str((front ? list.popFront() : list.popBack())!);
    } else {
      const n = Math.min(count, list.length);
      w.arr(n);
      for (let i = 0; i < n; i++) w.str((front ? list.popFront() : list.popBack())!);
    }
    popped(ctx, key, list, front);
    return key;
  }
  return null;
}

/** LMOVE source destination LEFT|RIGHT LEFT|RIGHT, and RPOPLPUSH (RIGHT, LEFT). */
function lmove(ctx: CommandContext, src: string, dst: string, from: ListEnd, to: ListEnd, w: ReplyWriter): void {
  if (lmoveApply(ctx, src, dst, from, to, w) === 'none') w.nil();
}

export const listCommands: CommandSpec[] = [
  {
    name: 'lpush',
    arity: -3,
    flags: ['write', 'denyoom', 'fast'],
    ...KEY1,
    run: (args, w, ctx) => push(args, w, ctx, true, false),
  },
  {
    name: 'rpush',
    arity: -3,
    flags: ['write', 'denyoom', 'fast'],
    ...KEY1,
    run: (args, w, ctx) => push(args, w, ctx, false, false),
  },
  {
    name: 'lpushx',
    arity: -3,
    flags: ['write', 'denyoom', 'fast'],
    ...KEY1,
    run: (args, w, ctx) => push(args, w, ctx, true, true),
  },
  {
    name: 'rpushx',
    arity: -3,
    flags: ['write', 'denyoom', 'fast'],
    ...KEY1,
    run: (args, w, ctx) => push(args, w, ctx, false, true),
  },
  {
    name: 'lpop',
    arity: -2,
    flags: ['write', 'fast'],
    ...KEY1,
    run: (args, w, ctx) => pop(args, w, ctx, true),
  },
  {
    name: 'rpop',
    arity: -2,
    flags: ['write', 'fast'],
    ...KEY1,
    run: (args, w, ctx) => pop(args, w, ctx, false),
  },
  {
    name: 'llen',
    arity: 2,
    flags: ['readonly', 'fast'],
    ...KEY1,
    run(args, w, { store }) {
      const list = readTyped(store, args[1], isList, w);
      if (list === WRONG) return;
      w.int(list === undefined ? 0 : list.length);
    },
  },
  {
    name: 'lrange',
    arity: 4,
    flags: ['readonly'],
    ...KEY1,
    run(args, w, { store }) {
      const start = parseLong(args[2]);
      const stop = parseLong(args[3]);
      if (start === null || stop === null) return notInteger(w);
      const list = readTyped(store, args[1], isList, w);
      if (list === WRONG) return;
      const range = list === undefined ? null : clampRange(start, stop, list.length);
      if (range === null) return w.arr(0);
      w.arr(range[1] - range[0] + 1);
      for (let i = range[0]; i <= range[1]; i++) w.str(list!.at(i));
    },
  },
  {
    name: 'lindex',
    arity: 3,
    flags: ['readonly'],
    ...KEY1,
    run(args, w, { store }) {
      // Redis looks the key up before it parses the index.
      const list = readTyped(store, args[1], isList, w);
      if (list === WRONG) return;
      if (list === undefined) return w.nil();
      const index = parseLong(args[2]);
      if (index === null) return notInteger(w);
      const i = resolveIndex(index, list.length);
      if (i < 0) w.nil();
      else w.str(list.at(i));
    },
  },
  {
    name: 'lset',
    arity: 4,
    flags: ['write', 'denyoom'],
    ...KEY1,
    run(args, w, ctx) {
      const list = readTyped(ctx.store, args[1], isList, w);
      if (list === WRONG) return;
      if (list === undefined) return w.err(ErrCode.BadArg, 'ERR no such key');
      const index = parseLong(args[2]);
      if (index === null) return notInteger(w);
      const i = resolveIndex(index, list.length);
      if (i < 0) return w.err(ErrCode.BadArg, 'ERR index out of range');
      list.set(i, args[3]);
      w.status('OK');
      notify(ctx, NOTIFY_LIST, 'lset', args[1]);
    },
  },
  {
    name: 'ltrim',
    arity: 4,
    flags: ['write'],
    ...KEY1,
    run(args, w, ctx) {
      const start = parseLong(args[2]);
      const stop = parseLong(args[3]);
      if (start === null || stop === null) return notInteger(w);
      const list = readTyped(ctx.store, args[1], isList, w);
      if (list === WRONG) return;
      if (list !== undefined) {
        const range = clampRange(start, stop, list.length);
        if (range === null) list.clear();
        else list.trim(range[0], range[1]);
        notify(ctx, NOTIFY_LIST, 'ltrim', args[1]);
        if (list.length === 0) {
          ctx.store.delete(args[1]);
          notify(ctx, NOTIFY_GENERIC, 'del', args[1]);
        }
      }
      w.status('OK');
    },
  },
  {
    name: 'lrem',
    arity: 4,
    flags: ['write'],
    ...KEY1,
    run(args, w, ctx) {
      const { store } = ctx;
      const count = parseLong(args[2]);
      if (count === null) return notInteger(w);
      const list = readTyped(store, args[1], isList, w);
      if (list === WRONG) return;
      if (list === undefined) return w.int(0);
      const target = args[3];
      const items = list.toArray();
      const limit = count === 0 ? Infinity : Math.abs(count);
      let removed = 0;
      // count < 0 removes from the tail: walk backwards, then restore the order.
      if (count < 0) items.reverse();
      const kept = items.filter((v) => (v === target && removed < limit ? (removed++, false) : true));
      if (count < 0) kept.reverse();
      if (removed > 0) {
        list.replace(kept);
        notify(ctx, NOTIFY_LIST, 'lrem', args[1]);
      }
      if (list.length === 0) {
        store.delete(args[1]);
        notify(ctx, NOTIFY_GENERIC, 'del', args[1]);
      }
      w.int(removed);
    },
  },
  {
    name: 'linsert',
    arity: 5,
    flags: ['write', 'denyoom'],
    ...KEY1,
    run(args, w, ctx) {
      const where = args[2].toLowerCase();
      if (where !== 'before' && where !== 'after') return syntaxError(w);
      const list = readTyped(ctx.store, args[1], isList, w);
      if (list === WRONG) return;
      if (list === undefined) return w.int(0);
      const pivot = args[3];
      for (let i = 0; i < list.length; i++) {
        if (list.at(i) === pivot) {
          list.insert(where === 'before' ? i : i + 1, args[4]);
          notify(ctx, NOTIFY_LIST, 'linsert', args[1]);
          return w.int(list.length);
        }
      }
      w.int(-1);
    },
  },
  {
    name: 'lpos',
    arity: -3,
    flags: ['readonly'],
    ...KEY1,
    run(args, w, { store }) {
      let rank = 1;
      let count = -1; // -1: COUNT not given
      let maxlen = 0; // 0: scan the whole list
      for (let j = 3; j < args.length; j++) {
        const opt = args[j].toLowerCase();
        const hasValue = j < args.length - 1;
        if (opt === 'rank' && hasValue) {
          const v = parseInt64(args[++j]);
          if (v === null) return notInteger(w);
          if (v === -(2n ** 63n)) {
            return w.err(ErrCode.BadArg, 'ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807');
          }
          if (v === 0) {
            return w.err(
              ErrCode.BadArg,
              "ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list",
            );
          }
          rank = Number(v);
        } else if (opt === 'count' && hasValue) {
          const v = parseNonNegative(args[++j]);
          if (v === null) return w.err(ErrCode.BadArg, "ERR COUNT can't be negative");
          count = v;
        } else if (opt === 'maxlen' && hasValue) {
          const v = parseNonNegative(args[++j]);
          if (v === null) return w.err(ErrCode.BadArg, "ERR MAXLEN can't be negative");
          maxlen = v;
        } else {
          return syntaxError(w);
        }
      }
      const fromTail = rank < 0;
      if (fromTail) rank = -rank;

      const list = readTyped(store, args[1], isList, w);
      if (list === WRONG) return;
      if (list === undefined) return count !== -1 ? w.arr(0) : w.nil();

      const target = args[2];
      const len = list.length;
      const scan = maxlen === 0 ? len : Math.min(len, maxlen);
      const found: number[] = [];
      let matches = 0;
      for (let k = 0; k < scan; k++) {
        const i = fromTail ? len - 1 - k : k;
        if (list.at(i) !== target) continue;
        matches++;
        if (matches < rank) continue;
        found.push(i);
        if (count === -1 || (count !== 0 && found.length >= count)) break;
      }
      if (count === -1) {
        if (found.length === 0) w.nil();
        else w.int(found[0]);
        return;
      }
      w.arr(found.length);
      for (const i of found) w.int(i);
    },
  },
  {
    name: 'lmove',
    arity: 5,
    flags: ['write', 'denyoom'],
    firstKey: 1,
    lastKey: 2,
    keyStep: 1,
    run(args, w, ctx) {
      const from = parseListEnd(args[3], w);
      if (from === null) return;
      const to = parseListEnd(args[4], w);
      if (to === null) return;
      lmove(ctx, args[1], args[2], from, to, w);
    },
  },
  {
    name: 'rpoplpush',
    arity: 3,
    flags: ['write', 'denyoom'],
    firstKey: 1,
    lastKey: 2,
    keyStep: 1,
    run: (args, w, ctx) => lmove(ctx, args[1], args[2], 'right', 'left', w),
  },
  {
    name: 'lmpop',
    arity: -4,
    // Its keys follow numkeys: COMMAND reports 0 0 0 and movablekeys, as Redis does.
    flags: ['write', 'movablekeys'],
    firstKey: 0,
    lastKey: 0,
    keyStep: 0,
    run(args, w, ctx) {
      const req = mpopParse(args, 1, LIST_ENDS, w);
      if (req === null) return;
      if (lmpopApply(ctx, req.keys, req.end, req.count, w) === null) w.nilArr();
    },
  },
];
