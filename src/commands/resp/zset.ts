// RESP sorted-set commands with Redis 7's semantics, all through the ZSet API
// (order-statistic tree): ranges — by rank, score or lex — are found by rank
// arithmetic in O(log n) and then walked, O(log n + k); nothing scans the set
// linearly. ZUNION/ZINTER/ZDIFF (and STORE), ZINTERCARD and ZRANDMEMBER too.
// The pops' core (zpopApply) is exported for the blocking forms (BZPOPMIN,
// BZPOPMAX, BZMPOP).

import type { ReplyWriter } from '../../protocol/reply.js';
import type { Keyspace, RSet, Value } from '../../store/keyspace.js';
import { ZSet, type ZEntry } from '../../store/zset.js';
import { NOT_FLOAT, NOT_INTEGER, SYNTAX, parseFloat64, parseInt64, wrongType } from '../args.js';
import { bookZsetCommands } from '../book/zset.js';
import type { CommandContext, CommandSpec } from '../types.js';
import { notify, NOTIFY_GENERIC, NOTIFY_ZSET } from '../notify.js';
import { KEY1, MAX_REPEATED_PICKS, NO_KEYS, WRONG, err, isOpt, readTyped } from '../common.js';
import { mpopParse } from '../mpop.js';

const isZSet = (v: Value): v is ZSet => v instanceof ZSet;

/** ZSCORE means the same on both protocols: the book's implementation serves RESP too. */
const bookZscore = bookZsetCommands.find((c) => c.name === 'zscore')!.run;

const NOT_A_RANGE_FLOAT = 'ERR min or max is not a float';
const NOT_A_LEX_RANGE = 'ERR min or max not valid string range item';

/**
 * A score as Redis's getDoubleFromObject reads it: strtod over the whole
 * string, no leading space, NaN refused, and overflow to ±HUGE_VAL or
 * underflow to 0 (ERANGE) refused too — but "inf" itself is fine.
 */
export function parseScore(s: string): number | null {
  const v = parseFloat64(s);
  if (v === null || Number.isNaN(v)) return null;
  if (!Number.isFinite(v) && !/inf/i.test(s)) return null; // 1e400
  if (v === 0 && /^[+-]?[0-9.]*[1-9]/.test(s)) return null; // 1e-400
  return v;
}

/** A C long argument (getLongFromObjectOrReply): int64, as a JS number. */
function parseLong(s: string): number | null {
  const v = parseInt64(s);
  return v === null ? null : Number(v);
}

/** strtod as zslParseRange uses it: leading blanks allowed, "" reads 0, no ERANGE check. */
function strtodWhole(s: string): number | null {
  if (s === '') return 0;
  const v = parseFloat64(s.replace(/^[ \t\n\v\f\r]+/, ''));
  return v === null || Number.isNaN(v) ? null : v;
}

interface ScoreRange {
  min: number;
  max: number;
  minex: boolean;
  maxex: boolean;
}

/** zslParseRange: "(x" is exclusive, "-inf"/"+inf" work; null if either end is not a float. */
function parseScoreRange(minArg: string, maxArg: string): ScoreRange | null {
  const minex = minArg.startsWith('(');
  const maxex = maxArg.startsWith('(');
  const min = strtodWhole(minex ? minArg.slice(1) : minArg);
  const max = strtodWhole(maxex ? maxArg.slice(1) : maxArg);
  if (min === null || max === null) return null;
  return { min, max, minex, maxex };
}

/** One end of a lex range: '-' / '+' (the extremes), '[x' inclusive, '(x' exclusive. */
interface LexBound {
  kind: 'min' | 'max' | 'value';
  value: string;
  ex: boolean;
}

function parseLexBound(s: string): LexBound | null {
  // zslParseLexRangeItem reads a C string here: '+' or '-' then NUL ends the item.
  const alone = s.length === 1 || s.charCodeAt(1) === 0;
  if (s[0] === '-' && alone) return { kind: 'min', value: '', ex: false };
  if (s[0] === '+' && alone) return { kind: 'max', value: '', ex: false };
  if (s.startsWith('(')) return { kind: 'value', value: s.slice(1), ex: true };
  if (s.startsWith('[')) return { kind: 'value', value: s.slice(1), ex: false };
  return null;
}

/** Ranks [lo, hi] of the entries within a score range (lo > hi when none). */
function scoreRanks(z: ZSet, r: ScoreRange): [number, number] {
  const lo = z.firstRankByScore(r.min, r.minex);
  // The last entry ≤ max (or < max) is one before the first > max (or ≥ max).
  const hi = z.firstRankByScore(r.max, !r.maxex) - 1;
  return [lo, hi];
}

