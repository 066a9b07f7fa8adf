// Geohash arithmetic as Redis 7.0 does it for its geo commands: a point is a
// sorted-set member whose score is a 52-bit interleaved geohash (26 bits of
// latitude on the even bit positions, 26 of longitude on the odd ones) over
// longitude [-180, 180] and latitude [-85.05112878, 85.05112878] (the Web
// Mercator limits). A search around a point (radius or box) estimates a cell
// size from the radius, takes the cell holding the centre and its 8
// neighbours, drops the neighbours the bounding box cannot reach, and reads
// each cell as one score range; candidates are then filtered by the
// haversine distance on a sphere of radius 6372797.560856 m.
//
// Every step is done in the same double arithmetic, in the same order, as
// Redis's geohash.c / geohash_helper.c, so scores, cells, distances (and
// hence which members match) come out as Redis's. Written from the
// algorithm's description; no code of Redis's.

export const GEO_STEP_MAX = 26;
export const GEO_LAT_MIN = -85.05112878;
export const GEO_LAT_MAX = 85.05112878;
export const GEO_LONG_MIN = -180;
export const GEO_LONG_MAX = 180;
/** Earth's quadratic mean radius for WGS-84, as Redis uses it. */
export const EARTH_RADIUS_IN_METERS = 6372797.560856;
const MERCATOR_MAX = 20037726.37;
const D_R = Math.PI / 180.0;

const deg2rad = (ang: number): number => ang * D_R;
const rad2deg = (ang: number): number => ang / D_R;

export interface Range {
  min: number;
  max: number;
}
export const LONG_RANGE: Range = { min: GEO_LONG_MIN, max: GEO_LONG_MAX };
export const LAT_RANGE: Range = { min: GEO_LAT_MIN, max: GEO_LAT_MAX };

/** A cell: `step` bits of each coordinate, interleaved into bits (< 2^(2·step)). */
export interface Cell {
  bits: number;
  step: number;
}

export interface Area {
  lonMin: number;
  lonMax: number;
  latMin: number;
  latMax: number;
}

const TWO_32 = 4294967296;

/** Spreads the low 16 bits of x to the even bit positions of a 32-bit word. */
function spread16(x: number): number {
  x &= 0xffff;
  x = (x | (x << 8)) & 0x00ff00ff;
  x = (x | (x << 4)) & 0x0f0f0f0f;
  x = (x | (x << 2)) & 0x33333333;
  return (x | (x << 1)) & 0x55555555;
}

/** Gathers the even bit positions of a 32-bit word into 16 bits. */
function squash32(x: number): number {
  x &= 0x55555555;
  x = (x | (x >>> 1)) & 0x33333333;
  x = (x | (x >>> 2)) & 0x0f0f0f0f;
  x = (x | (x >>> 4)) & 0x00ff00ff;
  return (x | (x >>> 8)) & 0x0000ffff;
}

/** Interleaves two 32-bit unsigned values: x on the even bits, y on the odd ones (as a double: exact below 2^53). */
function interleave(x: number, y: number): number {
  const lo = (spread16(x) | (spread16(y) << 1)) >>> 0;
  const hi = (spread16(x >>> 16) | (spread16(y >>> 16) << 1)) >>> 0;
  return hi * TWO_32 + lo;
}

/** The even-bit (x) and odd-bit (y) halves of a 64-bit word given as its two 32-bit halves. */
function deinterleave(hi: number, lo: number): [number, number] {
  const x = (squash32(lo) | (squash32(hi) << 16)) >>> 0;
  const y = (squash32(lo >>> 1) | (squash32(hi >>> 1) << 16)) >>> 0;
  return [x, y];
}

/**
 * geohashEncode: the cell of `step` bits holding (lon, lat) over the given
 * ranges, or null outside the Mercator limits or the ranges.
 */
