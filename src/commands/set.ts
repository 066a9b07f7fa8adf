// Set commands with Redis 7's semantics, served on both protocols: SADD, SREM, SISMEMBER,
// SMISMEMBER, SMEMBERS, SCARD, SPOP, SRANDMEMBER, SINTER/SUNION/SDIFF and their
// STORE forms, SINTERCARD, SMOVE. A missing key reads as an empty set; an emptied set is deleted.

import type { ReplyWriter } from '../protocol/reply.js';
import { RSet, type Keyspace, type Value } from '../store/keyspace.js';
import { NOT_INTEGER, SYNTAX, parseInt64, wrongType } from './args.js';
import type { CommandContext, CommandSpec } from './types.js';
import { notify, NOTIFY_GENERIC, NOTIFY_SET } from './notify.js';
import { ALL_KEYS, KEY1, NO_KEYS, MAX_REPEATED_PICKS, WRONG, distinctPicks, err, isOpt, readTyped } from './common.js';

const isSet = (v: Value): v is RSet => v instanceof Set;

/** One member chosen uniformly (O(1) expected: see RSet.random). */
function randomMember(set: RSet): string {
  return set.random()!;
}

/** `count` distinct members chosen uniformly (count < set.size). */
function randomDistinct(set: RSet, count: number): string[] {
  return distinctPicks(set.size, count, () => set.random()!, () => set);
}

/** Members as an array (SRANDMEMBER: picks may repeat). */
function writeMembers(members: Iterable<string>, size: number, w: ReplyWriter): void {
  w.arr(size);
  for (const m of members) w.str(m);
}

/** Members as a set (SMEMBERS, SINTER, SUNION, SDIFF, SPOP with a count): RESP3 `~`, an array elsewhere. */
function writeSet(members: Iterable<string>, size: number, w: ReplyWriter): void {
  w.set(size);
  for (const m of members) w.str(m);
}

/**
 * Looks up every key as a set first (WRONGTYPE stops everything, as in Redis);
 * missing keys are null. Returns null after writing WRONGTYPE.
 */
function lookupSets(store: Keyspace, keys: string[]): (RSet | null)[] | null {
  const out: (RSet | null)[] = [];
  for (const k of keys) {
    const v = store.get(k);
    if (v === undefined) out.push(null);
    else if (isSet(v)) out.push(v);
    else return null;
  }
  return out;
}

function intersect(sets: (RSet | null)[]): RSet {
  if (sets.some((s) => s === null || s.size === 0)) return new RSet();
  const sorted = (sets as RSet[]).slice().sort((a, b) => a.size - b.size);
  const result: RSet = new RSet();
  outer: for (const m of sorted[0]) {
    for (let i = 1; i < sorted.length; i++) if (!sorted[i].has(m)) continue outer;
    result.add(m);
  }
  return result;
}

function union(sets: (RSet | null)[]): RSet {
  const result: RSet = new RSet();
  for (const s of sets) if (s !== null) for (const m of s) result.add(m);
  return result;
}

function difference(sets: (RSet | null)[]): RSet {
  const result: RSet = new RSet(sets[0] ?? []);
  for (let i = 1; i < sets.length && result.size > 0; i++) {
    const s = sets[i];
    if (s !== null) for (const m of s) result.delete(m);
  }
  return result;
}

/** SINTER/SUNION/SDIFF and (with dst) their STORE forms: an empty result deletes dst. */
function setAlgebra(args: string[], w: ReplyWriter, ctx: CommandContext, op: (sets: (RSet | null)[]) => RSet, storeInto: string | null): void {
  const { store } = ctx;
  const keys = args.slice(storeInto !== null ? 2 : 1);
  const sets = lookupSets(store, keys);
  if (sets === null) return wrongType(w);
  const result = op(sets);
  if (storeInto === null) return writeSet(result, result.size, w);
  const dst = args[1];
  if (result.size === 0) {
    // SINTERSTORE with an empty or missing input deletes before it replies; otherwise the reply comes first (Redis's order).
    const early = op === intersect && sets.some((x) => x === null || x.size === 0);
    if (!early) w.int(0);
    if (store.delete(dst)) notify(ctx, NOTIFY_GENERIC, 'del', dst);
    if (early) w.int(0);
    return;
  }
  store.replace(dst, result);
  w.int(result.size);
  notify(ctx, NOTIFY_SET, storeInto, dst);
}

const flagsRead = ['readonly'];
const flagsWrite = ['write', 'denyoom'];

