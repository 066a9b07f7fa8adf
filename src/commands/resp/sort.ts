// SORT and SORT_RO (Redis 7.0's sort.c): sort a list, set or sorted set
// numerically or by bytes (ALPHA), by the elements themselves or by other keys
// (BY pattern, `*` replaced by the element, `->field` for a hash field; a
// pattern without `*` means "don't sort"), take a LIMIT window, reply with the
// elements or with other keys' values (GET pattern, `#` for the element), or
// STORE the result as a list (SORT only).

import type { ReplyWriter } from '../../protocol/reply.js';
import { List, RSet, ZSet, type Keyspace, type Value } from '../../store/keyspace.js';
import { SYNTAX, parseInt64, wrongType } from '../args.js';
import type { CommandContext, CommandSpec } from '../types.js';
import { err, isOpt } from '../common.js';
import { notify, NOTIFY_GENERIC, NOTIFY_LIST } from '../notify.js';

interface SortItem {
  readonly obj: string;
  /** The numeric weight (0 when a BY key is missing, as Redis's vector starts zeroed). */
  score: number;
  /** ALPHA with BY: the BY value, or null when its key is missing. */
  cmp: string | null;
}

const NOT_A_DOUBLE = 'ERR One or more scores can\'t be converted into double';

/** isspace() in the C locale. */
const isSpace = (c: number): boolean => c === 32 || (c >= 9 && c <= 13);

const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const HEX = /^([+-]?)0[xX]((?:[0-9a-fA-F]+\.?[0-9a-fA-F]*|\.[0-9a-fA-F]+))(?:[pP]([+-]?\d+))?$/;
const INF = /^[+-]?(?:inf|infinity)$/i;

/**
 * strtod over the whole string as SORT uses it: leading white space allowed, a
 * C string ends at its first NUL, nothing may follow the number (an empty
 * string is 0), NaN and out-of-range values (ERANGE) are errors. null: not a double.
 */
export function sortScore(s: string): number | null {
  const nul = s.indexOf('\0');
  if (nul >= 0) s = s.slice(0, nul);
  if (s === '') return 0;
  let i = 0;
  while (i < s.length && isSpace(s.charCodeAt(i))) i++;
  const t = s.slice(i);
  if (INF.test(t)) return t.startsWith('-') ? -Infinity : Infinity;
  let v: number;
  if (DECIMAL.test(t)) {
    v = Number(t);
    if (!Number.isFinite(v)) return null; // overflow: ERANGE
    // Underflow (a nonzero mantissa that comes out zero or subnormal): ERANGE as well.
    if (Math.abs(v) < 2.2250738585072014e-308 && /[1-9]/.test(t.replace(/[eE].*$/, ''))) return null;
    return v;
  }
  const h = HEX.exec(t);
  if (h === null) return null;
  const [int, frac = ''] = h[2].split('.');
  const digits = int + frac;
  let m = 0;
  for (const d of digits) m = m * 16 + parseInt(d, 16);
  v = m * 2 ** (Number(h[3] ?? '0') - 4 * frac.length);
  if (!Number.isFinite(v)) return null;
  return h[1] === '-' ? -v : v;
}

/** Binary comparison (memcmp, then length): compareStringObjects; strcoll in the C/C.UTF-8 locales. */
const compareBytes = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/**
 * lookupKeyByPattern: `#` is the element itself; otherwise the first `*` is
 * replaced by the element and the key's string value is returned, or with
 * `->field` after the `*` the field of the hash there. null when the key is
 * missing or of another type, the field is missing, or the pattern has no `*`.
 */
function lookupByPattern(store: Keyspace, pattern: string, subst: string): string | null {
  if (pattern === '#') return subst;
  // A C string: the pattern's text ends at its first NUL for strchr/strstr.
  const nul = pattern.indexOf('\0');
  const ctext = nul >= 0 ? pattern.slice(0, nul) : pattern;
  const star = ctext.indexOf('*');
  if (star < 0) return null;
  const arrow = ctext.indexOf('->', star + 1);
  let field: string | null = null;
  let key: string;
  if (arrow >= 0 && arrow + 2 < ctext.length) {
    field = pattern.slice(arrow + 2);
    key = pattern.slice(0, star) + subst + pattern.slice(star + 1, arrow);
  } else key = pattern.slice(0, star) + subst + pattern.slice(star + 1);
  const v = store.get(key);
  if (v === undefined) return null;
  if (field !== null) return v instanceof Map ? (v.get(field) ?? null) : null;
  return typeof v === 'string' ? v : null;
}

const isSortable = (v: Value): v is List | RSet | ZSet => v instanceof List || v instanceof Set || v instanceof ZSet;

/** A set's members in the order Redis iterates it: ascending integers for an intset, else insertion order. */
function setOrder(s: RSet): string[] {
  const all = [...s];
  if (s instanceof RSet && !s.wide) all.sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : BigInt(a) > BigInt(b) ? 1 : 0));
  return all;
}

