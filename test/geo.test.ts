// Unit tests of the geohash arithmetic (src/store/geohash.ts) and of the geo
// replies' number formats (src/commands/resp/geo.ts). Byte equality with
// Redis is checked in test/compat/geo.test.ts.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatCoord, formatDistance, formatFixed } from '../src/commands/resp/geo.js';
import { asinR, cosR, decodeScore, distance, geoScore, geohashString, sinR } from '../src/store/geohash.js';

const ulp = (x: number) => {
  const b = new Float64Array([Math.abs(x)]);
  const i = new BigInt64Array(b.buffer);
  i[0] += 1n;
  return b[0] - Math.abs(x);
};

describe('geohash', () => {
  it('scores and decoded cell centres (Redis documentation example)', () => {
    expect(geoScore(13.361389, 38.115556)).toBe(3479099956230698);
    expect(geoScore(15.087269, 37.502669)).toBe(3479447370796909);
    expect(decodeScore(3479099956230698)).toEqual([13.361389338970184, 38.1155563954963]);
    expect(geohashString(3479099956230698)).toBe('sqc8b49rny0');
  });

  // Inside the limits: a point within 2^-26 of the upper ones (longitude 180, latitude
  // 85.05112878) gets cell index 2^26, one past the grid, as in Redis (the differential suite
  // covers those).
  it('a decoded point re-encodes to the same score', () => {
    fc.assert(
      fc.property(fc.double({ min: -180, max: 179.99999, noNaN: true }), fc.double({ min: -85.05112878, max: 85.051128, noNaN: true }), (lon, lat) => {
        const s = geoScore(lon, lat);
        expect(Number.isInteger(s) && s >= 0 && s < 2 ** 52).toBe(true);
        const [x, y] = decodeScore(s);
        expect(geoScore(x, y)).toBe(s);
        expect(Math.abs(x - lon)).toBeLessThan(1e-5);
        expect(Math.abs(y - lat)).toBeLessThan(1e-5);
      }),
    );
  });

  it('sin, cos and asin are correctly rounded where V8 is not', () => {
    expect(Math.cos(0.7935000650779873)).toBe(0.7013547268382838); // 0.513 ulp off
    expect(cosR(0.7935000650779873)).toBe(0.7013547268382837); // 0.487 ulp off, as glibc
    fc.assert(
      fc.property(fc.double({ min: -Math.PI, max: Math.PI, noNaN: true }), fc.double({ min: 0, max: 1, noNaN: true }), (x, y) => {
        expect(Math.abs(sinR(x) - Math.sin(x))).toBeLessThanOrEqual(ulp(Math.sin(x)));
        expect(Math.abs(cosR(x) - Math.cos(x))).toBeLessThanOrEqual(ulp(Math.cos(x)));
        expect(Math.abs(asinR(y) - Math.asin(y))).toBeLessThanOrEqual(ulp(Math.asin(y)));
      }),
    );
  });

  it('distance: haversine on Redis’s sphere', () => {
    const [a, b] = [decodeScore(3479099956230698), decodeScore(3479447370796909)];
    expect(formatDistance(distance(a[0], a[1], b[0], b[1]) / 1000)).toBe('166.2742');
    expect(distance(10, 20, 10, 20)).toBe(0);
  });
});

describe('reply formats', () => {
  it('%f as glibc prints it: the exact value, rounded half to even', () => {
    expect(formatFixed(200, 6)).toBe('200.000000');
    expect(formatFixed(-0.0000005, 6)).toBe('-0.000000'); // the double is just below 5e-7
    expect(formatFixed(0.125, 2)).toBe('0.12');
    expect(formatFixed(0.375, 2)).toBe('0.38');
    expect(formatFixed(1e300, 0)).toBe(BigInt(1e300).toString());
    expect(formatFixed(-Infinity, 6)).toBe('-inf');
  });

  it('distances: llrint(d × 10^4) with 4 decimals', () => {
    expect(formatDistance(0)).toBe('0.0000');
    expect(formatDistance(0.00005)).toBe('0.0000'); // 0.5 after scaling: to even
    expect(formatDistance(0.00025)).toBe('0.0002'); // 2.5: to even
    expect(formatDistance(0.00015)).toBe('0.0001'); // 1.4999999999999998 after scaling
    expect(formatDistance(6.0642951598391699e-5)).toBe('0.0001');
    expect(formatDistance(166274.1516)).toBe('166274.1516');
  });

  it('coordinates: %.17Lf without trailing zeros', () => {
    expect(formatCoord(13.361389338970184)).toBe('13.36138933897018433');
    expect(formatCoord(-0)).toBe('0');
    expect(formatCoord(180)).toBe('180');
    expect(formatCoord(0.5)).toBe('0.5');
  });
});