/** Ranks [lo, hi] of the entries within a lex range (members assumed to share one score, as Redis requires). */
function lexRanks(z: ZSet, min: LexBound, max: LexBound): [number, number] {
  const lo = min.kind === 'min' ? 0 : min.kind === 'max' ? z.size : z.firstRankByLex(min.value, min.ex);
  const hi = max.kind === 'max' ? z.size - 1 : max.kind === 'min' ? -1 : z.firstRankByLex(max.value, !max.ex) - 1;
  return [lo, hi];
}

/** Redis's rank sanitising for ZRANGE/ZREMRANGEBYRANK: negative counts from the end; null when empty. */
function clampRanks(start: number, end: number, len: number): [number, number] | null {
  if (start < 0) start += len;
  if (end < 0) end += len;
  if (start < 0) start = 0;
  if (start > end || start >= len) return null;
  if (end >= len) end = len - 1;
  return [start, end];
}

/** Writes entries: members, or WITHSCORES [member, score] pairs (flat in RESP2, nested in RESP3). */
function writeEntries(entries: ZEntry[], withScores: boolean, w: ReplyWriter): void {
  if (!withScores) {
    w.arr(entries.length);
    for (const e of entries) w.str(e.name);
    return;
  }
  w.pairs(entries.length);
  for (const e of entries) {
    w.pair();
    w.str(e.name);
    w.dbl(e.score);
  }
}

/**
 * Entries of ranks lo..hi after skipping `offset` from the start (or, reversed,
 * from the end) and taking at most `limit` (negative: no limit), in reply order.
 */
function sliceRanks(z: ZSet, lo: number, hi: number, reverse: boolean, offset: number, limit: number): ZEntry[] {
  if (lo > hi || offset < 0) return [];
  let n = hi - lo + 1 - offset;
  if (n <= 0) return [];
  if (limit >= 0 && limit < n) n = limit;
  if (!reverse) return z.range(lo + offset, lo + offset + n - 1);
  const top = hi - offset;
  return z.range(top - n + 1, top).reverse();
}

const RANK = 0;
const BYSCORE = 1;
const BYLEX = 2;

/**
 * Redis's zrangeGenericCommand for ZRANGE, ZREVRANGE, Z[REV]RANGEBYSCORE,
 * Z[REV]RANGEBYLEX and ZRANGESTORE: `fixedType`/`fixedRev` are what the
 * command name already says (null: ZRANGE/ZRANGESTORE, where BYSCORE/BYLEX/REV
 * are options). The source key is args[start]; with `dst` (ZRANGESTORE) the
 * range is stored there and its length is the reply.
 */
function zrangeGeneric(
  args: string[],
  w: ReplyWriter,
  ctx: CommandContext,
  fixedType: number | null,
  fixedRev: boolean | null,
  start = 1,
  dst: string | null = null,
): void {
  const { store } = ctx;
  let withScores = false;
  let offset = 0;
  let limit = -1;
  let rev = fixedRev;
  let type = fixedType;
  for (let j = start + 3; j < args.length; j++) {
    const left = args.length - j - 1;
    const a = args[j];
    if (dst === null && isOpt(a, 'withscores')) withScores = true;
    else if (isOpt(a, 'limit') && left >= 2) {
      const o = parseLong(args[j + 1]);
      const l = parseLong(args[j + 2]);
      if (o === null || l === null) return err(w, NOT_INTEGER);
      offset = o;
      limit = l;
      j += 2;
    } else if (rev === null && isOpt(a, 'rev')) rev = true;
    else if (type === null && isOpt(a, 'bylex')) type = BYLEX;
    else if (type === null && isOpt(a, 'byscore')) type = BYSCORE;
    else return err(w, SYNTAX);
  }
  const reverse = rev === true;
  const kind = type ?? RANK;
  // As Redis: "LIMIT 0 -1" is no limit at all, so it is accepted by rank too.
  if (limit !== -1 && kind === RANK) return err(w, 'ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX');
  if (withScores && kind === BYLEX) return err(w, 'ERR syntax error, WITHSCORES not supported in combination with BYLEX');
  // Reversed score and lex ranges are given as max, min.
  const [minArg, maxArg] = reverse && kind !== RANK ? [args[start + 2], args[start + 1]] : [args[start + 1], args[start + 2]];
  let first = 0;
  let last = 0;
  let scores: ScoreRange | null = null;
  let lexMin: LexBound | null = null;
  let lexMax: LexBound | null = null;
  if (kind === RANK) {
    const s = parseLong(minArg);
    const e = parseLong(maxArg);
    if (s === null || e === null) return err(w, NOT_INTEGER);
    first = s;
    last = e;
  } else if (kind === BYSCORE) {
    scores = parseScoreRange(minArg, maxArg);
    if (scores === null) return err(w, NOT_A_RANGE_FLOAT);
  } else {
    lexMin = parseLexBound(minArg);
    lexMax = parseLexBound(maxArg);
    if (lexMin === null || lexMax === null) return err(w, NOT_A_LEX_RANGE);
  }
  const z = readTyped(store, args[start], isZSet, w);
  if (z === WRONG) return;
  let entries: ZEntry[] = [];
  if (z !== undefined) {
    if (kind === RANK) {
      const r = clampRanks(first, last, z.size);
      // Reversed ranks count from the highest score.
      if (r !== null) entries = reverse ? z.range(z.size - 1 - r[1], z.size - 1 - r[0]).reverse() : z.range(r[0], r[1]);
    } else {
      const [lo, hi] = kind === BYSCORE ? scoreRanks(z, scores!) : lexRanks(z, lexMin!, lexMax!);
      entries = sliceRanks(z, lo, hi, reverse, offset, limit);
    }
  }
  if (dst === null) return writeEntries(entries, withScores, w);
  storeEntries(ctx, dst, entries, 'zrangestore', w);
}