function sortGeneric(args: string[], w: ReplyWriter, ctx: CommandContext, readonly: boolean): void {
  const { store } = ctx;
  let desc = false;
  let alpha = false;
  let limitStart = 0;
  let limitCount = -1;
  let storeKey: string | null = null;
  let sortby: string | null = null;
  let dontsort = false;
  const gets: string[] = [];
  for (let j = 2; j < args.length; j++) {
    const left = args.length - j - 1;
    const a = args[j];
    if (isOpt(a, 'asc')) desc = false;
    else if (isOpt(a, 'desc')) desc = true;
    else if (isOpt(a, 'alpha')) alpha = true;
    else if (isOpt(a, 'limit') && left >= 2) {
      const s = parseInt64(args[j + 1]);
      const c = s === null ? null : parseInt64(args[j + 2]);
      if (s === null || c === null) return err(w, 'ERR value is not an integer or out of range');
      limitStart = Number(s);
      limitCount = Number(c);
      j += 2;
    } else if (!readonly && isOpt(a, 'store') && left >= 1) {
      storeKey = args[++j];
    } else if (isOpt(a, 'by') && left >= 1) {
      sortby = args[++j];
      // No `*`: nothing to sort by (BY nosort); a later BY does not undo it, as in Redis.
      const nul = sortby.indexOf('\0');
      if (!(nul >= 0 ? sortby.slice(0, nul) : sortby).includes('*')) dontsort = true;
    } else if (isOpt(a, 'get') && left >= 1) {
      gets.push(args[++j]);
    } else return err(w, SYNTAX);
  }

  const found = store.get(args[1]);
  if (found !== undefined && !isSortable(found)) return wrongType(w);
  const v: List | RSet | ZSet = found ?? new List();

  // A set's order is arbitrary: when it is stored or a script sees it, sort it by bytes instead.
  if (dontsort && v instanceof Set && (storeKey !== null || ctx.client.script === true)) {
    dontsort = false;
    alpha = true;
    sortby = null;
  }
  // Redis converts a listpack sorted set to a skiplist for SORT (OBJECT ENCODING shows it).
  if (v instanceof ZSet && found !== undefined) v.wide = true;

  const len = v instanceof List ? v.length : v.size;
  let start = limitStart < 0 ? 0 : limitStart;
  let end = limitCount < 0 ? len - 1 : start + limitCount - 1;
  if (start >= len) {
    start = len - 1;
    end = len - 2;
  }
  if (end >= len) end = len - 1;

  let vector: SortItem[];
  const item = (obj: string): SortItem => ({ obj, score: 0, cmp: null });
  if (dontsort && (v instanceof List || v instanceof ZSet)) {
    // Already in order: load just the LIMIT window, in DESC's direction.
    vector = [];
    if (end >= start) {
      const n = end - start + 1;
      if (v instanceof List) {
        for (let k = 0; k < n; k++) vector.push(item(v.at(desc ? len - start - 1 - k : start + k)));
      } else {
        const from = desc ? len - 1 - end : start;
        const window = v.range(from, from + n - 1);
        if (desc) window.reverse();
        for (const e of window) vector.push(item(e.name));
      }
    }
    end -= start;
    start = 0;
  } else if (v instanceof List) {
    vector = v.toArray().map(item);
  } else if (v instanceof ZSet) {
    vector = [];
    for (const e of v.byInsertion()) vector.push(item(e.name));
  } else {
    vector = setOrder(v).map(item);
  }

  let notDouble = false;
  if (!dontsort) {
    for (const it of vector) {
      let by: string | null;
      if (sortby !== null) {
        by = lookupByPattern(store, sortby, it.obj);
        if (by === null) continue;
      } else by = it.obj;
      if (alpha) {
        if (sortby !== null) it.cmp = by;
      } else {
        const d = sortScore(by);
        if (d === null) notDouble = true;
        else it.score = d;
      }
    }
    const byPattern = sortby !== null;
    const cmp = (a: SortItem, b: SortItem): number => {
      let c: number;
      if (!alpha) {
        c = a.score > b.score ? 1 : a.score < b.score ? -1 : compareBytes(a.obj, b.obj);
      } else if (byPattern) {
        if (a.cmp === null || b.cmp === null) c = a.cmp === b.cmp ? 0 : a.cmp === null ? -1 : 1;
        else c = compareBytes(a.cmp, b.cmp);
      } else c = compareBytes(a.obj, b.obj);
      return desc ? -c : c;
    };
    vector.sort(cmp);
  }

  const outLen = gets.length > 0 ? gets.length * (end - start + 1) : end - start + 1;
  if (notDouble) return err(w, NOT_A_DOUBLE);
  if (storeKey === null) {
    w.arr(Math.max(0, outLen));
    for (let j = start; j <= end; j++) {
      const obj = vector[j].obj;
      if (gets.length === 0) w.str(obj);
      for (const g of gets) {
        const val = lookupByPattern(store, g, obj);
        if (val === null) w.nil();
        else w.str(val);
      }
    }
    return;
  }
  const out: string[] = [];
  for (let j = start; j <= end; j++) {
    const obj = vector[j].obj;
    if (gets.length === 0) out.push(obj);
    for (const g of gets) out.push(lookupByPattern(store, g, obj) ?? '');
  }
  if (out.length > 0) {
    const list = new List();
    for (const x of out) list.pushBack(x);
    store.replace(storeKey, list);
    notify(ctx, NOTIFY_LIST, 'sortstore', storeKey);
  } else if (store.delete(storeKey)) notify(ctx, NOTIFY_GENERIC, 'del', storeKey);
  w.int(Math.max(0, outLen));
}

export const respSortCommands: CommandSpec[] = [
  {
    name: 'sort',
    arity: -2,
    flags: ['write', 'denyoom', 'movablekeys'],
    firstKey: 1,
    lastKey: 1,
    keyStep: 1,
    run(args, w, ctx) {
      sortGeneric(args, w, ctx, false);
    },
  },
  {
    name: 'sort_ro',
    arity: -2,
    flags: ['readonly', 'movablekeys'],
    firstKey: 1,
    lastKey: 1,
    keyStep: 1,
    run(args, w, ctx) {
      sortGeneric(args, w, ctx, true);
    },
  },
];
