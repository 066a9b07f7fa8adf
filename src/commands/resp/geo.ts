// RESP geo commands with Redis 7.0's semantics, on top of the sorted set: a
// member's score is its 52-bit geohash (src/store/geohash.ts). GEOADD is ZADD
// with computed scores (Redis builds a ZADD call too); the searches read the
// 9 cells around the centre as score ranges and filter by distance. Replies
// are formatted as Redis formats them: distances with 4 decimals (rounded half
// to even, from the value times 10^4), coordinates as the exact decimal
// expansion to 17 places with trailing zeros dropped (addReplyHumanLongDouble).

import type { ReplyWriter } from '../../protocol/reply.js';
import {
  GEO_LAT_MAX,
  GEO_LAT_MIN,
  GEO_LONG_MAX,
  GEO_LONG_MIN,
  cellScores,
  decodeScore,
  distance,
  geoScore,
  geohashString,
  searchCells,
  withinShape,
  type Shape,
} from '../../store/geohash.js';
import type { Keyspace, Value } from '../../store/keyspace.js';
import { ZSet } from '../../store/zset.js';
import { NOT_INTEGER, SYNTAX, parseInt64 } from '../args.js';
import { KEY1, WRONG, err, isOpt, readTyped } from '../common.js';
import { formatLongDoubleHuman } from '../longdouble.js';
import type { CommandContext, CommandSpec } from '../types.js';
import { notify, NOTIFY_GENERIC, NOTIFY_ZSET } from '../notify.js';
import { parseScore, respZsetCommands } from './zset.js';

const isZSet = (v: Value): v is ZSet => v instanceof ZSet;
const zaddSpec = respZsetCommands.find((c) => c.name === 'zadd')!;

// ---- number formatting ----

/** A finite double as sign, integer significand and binary exponent: |x| = mant × 2^exp. */
function decompose(x: number): { neg: boolean; mant: bigint; exp: number } {
  const neg = x < 0 || Object.is(x, -0);
  const dv = new DataView(new ArrayBuffer(8));
  dv.setFloat64(0, Math.abs(x));
  const hi = dv.getUint32(0);
  const lo = dv.getUint32(4);
  const e = (hi >>> 20) & 0x7ff;
  const m = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
  return e === 0 ? { neg, mant: m, exp: -1074 } : { neg, mant: m | (1n << 52n), exp: e - 1075 };
}

/** printf("%.<digits>f") of a double, exactly as glibc prints it (the exact value, rounded half to even). */
export function formatFixed(x: number, digits: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : '-inf';
  const { neg, mant, exp } = decompose(x);
  const scale = 10n ** BigInt(digits);
  let q: bigint;
  if (exp >= 0) q = (mant << BigInt(exp)) * scale;
  else {
    const den = 1n << BigInt(-exp);
    const num = mant * scale;
    q = num / den;
    const rem2 = (num % den) * 2n;
    if (rem2 > den || (rem2 === den && (q & 1n) === 1n)) q += 1n;
  }
  const s = q.toString().padStart(digits + 1, '0');
  const text = digits > 0 ? `${s.slice(0, s.length - digits)}.${s.slice(s.length - digits)}` : s;
  return neg ? `-${text}` : text;
}

/** addReplyDoubleDistance (fixedpoint_d2string with 4 digits): llrint(d × 10^4), then the digits. */
export function formatDistance(d: number): string {
  if (d === 0) return '0.0000';
  const x = d * 10000;
  let r = Math.round(x);
  if (r - x === 0.5 && r % 2 !== 0) r -= 1; // llrint rounds half to even
  const neg = r < 0;
  const s = String(Math.abs(r)).padStart(5, '0');
  return `${neg ? '-' : ''}${s.slice(0, -4)}.${s.slice(-4)}`;
}

/** addReplyHumanLongDouble of a double: "%.17Lf" without trailing zeros. */
export function formatCoord(x: number): string {
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : '-inf';
  return formatLongDoubleHuman(decompose(x));
}