/** Replaces dst with a sorted set of the entries (its TTL goes) and replies its size; no entries delete dst. */
function storeEntries(ctx: CommandContext, dst: string, entries: Iterable<ZEntry>, event: string, w: ReplyWriter): void {
  const out = new ZSet();
  for (const e of entries) out.add(e.name, e.score);
  if (out.size === 0) {
    w.int(0);
    if (ctx.store.delete(dst)) notify(ctx, NOTIFY_GENERIC, 'del', dst);
  } else {
    ctx.store.replace(dst, out);
    w.int(out.size);
    notify(ctx, NOTIFY_ZSET, event, dst);
  }
}

/** Removes the entries of ranks lo..hi (inclusive); deletes the key if the set empties. Returns how many. */
function removeRanks(ctx: CommandContext, key: string, z: ZSet, lo: number, hi: number, event: string): number {
  if (lo > hi) return 0;
  const doomed = z.range(lo, hi);
  for (const e of doomed) z.remove(e.name);
  if (doomed.length > 0) notify(ctx, NOTIFY_ZSET, event, key);
  if (z.size === 0) {
    ctx.store.delete(key);
    notify(ctx, NOTIFY_GENERIC, 'del', key);
  }
  return doomed.length;
}

/** A sorted set's end for the pops: MIN (lowest scores first) or MAX. */
export type ZSetEnd = 'min' | 'max';

/** The end tokens of ZMPOP and BZMPOP, for mpopParse. */
export const ZSET_ENDS = ['min', 'max'] as const;

/**
 * How a pop's reply is shaped, by command:
 * - 'flat': [member, score] (ZPOPMIN, ZPOPMAX without a count);
 * - 'pairs': [member, score, ...] in RESP2, [[member, score], ...] in RESP3
 *   (ZPOPMIN, ZPOPMAX with a count);
 * - 'keyed': [key, member, score, ...] (BZPOPMIN, BZPOPMAX);
 * - 'nested': [key, [[member, score], ...]] (ZMPOP, BZMPOP).
 */
export type ZPopShape = 'flat' | 'pairs' | 'keyed' | 'nested';

/**
 * The pop of ZPOPMIN/ZPOPMAX, ZMPOP, and of BZPOPMIN/BZPOPMAX/BZMPOP on a key
 * that holds a sorted set (Redis's genericZpopCommand): the first of `keys`
 * that exists gives up to `count` members from its `end` (count 0: an empty
 * array once the key is found, as ZPOPMIN z 0). A missing key is skipped; if
 * the first key that exists is not a sorted set, WRONGTYPE is written and WRONG
 * returned. Returns the key popped from (deleted if it emptied), or null with
 * nothing written when no key exists: ZPOPMIN then replies an empty array,
 * ZMPOP a null array, a blocking form waits (and, once a key is ready, calls
 * this again with that key).
 */