export const setCommands: CommandSpec[] = [
  {
    name: 'sadd',
    arity: -3,
    flags: ['write', 'denyoom', 'fast'],
    ...KEY1,
    run(args, w, ctx) {
      const { store } = ctx;
      let set = readTyped(store, args[1], isSet, w);
      if (set === WRONG) return;
      if (set === undefined) {
        set = new RSet();
        store.put(args[1], set);
      }
      let added = 0;
      for (let i = 2; i < args.length; i++) {
        if (!set.has(args[i])) {
          set.add(args[i]);
          added++;
        }
      }
      if (added > 0) notify(ctx, NOTIFY_SET, 'sadd', args[1]);
      w.int(added);
    },
  },
  {
    name: 'srem',
    arity: -3,
    flags: ['write', 'fast'],
    ...KEY1,
    run(args, w, ctx) {
      const { store } = ctx;
      const set = readTyped(store, args[1], isSet, w);
      if (set === WRONG) return;
      if (set === undefined) return w.int(0);
      let removed = 0;
      for (let i = 2; i < args.length; i++) if (set.delete(args[i])) removed++;
      if (removed > 0) {
        notify(ctx, NOTIFY_SET, 'srem', args[1]);
        if (set.size === 0) {
          store.delete(args[1]);
          notify(ctx, NOTIFY_GENERIC, 'del', args[1]);
        }
      }
      w.int(removed);
    },
  },
  {
    name: 'sismember',
    arity: 3,
    flags: ['readonly', 'fast'],
    ...KEY1,
    run(args, w, { store }) {
      const set = readTyped(store, args[1], isSet, w);
      if (set !== WRONG) w.int(set?.has(args[2]) ? 1 : 0);
    },
  },
  {
    name: 'smismember',
    arity: -3,
    flags: ['readonly', 'fast'],
    ...KEY1,
    run(args, w, { store }) {
      const set = readTyped(store, args[1], isSet, w);
      if (set === WRONG) return;
      w.arr(args.length - 2);
      for (let i = 2; i < args.length; i++) w.int(set?.has(args[i]) ? 1 : 0);
    },
  },
  {
    name: 'smembers',
    arity: 2,
    flags: flagsRead,
    ...KEY1,
    run(args, w, { store }) {
      const set = readTyped(store, args[1], isSet, w);
      if (set === WRONG) return;
      if (set === undefined) return w.set(0);
      writeSet(set, set.size, w);
    },
  },
  {
    name: 'scard',
    arity: 2,
    flags: ['readonly', 'fast'],
    ...KEY1,
    run(args, w, { store }) {
      const set = readTyped(store, args[1], isSet, w);
      if (set !== WRONG) w.int(set?.size ?? 0);
    },
  },
  {
    name: 'spop',
    arity: -2,
    flags: ['write', 'fast'],
    ...KEY1,
    run(args, w, ctx) {
      const { store, hooks } = ctx;
      if (args.length > 3) return err(w, SYNTAX);
      // The AOF logs what was popped (Redis propagates SPOP as SREM, or DEL when all went).
      const { propagateAs } = hooks;
      if (args.length === 3) {
        const n = parseInt64(args[2]);
        if (n === null || n < 0) return err(w, 'ERR value is out of range, must be positive');
        const set = readTyped(store, args[1], isSet, w);
        if (set === WRONG) return;
        if (set === undefined || n === 0) {
          if (propagateAs !== null) propagateAs(store, []);
          return w.set(0);
        }
        notify(ctx, NOTIFY_SET, 'spop', args[1]);
        if (n >= set.size) {
          // Everything goes: reply with the members and drop the key.
          writeSet(set, set.size, w);
          store.delete(args[1]);
          if (propagateAs !== null) propagateAs(store, [['DEL', args[1]]]);
          notify(ctx, NOTIFY_GENERIC, 'del', args[1]);
          return;
        }
        const remaining = set.size - Number(n);
        if (remaining * 5 > Number(n)) {
          const picked = randomDistinct(set, Number(n));
          for (const m of picked) set.delete(m);
          if (propagateAs !== null) propagateAs(store, [['SREM', args[1], ...picked]]);
          return writeSet(picked, picked.length, w);
        }
        // As Redis when few remain: the members kept go into a new set (whose encoding is
        // judged afresh: OBJECT ENCODING may say intset again), the rest are the reply.
        const kept = new RSet(randomDistinct(set, remaining));
        for (const m of kept) set.delete(m);
        if (propagateAs !== null) propagateAs(store, [['SREM', args[1], ...set]]);
        writeSet(set, set.size, w);
        store.put(args[1], kept);
        return;
      }
      const set = readTyped(store, args[1], isSet, w);
      if (set === WRONG) return;
      if (set === undefined) {
        if (propagateAs !== null) propagateAs(store, []);
        return w.nil();
      }
      const m = randomMember(set);
      set.delete(m);
      notify(ctx, NOTIFY_SET, 'spop', args[1]);
      if (propagateAs !== null) propagateAs(store, [['SREM', args[1], m]]);
      w.str(m);
      if (set.size === 0) {
        store.delete(args[1]);
        notify(ctx, NOTIFY_GENERIC, 'del', args[1]);
      }
    },
  },
  {
    name: 'srandmember',
    arity: -2,
    flags: ['readonly'],
    ...KEY1,
    run(args, w, { store }) {
      if (args.length > 3) return err(w, SYNTAX);
      if (args.length === 2) {
        const set = readTyped(store, args[1], isSet, w);
        if (set === WRONG) return;
        if (set === undefined) return w.nil();
        return w.str(randomMember(set));
      }
      const c = parseInt64(args[2]);
      if (c === null) return err(w, NOT_INTEGER);
      if (c === -(2n ** 63n)) return err(w, 'ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807');
      const set = readTyped(store, args[1], isSet, w);
      if (set === WRONG) return;
      if (set === undefined || c === 0) return w.arr(0);
      const count = Number(c);
      if (count < 0) {
        // Repetitions allowed: |count| independent picks.
        const n = -count;
        // Redis has no bound here; a reply of billions of picks would exhaust our
        // heap before the output-buffer limit could act, so absurd counts are refused.
        if (n > MAX_REPEATED_PICKS) return err(w, `ERR value is out of range, must be at least -${MAX_REPEATED_PICKS}`);
        w.arr(n);
        for (let i = 0; i < n; i++) w.str(set.random()!);
        return;
      }
      if (count >= set.size) return writeMembers(set, set.size, w);
      const picked = randomDistinct(set, count);
      writeMembers(picked, picked.length, w);
    },
  },
  {
    name: 'sinter',
    arity: -2,
    flags: flagsRead,
    ...ALL_KEYS,
    run(args, w, ctx) {
      setAlgebra(args, w, ctx, intersect, null);
    },
  },
  {
    name: 'sunion',
    arity: -2,
    flags: flagsRead,
    ...ALL_KEYS,
    run(args, w, ctx) {
      setAlgebra(args, w, ctx, union, null);
    },
  },
  {
    name: 'sdiff',
    arity: -2,
    flags: flagsRead,
    ...ALL_KEYS,
    run(args, w, ctx) {
      setAlgebra(args, w, ctx, difference, null);
    },
  },
  {
    name: 'sinterstore',
    arity: -3,
    flags: flagsWrite,
    ...ALL_KEYS,
    run(args, w, ctx) {
      setAlgebra(args, w, ctx, intersect, 'sinterstore');
    },
  },
  {
    name: 'sunionstore',
    arity: -3,
    flags: flagsWrite,
    ...ALL_KEYS,
    run(args, w, ctx) {
      setAlgebra(args, w, ctx, union, 'sunionstore');
    },
  },
  {
    name: 'sdiffstore',
    arity: -3,
    flags: flagsWrite,
    ...ALL_KEYS,
    run(args, w, ctx) {
      setAlgebra(args, w, ctx, difference, 'sdiffstore');
    },
  },
  {
    name: 'sintercard',
    arity: -3,
    flags: ['readonly', 'movablekeys'],
    ...NO_KEYS,
    run(args, w, { store }) {
      // Redis reads numkeys and the options before it looks at any key.
      const numkeys = parseInt64(args[1]);
      if (numkeys === null || numkeys < 1) return err(w, 'ERR numkeys should be greater than 0');
      if (numkeys > args.length - 2) return err(w, "ERR Number of keys can't be greater than number of args");
      const n = Number(numkeys);
      let limit = 0;
      for (let j = 2 + n; j < args.length; j++) {
        if (isOpt(args[j], 'limit') && j + 1 < args.length) {
          const l = parseInt64(args[++j]);
          if (l === null || l < 0) return err(w, "ERR LIMIT can't be negative");
          limit = Number(l);
        } else return err(w, SYNTAX);
      }
      const sets = lookupSets(store, args.slice(2, 2 + n));
      if (sets === null) return wrongType(w);
      if (sets.some((x) => x === null || x.size === 0)) return w.int(0);
      // Walk the smallest set, stopping at LIMIT.
      const sorted = (sets as RSet[]).slice().sort((a, b) => a.size - b.size);
      let count = 0;
      outer: for (const m of sorted[0]) {
        for (let i = 1; i < sorted.length; i++) if (!sorted[i].has(m)) continue outer;
        if (++count === limit) break;
      }
      w.int(count);
    },
  },
  {
    name: 'smove',
    arity: 4,
    flags: ['write', 'fast'],
    firstKey: 1,
    lastKey: 2,
    keyStep: 1,
    run(args, w, ctx) {
      const { store } = ctx;
      const [, srcKey, dstKey, member] = args;
      const src = store.get(srcKey);
      const dst = store.get(dstKey);
      // A missing source is 0 before any type check (the destination's included), as in Redis.
      if (src === undefined) return w.int(0);
      if (!isSet(src) || (dst !== undefined && !isSet(dst))) return wrongType(w);
      if (src === dst) return w.int(src.has(member) ? 1 : 0);
      if (!src.delete(member)) return w.int(0);
      notify(ctx, NOTIFY_SET, 'srem', srcKey);
      if (src.size === 0) {
        store.delete(srcKey);
        notify(ctx, NOTIFY_GENERIC, 'del', srcKey);
      }
      let added = true;
      if (dst === undefined) store.put(dstKey, new RSet([member]));
      else if (dst.has(member)) added = false;
      else dst.add(member);
      if (added) notify(ctx, NOTIFY_SET, 'sadd', dstKey);
      w.int(1);
    },
  },
];