/** (long long) of a score, as WITHHASH replies it. */
function scoreAsInteger(score: number): number | bigint {
  const t = Math.trunc(score);
  if (Number.isSafeInteger(t)) return t;
  if (!(t < 2 ** 63 && t >= -(2 ** 63))) return -(2n ** 63n);
  return BigInt(t);
}

// ---- argument parsing (Redis's helpers and their errors) ----

/** C's strcasecmp against a lower-case word: the argument ends at a NUL. */
function optIs(arg: string, lower: string): boolean {
  const nul = arg.indexOf('\0');
  return isOpt(nul < 0 ? arg : arg.slice(0, nul), lower);
}

/** extractLongLatOrReply: [lon, lat], or null after the error. */
function parseLonLat(lonArg: string, latArg: string, w: ReplyWriter): [number, number] | null {
  const lon = parseScore(lonArg);
  if (lon === null) return err(w, 'ERR value is not a valid float'), null;
  const lat = parseScore(latArg);
  if (lat === null) return err(w, 'ERR value is not a valid float'), null;
  if (lon < GEO_LONG_MIN || lon > GEO_LONG_MAX || lat < GEO_LAT_MIN || lat > GEO_LAT_MAX) {
    err(w, `ERR invalid longitude,latitude pair ${formatFixed(lon, 6)},${formatFixed(lat, 6)}`);
    return null;
  }
  return [lon, lat];
}

/** extractUnitOrReply: metres per unit, or null after the error. */
function parseUnit(arg: string, w: ReplyWriter): number | null {
  if (optIs(arg, 'm')) return 1;
  if (optIs(arg, 'km')) return 1000;
  if (optIs(arg, 'ft')) return 0.3048;
  if (optIs(arg, 'mi')) return 1609.34;
  err(w, 'ERR unsupported unit provided. please use M, KM, FT, MI');
  return null;
}

/** extractDistanceOrReply: [radius, metres per unit], or null after the error. */
function parseDistance(radiusArg: string, unitArg: string, w: ReplyWriter): [number, number] | null {
  const r = parseScore(radiusArg);
  if (r === null) return err(w, 'ERR need numeric radius'), null;
  if (r < 0) return err(w, 'ERR radius cannot be negative'), null;
  const conv = parseUnit(unitArg, w);
  return conv === null ? null : [r, conv];
}

/** extractBoxOrReply: [width, height, metres per unit], or null after the error. */
function parseBox(wArg: string, hArg: string, unitArg: string, w: ReplyWriter): [number, number, number] | null {
  const width = parseScore(wArg);
  if (width === null) return err(w, 'ERR need numeric width'), null;
  const height = parseScore(hArg);
  if (height === null) return err(w, 'ERR need numeric height'), null;
  if (height < 0 || width < 0) return err(w, 'ERR height or width cannot be negative'), null;
  const conv = parseUnit(unitArg, w);
  return conv === null ? null : [width, height, conv];
}

// ---- GEOADD, GEOPOS, GEOHASH, GEODIST ----

function geoadd(args: string[], w: ReplyWriter, ctx: Parameters<CommandSpec['run']>[2]): void {
  let nx = false;
  let xx = false;
  let at = 2;
  for (; at < args.length; at++) {
    const a = args[at];
    if (optIs(a, 'nx')) nx = true;
    else if (optIs(a, 'xx')) xx = true;
    else if (!optIs(a, 'ch')) break;
  }
  if ((args.length - at) % 3 !== 0 || (xx && nx)) return err(w, SYNTAX);
  // ZADD key [options] score member ..., the scores being the points' geohashes.
  const zargs = args.slice(0, at);
  zargs[0] = 'zadd';
  for (let i = at; i < args.length; i += 3) {
    const xy = parseLonLat(args[i], args[i + 1], w);
    if (xy === null) return;
    zargs.push(String(geoScore(xy[0], xy[1])), args[i + 2]);
  }
  zaddSpec.run(zargs, w, ctx);
}