export function zpopApply(
  ctx: CommandContext,
  keys: readonly string[],
  end: ZSetEnd,
  count: number,
  shape: ZPopShape,
  w: ReplyWriter,
): string | null | typeof WRONG {
  const { store } = ctx;
  for (const key of keys) {
    const z = readTyped(store, key, isZSet, w);
    if (z === WRONG) return WRONG;
    if (z === undefined) continue;
    if (count === 0) {
      w.arr(0);
      return key;
    }
    const n = Math.min(count, z.size);
    // Redis publishes this one after the reply's header; before the reply here (a push inside a reply would split it).
    notify(ctx, NOTIFY_ZSET, end === 'max' ? 'zpopmax' : 'zpopmin', key);
    if (shape === 'flat') w.arr(n * 2);
    else if (shape === 'pairs') w.pairs(n);
    else if (shape === 'keyed') {
      w.arr(n * 2 + 1);
      w.str(key);
    } else {
      w.arr(2);
      w.str(key);
      w.arr(n);
    }
    for (let i = 0; i < n; i++) {
      const e = z.at(end === 'max' ? z.size - 1 : 0)!;
      z.remove(e.name);
      if (shape === 'nested') w.arr(2);
      else if (shape === 'pairs') w.pair();
      w.str(e.name);
      w.dbl(e.score);
    }
    if (z.size === 0) {
      store.delete(key);
      notify(ctx, NOTIFY_GENERIC, 'del', key);
    }
    return key;
  }
  return null;
}

/** ZPOPMIN/ZPOPMAX key [count]: member/score, or with a count its pairs (nested in RESP3, as Redis 7.0). */
function zpop(args: string[], w: ReplyWriter, ctx: CommandContext, end: ZSetEnd): void {
  if (args.length > 3) return err(w, SYNTAX);
  let count = 1;
  if (args.length === 3) {
    const c = parseLong(args[2]);
    if (c === null || c < 0) return err(w, 'ERR value is out of range, must be positive');
    count = c;
  }
  if (zpopApply(ctx, [args[1]], end, count, args.length === 3 ? 'pairs' : 'flat', w) === null) w.arr(0);
}

// ---- ZUNION, ZINTER, ZDIFF, their STORE forms, ZINTERCARD ----

/** One input of ZUNION/ZINTER/ZDIFF: a sorted set, a plain set (every score 1) or a missing key (empty). */
interface OpSource {
  readonly size: number;
  weight: number;
  entries(): Iterable<ZEntry>;
  /** The member's score, undefined if absent. */
  find(name: string): number | undefined;
}

const EMPTY_SOURCE: OpSource = { size: 0, weight: 1, entries: () => [], find: () => undefined };

function zsetSource(z: ZSet): OpSource {
  return { size: z.size, weight: 1, entries: () => z, find: (name) => z.score(name) };
}

function setSource(set: RSet): OpSource {
  return {
    size: set.size,
    weight: 1,
    *entries() {
      for (const name of set) yield { name, score: 1 };
    },
    find: (name) => (set.has(name) ? 1 : undefined),
  };
}

const UNION = 0;
const INTER = 1;
const DIFF = 2;
const AGGR_SUM = 0;
const AGGR_MIN = 1;
const AGGR_MAX = 2;

/** zunionInterAggregate: a sum of +inf and -inf is 0, as in Redis. */
function aggregate(target: number, val: number, how: number): number {
  if (how === AGGR_SUM) {
    const r = target + val;
    return Number.isNaN(r) ? 0 : r;
  }
  if (how === AGGR_MIN) return val < target ? val : target;
  return val > target ? val : target;
}

/**
 * Redis's zunionInterDiffGenericCommand. numkeys is args[numkeysAt]; the keys
 * follow. Keys are looked up (WRONGTYPE) before the options are read, as in
 * Redis. With dst the result is stored; with cardOnly (ZINTERCARD) only counted.
 */