export function encode(lonRange: Range, latRange: Range, lon: number, lat: number, step: number): Cell | null {
  if (step > 32 || step === 0) return null;
  if (lon > GEO_LONG_MAX || lon < GEO_LONG_MIN || lat > GEO_LAT_MAX || lat < GEO_LAT_MIN) return null;
  if (lat < latRange.min || lat > latRange.max || lon < lonRange.min || lon > lonRange.max) return null;
  let latOffset = (lat - latRange.min) / (latRange.max - latRange.min);
  let lonOffset = (lon - lonRange.min) / (lonRange.max - lonRange.min);
  latOffset *= 2 ** step;
  lonOffset *= 2 ** step;
  // C converts the doubles to uint32_t: truncation.
  return { bits: interleave(Math.trunc(latOffset) >>> 0, Math.trunc(lonOffset) >>> 0), step };
}

/** The sorted-set score of a point: its 26-step cell (the caller has checked the coordinates). */
export function geoScore(lon: number, lat: number): number {
  return encode(LONG_RANGE, LAT_RANGE, lon, lat, GEO_STEP_MAX)!.bits;
}

/** geohashDecode: the cell's bounds (its bits given as a double, or as 32-bit halves for 64-bit values). */
export function decodeArea(lonRange: Range, latRange: Range, hi: number, lo: number, step: number): Area {
  const [ilat, ilon] = deinterleave(hi, lo);
  const latScale = latRange.max - latRange.min;
  const lonScale = lonRange.max - lonRange.min;
  const div = 2 ** step;
  return {
    latMin: latRange.min + (ilat * 1.0) / div * latScale,
    latMax: latRange.min + (((ilat + 1) >>> 0) * 1.0) / div * latScale,
    lonMin: lonRange.min + (ilon * 1.0) / div * lonScale,
    lonMax: lonRange.min + (((ilon + 1) >>> 0) * 1.0) / div * lonScale,
  };
}

function cellArea(c: Cell): Area {
  return decodeArea(LONG_RANGE, LAT_RANGE, Math.floor(c.bits / TWO_32), c.bits >>> 0, c.step);
}

/**
 * A sorted-set score as C's (uint64_t) cast reads it, in 32-bit halves: the
 * integer part of a score in [0, 2^64); as x86-64 converts other values
 * (negative ones wrap, the rest become 2^63 or 0).
 */
function scoreBits(score: number): [number, number] {
  if (score >= 0 && score < 2 ** 53) {
    const t = Math.trunc(score);
    return [Math.floor(t / TWO_32), t >>> 0];
  }
  let v: bigint;
  if (score >= 2 ** 64) v = 0n;
  else if (score >= 2 ** 63) v = BigInt(score);
  else if (score > -(2 ** 63)) v = BigInt.asUintN(64, BigInt(Math.trunc(score)));
  else v = 1n << 63n; // cvttsd2si's "integer indefinite"
  return [Number(v >> 32n), Number(v & 0xffffffffn)];
}

/** decodeGeohash: a score's point, the centre of its 26-step cell, clamped to the limits: [lon, lat]. */
export function decodeScore(score: number): [number, number] {
  const [hi, lo] = scoreBits(score);
  const a = decodeArea(LONG_RANGE, LAT_RANGE, hi, lo, GEO_STEP_MAX);
  let lon = (a.lonMin + a.lonMax) / 2;
  if (lon > GEO_LONG_MAX) lon = GEO_LONG_MAX;
  if (lon < GEO_LONG_MIN) lon = GEO_LONG_MIN;
  let lat = (a.latMin + a.latMax) / 2;
  if (lat > GEO_LAT_MAX) lat = GEO_LAT_MAX;
  if (lat < GEO_LAT_MIN) lat = GEO_LAT_MIN;
  return [lon, lat];
}

/** GEOHASH's 11-character string: the point re-encoded over latitude [-90, 90], in base 32. */
export function geohashString(score: number): string {
  const ALPHABET = '0123456789bcdefghjkmnpqrstuvwxyz';
  const [lon, lat] = decodeScore(score);
  const cell = encode({ min: -180, max: 180 }, { min: -90, max: 90 }, lon, lat, 26);
  const bits = cell === null ? 0 : cell.bits;
  let out = '';
  for (let i = 0; i < 10; i++) out += ALPHABET[Math.floor(bits / 2 ** (52 - (i + 1) * 5)) % 32];
  return out + '0'; // 52 bits make 10 characters; the 11th is 0, as Redis's
}