function geopos(args: string[], w: ReplyWriter, store: Keyspace): void {
  const z = readTyped(store, args[1], isZSet, w);
  if (z === WRONG) return;
  w.arr(args.length - 2);
  for (let j = 2; j < args.length; j++) {
    const score = z?.score(args[j]);
    if (score === undefined) {
      w.nilArr();
      continue;
    }
    const [lon, lat] = decodeScore(score);
    w.arr(2);
    w.dblText(lon, formatCoord(lon));
    w.dblText(lat, formatCoord(lat));
  }
}

function geohash(args: string[], w: ReplyWriter, store: Keyspace): void {
  const z = readTyped(store, args[1], isZSet, w);
  if (z === WRONG) return;
  w.arr(args.length - 2);
  for (let j = 2; j < args.length; j++) {
    const score = z?.score(args[j]);
    if (score === undefined) w.nil();
    else w.str(geohashString(score));
  }
}

function geodist(args: string[], w: ReplyWriter, store: Keyspace): void {
  let toMeter = 1;
  if (args.length === 5) {
    const u = parseUnit(args[4], w);
    if (u === null) return;
    toMeter = u;
  } else if (args.length > 5) return err(w, SYNTAX);
  const z = readTyped(store, args[1], isZSet, w);
  if (z === WRONG) return;
  if (z === undefined) return w.nil();
  const s1 = z.score(args[2]);
  const s2 = z.score(args[3]);
  if (s1 === undefined || s2 === undefined) return w.nil();
  const [lon1, lat1] = decodeScore(s1);
  const [lon2, lat2] = decodeScore(s2);
  w.str(formatDistance(distance(lon1, lat1, lon2, lat2) / toMeter));
}

// ---- the searches ----

const RADIUS_COORDS = 1;
const RADIUS_MEMBER = 2;
const RADIUS_NOSTORE = 4;
const GEOSEARCH = 8;
const GEOSEARCHSTORE = 16;

interface GeoPoint {
  member: string;
  lon: number;
  lat: number;
  dist: number;
  score: number;
}

/**
 * The members inside the shape, cell by cell in Redis's order (each cell in
 * score order); with limit > 0 (COUNT … ANY) it stops once it has that many.
 */
function pointsInShape(z: ZSet, shape: Shape, limit: number): GeoPoint[] {
  const cells = searchCells(shape);
  const out: GeoPoint[] = [];
  let last = 0;
  for (let i = 0; i < cells.length; i++) {
    const c = cells[i];
    if (c === null) continue;
    // A huge radius can make neighbours coincide: a cell equal to the last one read is skipped.
    const prev = cells[last];
    if (last !== 0 && prev !== null && c.bits === prev.bits && c.step === prev.step) continue;
    if (out.length > 0 && limit > 0 && out.length >= limit) break;
    const [min, max] = cellScores(c);
    for (const e of z.iterate(z.firstRankByScore(min, false))) {
      if (!(e.score < max)) break;
      const [lon, lat] = decodeScore(e.score);
      const d = withinShape(shape, lon, lat);
      if (d >= 0) out.push({ member: e.name, lon, lat, dist: d, score: e.score });
      if (out.length > 0 && limit > 0 && out.length >= limit) break;
    }
    last = i;
  }
  return out;
}

const byDistance = (a: GeoPoint, b: GeoPoint): number => (a.dist > b.dist ? 1 : a.dist === b.dist ? 0 : -1);
const byDistanceDesc = (a: GeoPoint, b: GeoPoint): number => -byDistance(a, b);

/**
 * Sorts just enough that positions lo..hi (inclusive) hold what a full sort
 * would put there: Bentley and McIlroy's quicksort ("Engineering a Sort
 * Function", 1993: median of three, or of three medians of three past 40
 * elements; equal keys gathered at both ends, then swapped to the middle;
 * insertion sort below 7), recursing only into the parts that overlap lo..hi,
 * as Redis's pqsort does. Equal elements end up in the order this algorithm
 * leaves them, which is what COUNT's replies show when distances tie.
 */
