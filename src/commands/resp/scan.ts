// HSCAN, SSCAN and ZSCAN (Redis's scanGenericCommand for one value).
//
// A value Redis would keep in a compact encoding (listpack, intset) is returned
// whole in one call with cursor 0, in the order Redis returns it (insertion
// order for a hash, ascending integers for a set, by score for a sorted set),
// whatever the cursor and COUNT say — exactly as Redis does. So is any value of
// at most COUNT elements.
//
// Bigger values get a real cursor: a live iterator over the value's insertion
// order (a Map's or Set's own iterator; for a sorted set its name → node Map),
// kept in a table under the cursor's number. A live iterator survives changes
// between calls (an element removed before it is reached is skipped, one added
// later is reached), so an element present for the whole iteration is returned
// exactly once, and each call walks COUNT elements. The table holds at most
// MAX_CURSORS iterators (least recently used go first). A cursor the table no
// longer knows, or one that belongs to another key or to a value that has since
// been replaced, starts the iteration again: SCAN's guarantee (every element
// present throughout is returned at least once) still holds; some come twice,
// as SCAN allows.

import { formatDouble17g, type ReplyWriter } from '../../protocol/reply.js';
import type { Hash, Keyspace, RSet, Value } from '../../store/keyspace.js';
import { ZSet } from '../../store/zset.js';
import { NOT_INTEGER, SYNTAX, parseInt64 } from '../args.js';
import type { CommandSpec } from '../types.js';
import { KEY1, WRONG, err, isOpt, readTyped } from '../common.js';
import { globMatch, parseCursor } from './keys.js';

/** One element of a scan: a set member alone, a hash field with its value, a sorted-set member with its score. */
type Item = readonly [string, string | number | null];

interface LiveCursor {
  readonly key: string;
  readonly value: Value;
  readonly items: Iterator<Item>;
}

/** Most live iterators kept at once; the least recently used is dropped first. */
const MAX_CURSORS = 1024;

/** cursor number → live iterator; Map order is recency (a use moves an entry to the end). */
const cursors = new Map<string, LiveCursor>();
let lastCursor = 0;

/** The whole value in Redis's order, if Redis would hold it in a compact encoding (OBJECT ENCODING's answer); else null. */
function compactItems(v: Hash | RSet | ZSet): Item[] | null {
  if (v.wide) return null;
  if (v instanceof ZSet) {
    const out: Item[] = [];
    for (const e of v) out.push([e.name, e.score]);
    return out;
  }
  if (v instanceof Map) return [...v];
  // An intset is sorted by value.
  const ints = [...v];
  ints.sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : BigInt(a) > BigInt(b) ? 1 : 0));
  return ints.map((m) => [m, null]);
}

function* liveItems(v: Hash | RSet | ZSet): IterableIterator<Item> {
  if (v instanceof ZSet) for (const e of v.byInsertion()) yield [e.name, e.score];
  else if (v instanceof Map) yield* v.entries();
  else for (const m of v) yield [m, null];
}

/** The live iterator for this cursor of this key's value, or a fresh one (see the header). */
function resume(cursor: bigint, key: string, v: Hash | RSet | ZSet): Iterator<Item> {
  const id = String(cursor);
  const c = cursor === 0n ? undefined : cursors.get(id);
  // Another key's cursor stays where it is: its own client may still come back for it.
  if (c === undefined || c.key !== key || c.value !== v) return liveItems(v);
  cursors.delete(id); // parked again under a new number if the walk goes on
  return c.items;
}

function park(key: string, value: Value, items: Iterator<Item>): string {
  if (cursors.size >= MAX_CURSORS) cursors.delete(cursors.keys().next().value!);
  const id = String(++lastCursor);
  cursors.set(id, { key, value, items });
  return id;
}

function writeScan(cursor: string, items: Item[], w: ReplyWriter): void {
  let n = 0;
  for (const [, x] of items) n += x === null ? 1 : 2;
  w.arr(2);
  w.str(cursor);
  w.arr(n);
  for (const [name, x] of items) {
    w.str(name);
    // A score is a bulk string in both RESP versions (Redis's scan callback formats it).
    if (typeof x === 'number') w.str(formatDouble17g(x));
    else if (x !== null) w.str(x);
  }
}

/** HSCAN/SSCAN/ZSCAN key cursor [MATCH pattern] [COUNT count]. */
function scanValue(args: string[], w: ReplyWriter, store: Keyspace, is: (v: Value) => v is Hash | RSet | ZSet): void {
  // As Redis: the cursor first, then the key (missing: an empty scan; WRONGTYPE), then the options.
  const cursor = parseCursor(args[2]);
  if (cursor === null) return err(w, 'ERR invalid cursor');
  const v = readTyped(store, args[1], is, w);
  if (v === WRONG) return;
  if (v === undefined) return writeScan('0', [], w);
  let pattern: string | null = null;
  let count = 10;
  for (let i = 3; i < args.length; i += 2) {
    const more = args.length - i >= 2;
    if (isOpt(args[i], 'count') && more) {
      const n = parseInt64(args[i + 1]);
      if (n === null) return err(w, NOT_INTEGER);
      if (n < 1) return err(w, SYNTAX);
      count = Number(n);
    } else if (isOpt(args[i], 'match') && more) {
      pattern = args[i + 1] === '*' ? null : args[i + 1];
    } else return err(w, SYNTAX);
  }
  const keep = (items: Item[]): Item[] => (pattern === null ? items : items.filter(([name]) => globMatch(pattern!, name)));
  const whole = compactItems(v) ?? (v.size <= count ? [...liveItems(v)] : null);
  if (whole !== null) return writeScan('0', keep(whole), w);
  const it = resume(cursor, args[1], v);
  const walked: Item[] = [];
  let next = '0';
  for (;;) {
    const r = it.next();
    if (r.done === true) break;
    walked.push(r.value);
    if (walked.length >= count) {
      next = park(args[1], v, it);
      break;
    }
  }
  writeScan(next, keep(walked), w);
}

const isHash = (v: Value): v is Hash => v instanceof Map;
const isSet = (v: Value): v is RSet => v instanceof Set;
const isZSet = (v: Value): v is ZSet => v instanceof ZSet;

export const respScanCommands: CommandSpec[] = [
  {
    name: 'hscan',
    arity: -3,
    flags: ['readonly'],
    ...KEY1,
    run(args, w, { store }) {
      scanValue(args, w, store, isHash);
    },
  },
  {
    name: 'sscan',
    arity: -3,
    flags: ['readonly'],
    ...KEY1,
    run(args, w, { store }) {
      scanValue(args, w, store, isSet);
    },
  },
  {
    name: 'zscan',
    arity: -3,
    flags: ['readonly'],
    ...KEY1,
    run(args, w, { store }) {
      scanValue(args, w, store, isZSet);
    },
  },
];