// ---- sin, cos and asin rounded as glibc rounds them ----
//
// V8's Math.sin/cos/asin (fdlibm) and glibc's differ in the last bit now and
// then (V8's cos(0.7935000650779873) is 0.513 ulp off, glibc's 0.487), and
// GEOSEARCHSTORE … STOREDIST shows distances to the last bit. glibc returns
// the correctly rounded result but in rare hard cases, so the distances that
// are shown or stored are computed here in double-double arithmetic (about
// 106 bits: Taylor series, Newton's step for asin) and rounded once. The
// scan over candidates uses Math.* and recomputes only near the radius.

let H = 0;
let L = 0;

/** Dekker's split constant 2^27 + 1. */
const SPLIT = 134217729;

/** (ah, al) × (bh, bl) → (H, L). */
function ddMul(ah: number, al: number, bh: number, bl: number): void {
  const p = ah * bh;
  let t = SPLIT * ah;
  const a1 = t - (t - ah);
  const a2 = ah - a1;
  t = SPLIT * bh;
  const b1 = t - (t - bh);
  const b2 = bh - b1;
  let e = a1 * b1 - p + a1 * b2 + a2 * b1 + a2 * b2;
  e += ah * bl + al * bh;
  H = p + e;
  L = e - (H - p);
}

/** (ah, al) + (bh, bl) → (H, L). */
function ddAdd(ah: number, al: number, bh: number, bl: number): void {
  const s = ah + bh;
  const v = s - ah;
  let e = ah - (s - v) + (bh - v);
  const t = al + bl;
  const w = t - al;
  const f = al - (t - w) + (bl - w);
  e += t;
  const h = s + e;
  e -= h - s;
  e += f;
  H = h + e;
  L = e - (H - h);
}

/** (ah, al) / d for a small integer d → (H, L). */
function ddDivInt(ah: number, al: number, d: number): void {
  const q1 = ah / d;
  ddMul(q1, 0, d, 0); // exact product q1·d as (H, L)
  const r = ah - H - L + al;
  const q2 = r / d;
  H = q1 + q2;
  L = q2 - (H - q1);
}

const TERMS = 30;
/** (-1)^k / (2k+1)! and (-1)^k / (2k)! as double-doubles. */
const SIN_H = new Float64Array(TERMS);
const SIN_L = new Float64Array(TERMS);
const COS_H = new Float64Array(TERMS);
const COS_L = new Float64Array(TERMS);
{
  let h = 1;
  let l = 0;
  for (let n = 0; n < 2 * TERMS; n++) {
    // h + l = (-1)^⌊n/2⌋ / n!
    const k = n >> 1;
    if (n % 2 === 0) {
      COS_H[k] = h;
      COS_L[k] = l;
    } else {
      SIN_H[k] = h;
      SIN_L[k] = l;
    }
    ddDivInt(h, l, n + 1);
    h = H;
    l = L;
    if (n % 2 === 1) {
      h = -h;
      l = -l;
    }
  }
}

/**
 * Σ c_k x^(2k) (Horner, in double-double) → (H, L), truncated where the
 * terms fall below 2^-90 of the leading one: far past what rounding to a
 * double needs, and few terms for the small arguments distances mostly take.
 */
function series(ch: Float64Array, cl: Float64Array, x: number): void {
  const x2 = x * x;
  let n = 1;
  for (let t = x2 * Math.abs(ch[1]); n < TERMS - 1 && t > 8e-28; n++) t *= x2 / ((2 * n + 1) * (2 * n + 2));
  ddMul(x, 0, x, 0);
  const x2h = H;
  const x2l = L;
  let ph = ch[n];
  let pl = cl[n];
  for (let k = n - 1; k >= 0; k--) {
    ddMul(ph, pl, x2h, x2l);
    ddAdd(H, L, ch[k], cl[k]);
    ph = H;
    pl = L;
  }
  H = ph;
  L = pl;
}

/** sin(x), correctly rounded but in the rarest cases (|x| ≤ π). */
export function sinR(x: number): number {
  if (x === 0) return x;
  series(SIN_H, SIN_L, x);
  ddMul(H, L, x, 0);
  return H + L;
}