function partialSort<T>(v: T[], cmp: (a: T, b: T) => number, lo: number, hi: number): void {
  const swap = (i: number, j: number): void => {
    const t = v[i];
    v[i] = v[j];
    v[j] = t;
  };
  const vecswap = (i: number, j: number, k: number): void => {
    for (; k > 0; k--) swap(i++, j++);
  };
  const med3 = (a: number, b: number, c: number): number =>
    cmp(v[a], v[b]) < 0 ? (cmp(v[b], v[c]) < 0 ? b : cmp(v[a], v[c]) < 0 ? c : a) : cmp(v[b], v[c]) > 0 ? b : cmp(v[a], v[c]) < 0 ? a : c;
  const overlaps = (start: number, len: number): boolean => !((lo < start && hi < start) || (lo >= start + len && hi >= start + len));
  const part = (a: number, n: number): void => {
    for (;;) {
      if (n < 7) {
        for (let m = a + 1; m < a + n; m++) for (let l = m; l > a && cmp(v[l - 1], v[l]) > 0; l--) swap(l, l - 1);
        return;
      }
      let pm = a + Math.floor(n / 2);
      if (n > 7) {
        let pl = a;
        let pn = a + n - 1;
        if (n > 40) {
          const d = Math.floor(n / 8);
          pl = med3(pl, pl + d, pl + 2 * d);
          pm = med3(pm - d, pm, pm + d);
          pn = med3(pn - 2 * d, pn - d, pn);
        }
        pm = med3(pl, pm, pn);
      }
      swap(a, pm);
      let pa = a + 1;
      let pb = pa;
      let pc = a + n - 1;
      let pd = pc;
      for (;;) {
        let r: number;
        while (pb <= pc && (r = cmp(v[pb], v[a])) <= 0) {
          if (r === 0) swap(pa++, pb);
          pb++;
        }
        while (pb <= pc && (r = cmp(v[pc], v[a])) >= 0) {
          if (r === 0) swap(pc, pd--);
          pc--;
        }
        if (pb > pc) break;
        swap(pb++, pc--);
      }
      const end = a + n;
      let r = Math.min(pa - a, pb - pa);
      vecswap(a, pb - r, r);
      r = Math.min(pd - pc, end - pd - 1);
      vecswap(pb, end - r, r);
      if ((r = pb - pa) > 1 && overlaps(a, r)) part(a, r);
      if ((r = pd - pc) > 1) {
        a = end - r;
        n = r;
        if (overlaps(a, n)) continue;
      }
      return;
    }
  };
  part(0, v.length);
}