function zsetOp(args: string[], w: ReplyWriter, ctx: CommandContext, numkeysAt: number, op: number, dst: string | null, cardOnly = false): void {
  const { store } = ctx;
  const setnum = parseLong(args[numkeysAt]);
  if (setnum === null) return err(w, NOT_INTEGER);
  if (setnum < 1) return err(w, `ERR at least 1 input key is needed for '${args[0].toLowerCase()}' command`);
  if (setnum > args.length - (numkeysAt + 1)) return err(w, SYNTAX);
  const src: OpSource[] = [];
  let j = numkeysAt + 1;
  for (let i = 0; i < setnum; i++, j++) {
    const v = store.get(args[j]);
    if (v === undefined) src.push({ ...EMPTY_SOURCE });
    else if (v instanceof ZSet) src.push(zsetSource(v));
    else if (v instanceof Set) src.push(setSource(v));
    else return wrongType(w);
  }
  let how = AGGR_SUM;
  let withScores = false;
  let limit = 0;
  while (j < args.length) {
    const remaining = args.length - j;
    const a = args[j];
    if (op !== DIFF && !cardOnly && remaining >= setnum + 1 && isOpt(a, 'weights')) {
      j++;
      for (let i = 0; i < setnum; i++, j++) {
        const wt = parseScore(args[j]);
        if (wt === null) return err(w, 'ERR weight value is not a float');
        src[i].weight = wt;
      }
    } else if (op !== DIFF && !cardOnly && remaining >= 2 && isOpt(a, 'aggregate')) {
      const g = args[j + 1];
      if (isOpt(g, 'sum')) how = AGGR_SUM;
      else if (isOpt(g, 'min')) how = AGGR_MIN;
      else if (isOpt(g, 'max')) how = AGGR_MAX;
      else return err(w, SYNTAX);
      j += 2;
    } else if (dst === null && !cardOnly && isOpt(a, 'withscores')) {
      withScores = true;
      j++;
    } else if (cardOnly && remaining >= 2 && isOpt(a, 'limit')) {
      const l = parseLong(args[j + 1]);
      if (l === null || l < 0) return err(w, "ERR LIMIT can't be negative");
      limit = l;
      j += 2;
    } else return err(w, SYNTAX);
  }
  // Smallest input first (a stable sort, as glibc's qsort is here): ZINTER walks only that one.
  if (op !== DIFF) src.sort((a, b) => a.size - b.size);
  // Entries, not a ZSet, until the end: a reply keeps a score of -0 (weight -1 on 0), a stored set does not.
  const result: ZEntry[] = [];
  let cardinality = 0;
  if (op === INTER) {
    const first = src[0];
    if (first.size > 0) {
      for (const e of first.entries()) {
        let score = first.weight * e.score;
        if (Number.isNaN(score)) score = 0;
        let k = 1;
        for (; k < src.length; k++) {
          const other = src[k].find(e.name);
          if (other === undefined) break;
          score = aggregate(score, other * src[k].weight, how);
        }
        if (k < src.length) continue;
        if (cardOnly) {
          cardinality++;
          if (limit > 0 && cardinality >= limit) break;
        } else result.push({ name: e.name, score });
      }
    }
  } else if (op === UNION) {
    const acc = new Map<string, number>();
    for (const s of src) {
      if (s.size === 0) continue;
      for (const e of s.entries()) {
        let score = s.weight * e.score;
        if (Number.isNaN(score)) score = 0;
        const cur = acc.get(e.name);
        acc.set(e.name, cur === undefined ? score : aggregate(cur, score, how));
      }
    }
    for (const [name, score] of acc) result.push({ name, score });
  } else {
    // ZDIFF: the members of the first input found in no other, with the first's scores.
    outer: for (const e of src[0].entries()) {
      for (let k = 1; k < src.length; k++) if (src[k].find(e.name) !== undefined) continue outer;
      result.push(e);
    }
  }
  if (cardOnly) return w.int(cardinality);
  if (dst !== null) return storeEntries(ctx, dst, result, op === UNION ? 'zunionstore' : op === INTER ? 'zinterstore' : 'zdiffstore', w);
  // The sorted set's order: by score (-0 equals 0), then by name bytewise.
  result.sort((a, b) => (a.score < b.score ? -1 : a.score > b.score ? 1 : a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  writeEntries(result, withScores, w);
}

// ---- ZRANDMEMBER ----

/** `count` distinct ranks of 0..size-1 in random order (count ≤ size): a sparse Fisher–Yates, O(count). */
function distinctRanks(size: number, count: number): number[] {
  const swapped = new Map<number, number>();
  const out: number[] = [];
  for (let i = 0; i < count; i++) {
    const j = i + Math.floor(Math.random() * (size - i));
    const atJ = swapped.get(j) ?? j;
    swapped.set(j, swapped.get(i) ?? i);
    out.push(atJ);
  }
  return out;
}

/** ZRANDMEMBER key [count [WITHSCORES]] (zrandmemberCommand). */
function zrandmember(args: string[], w: ReplyWriter, store: Keyspace): void {
  if (args.length === 2) {
    const z = readTyped(store, args[1], isZSet, w);
    if (z === WRONG) return;
    if (z === undefined) return w.nil();
    return w.str(z.at(Math.floor(Math.random() * z.size))!.name);
  }
  const c = parseInt64(args[2]);
  if (c === null) return err(w, NOT_INTEGER);
  if (c === -(2n ** 63n)) return err(w, 'ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807');
  if (args.length > 4 || (args.length === 4 && !isOpt(args[3], 'withscores'))) return err(w, SYNTAX);
  const withScores = args.length === 4;
  // LONG_MAX / 2 in C's integer division.
  if (withScores && (c < -4611686018427387903n || c > 4611686018427387903n)) return err(w, 'ERR value is out of range');
  const z = readTyped(store, args[1], isZSet, w);
  if (z === WRONG) return;
  if (z === undefined || c === 0) return w.arr(0);
  const count = Number(c);
  const picks: ZEntry[] = [];
  if (count < 0 || count === 1) {
    // Repetitions allowed: |count| independent picks, in random order.
    const n = count < 0 ? -count : 1;
    if (n > MAX_REPEATED_PICKS) return err(w, `ERR value is out of range, must be at least -${MAX_REPEATED_PICKS}`);
    for (let i = 0; i < n; i++) picks.push(z.at(Math.floor(Math.random() * z.size))!);
  } else if (count >= z.size) {
    // The whole set, from the highest score down (Redis's zuiNext walks sorted sets backwards).
    return writeEntries([...z.iterateReverse()], withScores, w);
  } else {
    for (const r of distinctRanks(z.size, count)) picks.push(z.at(r)!);
  }
  writeEntries(picks, withScores, w);
}

// ZADD's flags.
const Z_NX = 1;
const Z_XX = 2;
const Z_GT = 4;
const Z_LT = 8;
const Z_INCR = 16;
const Z_CH = 32;

/** ZADD (and ZINCRBY, which is ZADD INCR with its arguments at fixed places). */
function zadd(args: string[], w: ReplyWriter, ctx: CommandContext, zincrby: boolean): void {
  const { store } = ctx;
  let flags = zincrby ? Z_INCR : 0;
  let i = 2;
  if (!zincrby) {
    for (; i < args.length; i++) {
      const a = args[i];
      if (isOpt(a, 'nx')) flags |= Z_NX;
      else if (isOpt(a, 'xx')) flags |= Z_XX;
      else if (isOpt(a, 'ch')) flags |= Z_CH;
      else if (isOpt(a, 'incr')) flags |= Z_INCR;
      else if (isOpt(a, 'gt')) flags |= Z_GT;
      else if (isOpt(a, 'lt')) flags |= Z_LT;
      else break;
    }
  }
  const elements = args.length - i;
  if (elements % 2 !== 0 || elements === 0) return err(w, SYNTAX);
  const pairs = elements / 2;
  if (flags & Z_NX && flags & Z_XX) return err(w, 'ERR XX and NX options at the same time are not compatible');
  if ((flags & Z_GT && flags & Z_NX) || (flags & Z_LT && flags & Z_NX) || (flags & Z_GT && flags & Z_LT)) {
    return err(w, 'ERR GT, LT, and/or NX options at the same time are not compatible');
  }
  if (flags & Z_INCR && pairs > 1) return err(w, 'ERR INCR option supports a single increment-element pair');
  // Every score is parsed before anything changes: the command runs fully or not at all.
  const scores: number[] = [];
  for (let j = 0; j < pairs; j++) {
    const s = parseScore(args[i + 2 * j]);
    if (s === null) return err(w, NOT_FLOAT);
    scores.push(s);
  }
  let z = readTyped(store, args[1], isZSet, w);
  if (z === WRONG) return;
  const incr = (flags & Z_INCR) !== 0;
  if (z === undefined) {
    if (flags & Z_XX) return incr ? w.nil() : w.int(0);
    z = new ZSet();
    store.put(args[1], z);
  }
  let added = 0;
  let updated = 0;
  let processed = 0;
  let last = 0;
  for (let j = 0; j < pairs; j++) {
    const name = args[i + 2 * j + 1];
    let score = scores[j];
    const cur = z.score(name);
    if (cur !== undefined) {
      if (flags & Z_NX) continue;
      if (incr) {
        score += cur;
        if (Number.isNaN(score)) {
          if (z.size === 0) store.delete(args[1]);
          return err(w, 'ERR resulting score is not a number (NaN)');
        }
      }
      if ((flags & Z_LT && score >= cur) || (flags & Z_GT && score <= cur)) continue;
      if (score !== cur) {
        z.add(name, score);
        updated++;
      }
    } else {
      if (flags & Z_XX) continue;
      z.add(name, score);
      added++;
    }
    processed++;
    last = score;
  }
  if (incr) {
    if (processed > 0) w.dbl(last);
    else w.nil();
  } else w.int(flags & Z_CH ? added + updated : added);
  if (added > 0 || updated > 0) notify(ctx, NOTIFY_ZSET, incr ? 'zincr' : 'zadd', args[1]);
}

const write = ['write', 'denyoom', 'fast'];

export const respZsetCommands: CommandSpec[] = [
  {
    name: 'zadd',
    arity: -4,
    flags: write,
    ...KEY1,
    run(args, w, ctx) {
      zadd(args, w, ctx, false);
    },
  },
  {
    name: 'zincrby',
    arity: 4,
    flags: write,
    ...KEY1,
    run(args, w, ctx) {
      zadd(args, w, ctx, true);
    },
  },
  {
    name: 'zrem',
    arity: -3,
    flags: ['write', 'fast'],
    ...KEY1,
    run(args, w, ctx) {
      const z = readTyped(ctx.store, args[1], isZSet, w);
      if (z === WRONG) return;
      if (z === undefined) return w.int(0);
      let n = 0;
      for (let i = 2; i < args.length; i++) if (z.remove(args[i])) n++;
      if (n > 0) {
        notify(ctx, NOTIFY_ZSET, 'zrem', args[1]);
        if (z.size === 0) {
          ctx.store.delete(args[1]);
          notify(ctx, NOTIFY_GENERIC, 'del', args[1]);
        }
      }
      w.int(n);
    },
  },
  { name: 'zscore', arity: 3, flags: ['readonly', 'fast'], ...KEY1, run: bookZscore },
  {
    name: 'zmscore',
    arity: -3,
    flags: ['readonly', 'fast'],
    ...KEY1,
    run(args, w, { store }) {
      const z = readTyped(store, args[1], isZSet, w);
      if (z === WRONG) return;
      w.arr(args.length - 2);
      for (let i = 2; i < args.length; i++) {
        const s = z?.score(args[i]);
        if (s === undefined) w.nil();
        else w.dbl(s);
      }
    },
  },
  {
    name: 'zcard',
    arity: 2,
    flags: ['readonly', 'fast'],
    ...KEY1,
    run(args, w, { store }) {
      const z = readTyped(store, args[1], isZSet, w);
      if (z !== WRONG) w.int(z?.size ?? 0);
    },
  },
  {
    name: 'zcount',
    arity: 4,
    flags: ['readonly', 'fast'],
    ...KEY1,
    run(args, w, { store }) {
      const r = parseScoreRange(args[2], args[3]);
      if (r === null) return err(w, NOT_A_RANGE_FLOAT);
      const z = readTyped(store, args[1], isZSet, w);
      if (z === WRONG) return;
      if (z === undefined) return w.int(0);
      const [lo, hi] = scoreRanks(z, r);
      w.int(Math.max(0, hi - lo + 1));
    },
  },
  {
    name: 'zrank',
    arity: 3,
    flags: ['readonly', 'fast'],
    ...KEY1,
    run(args, w, { store }) {
      const z = readTyped(store, args[1], isZSet, w);
      if (z === WRONG) return;
      const r = z?.rank(args[2]);
      if (r === undefined) w.nil();
      else w.int(r);
    },
  },
  {
    name: 'zrevrank',
    arity: 3,
    flags: ['readonly', 'fast'],
    ...KEY1,
    run(args, w, { store }) {
      const z = readTyped(store, args[1], isZSet, w);
      if (z === WRONG) return;
      const r = z?.rank(args[2]);
      if (r === undefined) w.nil();
      else w.int(z!.size - 1 - r);
    },
  },
  {
    name: 'zrange',
    arity: -4,
    flags: ['readonly'],
    ...KEY1,
    run(args, w, ctx) {
      zrangeGeneric(args, w, ctx, null, null);
    },
  },
  {
    name: 'zrevrange',
    arity: -4,
    flags: ['readonly'],
    ...KEY1,
    run(args, w, ctx) {
      zrangeGeneric(args, w, ctx, RANK, true);
    },
  },
  {
    name: 'zrangebyscore',
    arity: -4,
    flags: ['readonly'],
    ...KEY1,
    run(args, w, ctx) {
      zrangeGeneric(args, w, ctx, BYSCORE, false);
    },
  },
  {
    name: 'zrevrangebyscore',
    arity: -4,
    flags: ['readonly'],
    ...KEY1,
    run(args, w, ctx) {
      zrangeGeneric(args, w, ctx, BYSCORE, true);
    },
  },
  {
    name: 'zpopmin',
    arity: -2,
    flags: ['write', 'fast'],
    ...KEY1,
    run(args, w, ctx) {
      zpop(args, w, ctx, 'min');
    },
  },
  {
    name: 'zpopmax',
    arity: -2,
    flags: ['write', 'fast'],
    ...KEY1,
    run(args, w, ctx) {
      zpop(args, w, ctx, 'max');
    },
  },
  {
    name: 'zmpop',
    arity: -4,
    // Its keys follow numkeys: COMMAND reports 0 0 0 and movablekeys, as Redis does.
    flags: ['write', 'movablekeys'],
    firstKey: 0,
    lastKey: 0,
    keyStep: 0,
    run(args, w, ctx) {
      const req = mpopParse(args, 1, ZSET_ENDS, w);
      if (req === null) return;
      if (zpopApply(ctx, req.keys, req.end, req.count, 'nested', w) === null) w.nilArr();
    },
  },
  {
    name: 'zremrangebyrank',
    arity: 4,
    flags: ['write'],
    ...KEY1,
    run(args, w, ctx) {
      const s = parseLong(args[2]);
      const e = parseLong(args[3]);
      if (s === null || e === null) return err(w, NOT_INTEGER);
      const z = readTyped(ctx.store, args[1], isZSet, w);
      if (z === WRONG) return;
      if (z === undefined) return w.int(0);
      const r = clampRanks(s, e, z.size);
      w.int(r === null ? 0 : removeRanks(ctx, args[1], z, r[0], r[1], 'zremrangebyrank'));
    },
  },
  {
    name: 'zremrangebyscore',
    arity: 4,
    flags: ['write'],
    ...KEY1,
    run(args, w, ctx) {
      const r = parseScoreRange(args[2], args[3]);
      if (r === null) return err(w, NOT_A_RANGE_FLOAT);
      const z = readTyped(ctx.store, args[1], isZSet, w);
      if (z === WRONG) return;
      if (z === undefined) return w.int(0);
      const [lo, hi] = scoreRanks(z, r);
      w.int(removeRanks(ctx, args[1], z, lo, hi, 'zremrangebyscore'));
    },
  },
  {
    name: 'zrangebylex',
    arity: -4,
    flags: ['readonly'],
    ...KEY1,
    run(args, w, ctx) {
      zrangeGeneric(args, w, ctx, BYLEX, false);
    },
  },
  {
    name: 'zrevrangebylex',
    arity: -4,
    flags: ['readonly'],
    ...KEY1,
    run(args, w, ctx) {
      zrangeGeneric(args, w, ctx, BYLEX, true);
    },
  },
  {
    name: 'zrangestore',
    arity: -5,
    flags: ['write', 'denyoom'],
    firstKey: 1,
    lastKey: 2,
    keyStep: 1,
    run(args, w, ctx) {
      zrangeGeneric(args, w, ctx, null, null, 2, args[1]);
    },
  },
  {
    name: 'zlexcount',
    arity: 4,
    flags: ['readonly', 'fast'],
    ...KEY1,
    run(args, w, { store }) {
      const min = parseLexBound(args[2]);
      const max = parseLexBound(args[3]);
      if (min === null || max === null) return err(w, NOT_A_LEX_RANGE);
      const z = readTyped(store, args[1], isZSet, w);
      if (z === WRONG) return;
      if (z === undefined) return w.int(0);
      const [lo, hi] = lexRanks(z, min, max);
      w.int(Math.max(0, hi - lo + 1));
    },
  },
  {
    name: 'zremrangebylex',
    arity: 4,
    flags: ['write'],
    ...KEY1,
    run(args, w, ctx) {
      const min = parseLexBound(args[2]);
      const max = parseLexBound(args[3]);
      if (min === null || max === null) return err(w, NOT_A_LEX_RANGE);
      const z = readTyped(ctx.store, args[1], isZSet, w);
      if (z === WRONG) return;
      if (z === undefined) return w.int(0);
      const [lo, hi] = lexRanks(z, min, max);
      w.int(removeRanks(ctx, args[1], z, lo, hi, 'zremrangebylex'));
    },
  },
  ...(
    [
      ['zunion', UNION],
      ['zinter', INTER],
      ['zdiff', DIFF],
    ] as const
  ).map(
    ([name, op]): CommandSpec => ({
      name,
      arity: -3,
      flags: ['readonly', 'movablekeys'],
      ...NO_KEYS,
      run(args, w, ctx) {
        zsetOp(args, w, ctx, 1, op, null);
      },
    }),
  ),
  ...(
    [
      ['zunionstore', UNION],
      ['zinterstore', INTER],
      ['zdiffstore', DIFF],
    ] as const
  ).map(
    ([name, op]): CommandSpec => ({
      name,
      arity: -4,
      flags: ['write', 'denyoom', 'movablekeys'],
      ...KEY1,
      run(args, w, ctx) {
        zsetOp(args, w, ctx, 2, op, args[1]);
      },
    }),
  ),
  {
    name: 'zintercard',
    arity: -3,
    flags: ['readonly', 'movablekeys'],
    ...NO_KEYS,
    run(args, w, ctx) {
      zsetOp(args, w, ctx, 1, INTER, null, true);
    },
  },
  {
    name: 'zrandmember',
    arity: -2,
    flags: ['readonly'],
    ...KEY1,
    run(args, w, { store }) {
      zrandmember(args, w, store);
    },
  },
];