/** cos(x), correctly rounded but in the rarest cases (|x| ≤ π). */
export function cosR(x: number): number {
  series(COS_H, COS_L, x);
  return H + L;
}

/** asin(s) for 0 ≤ s ≤ 1: Math.asin refined by one Newton step on sin(y) = s in double-double. */
export function asinR(s: number): number {
  const y0 = Math.asin(s);
  const c = Math.cos(y0);
  if (!(c > 1e-8)) return y0;
  series(SIN_H, SIN_L, y0);
  ddMul(H, L, y0, 0);
  const diff = H - s + L; // sin(y0) − s: H − s is exact (they agree in the leading bits)
  return y0 + -diff / c;
}

/** The great-circle distance in metres (haversine; the cheap form when the longitudes agree), as glibc computes it. */
export function distance(lon1: number, lat1: number, lon2: number, lat2: number): number {
  const lon1r = deg2rad(lon1);
  const lon2r = deg2rad(lon2);
  const v = sinR((lon2r - lon1r) / 2);
  if (v === 0.0) return latDistance(lat1, lat2);
  const lat1r = deg2rad(lat1);
  const lat2r = deg2rad(lat2);
  const u = sinR((lat2r - lat1r) / 2);
  const a = u * u + cosR(lat1r) * cosR(lat2r) * v * v;
  return 2.0 * EARTH_RADIUS_IN_METERS * asinR(Math.sqrt(a));
}

/** distance() with Math.*: within a few ulps of it, for the scan. */
function roughDistance(lon1: number, lat1: number, lon2: number, lat2: number): number {
  const lon1r = deg2rad(lon1);
  const lon2r = deg2rad(lon2);
  const v = Math.sin((lon2r - lon1r) / 2);
  if (v === 0.0) return latDistance(lat1, lat2);
  const lat1r = deg2rad(lat1);
  const lat2r = deg2rad(lat2);
  const u = Math.sin((lat2r - lat1r) / 2);
  const a = u * u + Math.cos(lat1r) * Math.cos(lat2r) * v * v;
  return 2.0 * EARTH_RADIUS_IN_METERS * Math.asin(Math.sqrt(a));
}

/** distance(...) > limit, deciding with the rough distance unless it is within 1e-9 of the limit. */
function farther(limit: number, lon1: number, lat1: number, lon2: number, lat2: number): boolean {
  const d = roughDistance(lon1, lat1, lon2, lat2);
  if (Math.abs(d - limit) > 1e-9 * (limit + 1)) return d > limit;
  return distance(lon1, lat1, lon2, lat2) > limit;
}

function latDistance(lat1: number, lat2: number): number {
  return EARTH_RADIUS_IN_METERS * Math.abs(deg2rad(lat2) - deg2rad(lat1));
}

/** A search shape: centre, and a radius or a box, in units of `conversion` metres. */
export interface Shape {
  lon: number;
  lat: number;
  /** Metres per unit. */
  conversion: number;
  radius?: number;
  width?: number;
  height?: number;
}

/** The distance (metres) if the point is inside the shape, else -1. */
export function withinShape(shape: Shape, lon: number, lat: number): number {
  if (shape.radius !== undefined) {
    if (farther(shape.radius * shape.conversion, shape.lon, shape.lat, lon, lat)) return -1;
    return distance(shape.lon, shape.lat, lon, lat);
  }
  const width = shape.width! * shape.conversion;
  const height = shape.height! * shape.conversion;
  if (latDistance(lat, shape.lat) > height / 2) return -1;
  if (farther(width / 2, lon, lat, shape.lon, lat)) return -1;
  return distance(shape.lon, shape.lat, lon, lat);
}

/** geohashEstimateStepsByRadius: the cell size for a search, coarser towards the poles. */
function estimateSteps(rangeMeters: number, lat: number): number {
  if (rangeMeters === 0) return 26;
  let step = 1;
  while (rangeMeters < MERCATOR_MAX) {
    rangeMeters *= 2;
    step++;
  }
  step -= 2;
  if (lat > 66 || lat < -66) {
    step--;
    if (lat > 80 || lat < -80) step--;
  }
  if (step < 1) step = 1;
  if (step > 26) step = 26;
  return step;
}