/** georadiusGeneric: GEORADIUS[BYMEMBER][_RO], GEOSEARCH and GEOSEARCHSTORE. */
function georadius(args: string[], w: ReplyWriter, ctx: CommandContext, srcIndex: number, flags: number): void {
  const { store } = ctx;
  const z = readTyped(store, args[srcIndex], isZSet, w);
  if (z === WRONG) return;
  let storeKey: string | null = null;
  let storeDist = false;
  const shape: Shape = { lon: 0, lat: 0, conversion: 1 };
  let base: number;
  if (flags & RADIUS_COORDS) {
    base = 6;
    const xy = parseLonLat(args[2], args[3], w);
    if (xy === null) return;
    [shape.lon, shape.lat] = xy;
    const d = parseDistance(args[4], args[5], w);
    if (d === null) return;
    [shape.radius, shape.conversion] = d;
  } else if (flags & RADIUS_MEMBER && z === undefined) {
    base = 5; // no source: parse the options anyway, to know which empty reply to give
  } else if (flags & RADIUS_MEMBER) {
    base = 5;
    const score = z!.score(args[2]);
    if (score === undefined) return err(w, 'ERR could not decode requested zset member');
    [shape.lon, shape.lat] = decodeScore(score);
    const d = parseDistance(args[3], args[4], w);
    if (d === null) return;
    [shape.radius, shape.conversion] = d;
  } else {
    base = 2;
    if (flags & GEOSEARCHSTORE) {
      base = 3;
      storeKey = args[1];
    }
  }

  let withDist = false;
  let withHash = false;
  let withCoord = false;
  let fromMember = false;
  let fromLoc = false;
  let byRadius = false;
  let byBox = false;
  let sort = 0; // 0 none, 1 ascending, 2 descending
  let any = false;
  let count = 0;
  const remaining = args.length - base;
  for (let i = 0; i < remaining; i++) {
    const a = args[base + i];
    const search = (flags & GEOSEARCH) !== 0;
    const canStore = !(flags & RADIUS_NOSTORE) && !search;
    if (optIs(a, 'withdist')) withDist = true;
    else if (optIs(a, 'withhash')) withHash = true;
    else if (optIs(a, 'withcoord')) withCoord = true;
    else if (optIs(a, 'any')) any = true;
    else if (optIs(a, 'asc')) sort = 1;
    else if (optIs(a, 'desc')) sort = 2;
    else if (optIs(a, 'count') && i + 1 < remaining) {
      const n = parseInt64(args[base + i + 1]);
      if (n === null) return err(w, NOT_INTEGER);
      if (n <= 0) return err(w, 'ERR COUNT must be > 0');
      count = Number(n);
      i++;
    } else if (optIs(a, 'store') && i + 1 < remaining && canStore) {
      storeKey = args[base + i + 1];
      storeDist = false;
      i++;
    } else if (optIs(a, 'storedist') && i + 1 < remaining && canStore) {
      storeKey = args[base + i + 1];
      storeDist = true;
      i++;
    } else if (optIs(a, 'storedist') && search && flags & GEOSEARCHSTORE) {
      storeDist = true;
    } else if (optIs(a, 'frommember') && i + 1 < remaining && search && !fromLoc) {
      if (z !== undefined) {
        const score = z.score(args[base + i + 1]);
        if (score === undefined) return err(w, 'ERR could not decode requested zset member');
        [shape.lon, shape.lat] = decodeScore(score);
      }
      fromMember = true;
      i++;
    } else if (optIs(a, 'fromlonlat') && i + 2 < remaining && search && !fromMember) {
      const xy = parseLonLat(args[base + i + 1], args[base + i + 2], w);
      if (xy === null) return;
      [shape.lon, shape.lat] = xy;
      fromLoc = true;
      i += 2;
    } else if (optIs(a, 'byradius') && i + 2 < remaining && search && !byBox) {
      const d = parseDistance(args[base + i + 1], args[base + i + 2], w);
      if (d === null) return;
      [shape.radius, shape.conversion] = d;
      shape.width = shape.height = undefined;
      byRadius = true;
      i += 2;
    } else if (optIs(a, 'bybox') && i + 3 < remaining && search && !byRadius) {
      const b = parseBox(args[base + i + 1], args[base + i + 2], args[base + i + 3], w);
      if (b === null) return;
      [shape.width, shape.height, shape.conversion] = b;
      shape.radius = undefined;
      byBox = true;
      i += 3;
    } else return err(w, SYNTAX);
  }

  if (storeKey !== null && (withDist || withHash || withCoord)) {
    const who = flags & GEOSEARCHSTORE ? 'GEOSEARCHSTORE' : 'STORE option in GEORADIUS';
    return err(w, `ERR ${who} is not compatible with WITHDIST, WITHHASH and WITHCOORD options`);
  }
  if (flags & GEOSEARCH && !(fromMember || fromLoc)) {
    return err(w, `ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for ${cstr(args[0])}`);
  }
  if (flags & GEOSEARCH && !(byRadius || byBox)) {
    return err(w, `ERR exactly one of BYRADIUS and BYBOX can be specified for ${cstr(args[0])}`);
  }
  if (any && count === 0) return err(w, 'ERR the ANY argument requires COUNT argument');

  if (z === undefined) {
    if (storeKey !== null) {
      if (store.delete(storeKey)) notify(ctx, NOTIFY_GENERIC, 'del', storeKey);
      return w.int(0);
    }
    return w.arr(0);
  }
  if (count !== 0 && sort === 0 && !any) sort = 1;

  const found = pointsInShape(z, shape, any ? count : 0);
  if (found.length === 0 && storeKey === null) return w.arr(0);
  const n = count === 0 || found.length < count ? found.length : count;
  if (sort !== 0) {
    const cmp = sort === 1 ? byDistance : byDistanceDesc;
    // All of them: glibc's qsort, a merge sort, so stable (as Array.prototype.sort). The first n of
    // them: Redis's partial quicksort, whose order among equal distances is its own.
    if (n === found.length) found.sort(cmp);
    else partialSort(found, cmp, 0, n - 1);
  }

  if (storeKey === null) {
    const extra = (withDist ? 1 : 0) + (withCoord ? 1 : 0) + (withHash ? 1 : 0);
    w.arr(n);
    for (let i = 0; i < n; i++) {
      const p = found[i];
      if (extra > 0) w.arr(extra + 1);
      w.str(p.member);
      if (withDist) w.str(formatDistance(p.dist / shape.conversion));
      if (withHash) w.int(scoreAsInteger(p.score));
      if (withCoord) {
        w.arr(2);
        w.dblText(p.lon, formatCoord(p.lon));
        w.dblText(p.lat, formatCoord(p.lat));
      }
    }
    return;
  }
  if (n > 0) {
    const out = new ZSet();
    for (let i = 0; i < n; i++) {
      const p = found[i];
      out.add(p.member, storeDist ? p.dist / shape.conversion : p.score);
    }
    store.replace(storeKey, out); // as SET: the destination's TTL goes
    notify(ctx, NOTIFY_ZSET, flags & GEOSEARCH ? 'geosearchstore' : 'georadiusstore', storeKey);
  } else if (store.delete(storeKey)) notify(ctx, NOTIFY_GENERIC, 'del', storeKey);
  w.int(n);
}

function cstr(s: string): string {
  const nul = s.indexOf('\0');
  return nul < 0 ? s : s.slice(0, nul);
}

export const respGeoCommands: CommandSpec[] = [
  { name: 'geoadd', arity: -5, flags: ['write', 'denyoom'], ...KEY1, run: geoadd },
  { name: 'geodist', arity: -4, flags: ['readonly'], ...KEY1, run: (args, w, { store }) => geodist(args, w, store) },
  { name: 'geohash', arity: -2, flags: ['readonly'], ...KEY1, run: (args, w, { store }) => geohash(args, w, store) },
  { name: 'geopos', arity: -2, flags: ['readonly'], ...KEY1, run: (args, w, { store }) => geopos(args, w, store) },
  {
    name: 'georadius',
    arity: -6,
    flags: ['write', 'denyoom', 'movablekeys'],
    ...KEY1,
    run: (args, w, ctx) => georadius(args, w, ctx, 1, RADIUS_COORDS),
  },
  {
    name: 'georadius_ro',
    arity: -6,
    flags: ['readonly'],
    ...KEY1,
    run: (args, w, ctx) => georadius(args, w, ctx, 1, RADIUS_COORDS | RADIUS_NOSTORE),
  },
  {
    name: 'georadiusbymember',
    arity: -5,
    flags: ['write', 'denyoom', 'movablekeys'],
    ...KEY1,
    run: (args, w, ctx) => georadius(args, w, ctx, 1, RADIUS_MEMBER),
  },
  {
    name: 'georadiusbymember_ro',
    arity: -5,
    flags: ['readonly'],
    ...KEY1,
    run: (args, w, ctx) => georadius(args, w, ctx, 1, RADIUS_MEMBER | RADIUS_NOSTORE),
  },
  { name: 'geosearch', arity: -7, flags: ['readonly'], ...KEY1, run: (args, w, ctx) => georadius(args, w, ctx, 1, GEOSEARCH) },
  {
    name: 'geosearchstore',
    arity: -8,
    flags: ['write', 'denyoom'],
    firstKey: 1,
    lastKey: 2,
    keyStep: 1,
    run: (args, w, ctx) => georadius(args, w, ctx, 2, GEOSEARCH | GEOSEARCHSTORE),
  },
];