/**
 * Moves a cell by (dlon, dlat) cells, wrapping around at the edges of the
 * grid. A coordinate that does not move is kept as it is, even the one past
 * the grid that a point exactly on the upper limit (latitude 85.05112878,
 * longitude 180) encodes to, as Redis's bit arithmetic keeps it.
 */
function move(c: Cell, dlon: number, dlat: number): Cell {
  const [ilat, ilon] = deinterleave(Math.floor(c.bits / TWO_32), c.bits >>> 0);
  const size = 2 ** c.step;
  const lat = dlat === 0 ? ilat : (ilat + dlat + size) % size;
  const lon = dlon === 0 ? ilon : (ilon + dlon + size) % size;
  return { bits: interleave(lat, lon), step: c.step };
}

/**
 * The cells to read for a search, in Redis's order: the centre's cell, then
 * north, south, east, west, north-east, north-west, south-east, south-west;
 * null for a neighbour the bounding box does not reach.
 */
export function searchCells(shape: Shape): (Cell | null)[] {
  const { lon, lat } = shape;
  const isCircle = shape.radius !== undefined;
  const height = shape.conversion * (isCircle ? shape.radius! : shape.height! / 2);
  const width = shape.conversion * (isCircle ? shape.radius! : shape.width! / 2);
  const latDelta = rad2deg(height / EARTH_RADIUS_IN_METERS);
  const lonDeltaTop = rad2deg(width / EARTH_RADIUS_IN_METERS / cosR(deg2rad(lat + latDelta)));
  const lonDeltaBottom = rad2deg(width / EARTH_RADIUS_IN_METERS / cosR(deg2rad(lat - latDelta)));
  const southern = lat < 0;
  const minLon = southern ? lon - lonDeltaBottom : lon - lonDeltaTop;
  const maxLon = southern ? lon + lonDeltaBottom : lon + lonDeltaTop;
  const minLat = lat - latDelta;
  const maxLat = lat + latDelta;

  let radiusMeters = isCircle
    ? shape.radius!
    : Math.sqrt((shape.width! / 2) * (shape.width! / 2) + (shape.height! / 2) * (shape.height! / 2));
  radiusMeters *= shape.conversion;
  let steps = estimateSteps(radiusMeters, lat);

  const around = (step: number) => {
    const center = encode(LONG_RANGE, LAT_RANGE, lon, lat, step) ?? { bits: 0, step };
    return {
      center,
      north: move(center, 0, 1),
      south: move(center, 0, -1),
      east: move(center, 1, 0),
      west: move(center, -1, 0),
      northEast: move(center, 1, 1),
      northWest: move(center, -1, 1),
      southEast: move(center, 1, -1),
      southWest: move(center, -1, -1),
    };
  };
  let n = around(steps);
  // Near a cell's edge the estimated step may be too fine for the neighbours to cover the box.
  const tooFine =
    cellArea(n.north).latMax < maxLat ||
    cellArea(n.south).latMin > minLat ||
    cellArea(n.east).lonMax < maxLon ||
    cellArea(n.west).lonMin > minLon;
  if (steps > 1 && tooFine) {
    steps--;
    n = around(steps);
  }
  const area = cellArea(n.center);
  const out: (Cell | null)[] = [n.center, n.north, n.south, n.east, n.west, n.northEast, n.northWest, n.southEast, n.southWest];
  if (steps >= 2) {
    // Indexes: 1 N, 2 S, 3 E, 4 W, 5 NE, 6 NW, 7 SE, 8 SW.
    if (area.latMin < minLat) out[2] = out[8] = out[7] = null;
    if (area.latMax > maxLat) out[1] = out[5] = out[6] = null;
    if (area.lonMin < minLon) out[4] = out[8] = out[6] = null;
    if (area.lonMax > maxLon) out[3] = out[7] = out[5] = null;
  }
  return out;
}

/** The scores [min, max) of the members inside a cell. */
export function cellScores(c: Cell): [number, number] {
  const shift = 2 ** (52 - c.step * 2);
  return [c.bits * shift, (c.bits + 1) * shift];
}
