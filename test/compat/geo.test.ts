// Differential: geo commands (GEOADD, GEODIST, GEOHASH, GEOPOS, GEOSEARCH,
// GEOSEARCHSTORE, GEORADIUS, GEORADIUSBYMEMBER and the _RO forms) against a
// real redis-server, byte for byte: scores, printed coordinates and
// distances, which members a search finds and in which order (unsorted
// searches show Redis's cell order), errors.
import { describe, test } from 'vitest';
import { useServers, type Step } from './harness.js';
import { prng } from '../../src/util/prng.js';


/** [name, longitude, latitude] */
const CITIES: [string, number, number][] = [
  ['Palermo', 13.361389, 38.115556],
  ['Catania', 15.087269, 37.502669],
  ['Rome', 12.496366, 41.902782],
  ['Milan', 9.189982, 45.464204],
  ['Paris', 2.352222, 48.856613],
  ['London', -0.127758, 51.507351],
  ['Greenwich', 0.0, 51.4769],
  ['Madrid', -3.70379, 40.416775],
  ['Berlin', 13.404954, 52.520008],
  ['Reykjavik', -21.942400, 64.146582],
  ['Tromso', 18.955324, 69.649205],
  ['Longyearbyen', 15.633333, 78.216667],
  ['Alert', -62.348056, 82.501389],
  ['NewYork', -74.005941, 40.712784],
  ['SanFrancisco', -122.419416, 37.774929],
  ['Anchorage', -149.900278, 61.218056],
  ['Honolulu', -157.858333, 21.306944],
  ['Quito', -78.467838, -0.180653],
  ['Singapore', 103.819836, 1.352083],
  ['Nairobi', 36.821946, -1.292066],
  ['SaoPaulo', -46.633309, -23.55052],
  ['BuenosAires', -58.381559, -34.603684],
  ['Ushuaia', -68.303, -54.8019],
  ['CapeTown', 18.424055, -33.924869],
  ['Sydney', 151.209296, -33.86882],
  ['Auckland', 174.763332, -36.84846],
  ['Suva', 178.441895, -18.141600],
  ['Apia', -171.751, -13.8333],
  ['Tokyo', 139.691706, 35.689487],
  ['McMurdo', 166.668, -77.846],
  ['Mumbai', 72.877656, 19.075984],
  ['Moscow', 37.617300, 55.755826],
];

const geoaddAll = (key: string): Step => ['GEOADD', key, ...CITIES.flatMap(([n, lon, lat]) => [String(lon), String(lat), n])];

describe('geo', () => {
  const s = useServers();

  test('GEOADD: NX, XX, CH, updates, the scores it stores; GEOPOS, GEOHASH, GEODIST', () =>
    s.same([
      ['GEOADD', 'g', '13.361389', '38.115556', 'Palermo', '15.087269', '37.502669', 'Catania'],
      ['ZRANGE', 'g', '0', '-1', 'WITHSCORES'],
      ['GEOADD', 'g', '13.361389', '38.115556', 'Palermo'],
      ['GEOADD', 'g', 'CH', '13.361390', '38.115556', 'Palermo'],
      ['GEOADD', 'g', 'NX', '1', '1', 'Palermo', '2', '2', 'new1'],
      ['GEOADD', 'g', 'XX', '1', '1', 'Palermo', '2', '2', 'new2'],
      ['GEOADD', 'g', 'XX', 'CH', '3', '3', 'Palermo', '2', '2', 'new2'],
      ['GEOADD', 'g', 'ch', 'nx', '4', '4', 'new3'],
      ['ZRANGE', 'g', '0', '-1', 'WITHSCORES'],
      ['GEOADD', 'g', 'NX', 'XX', '1', '1', 'x'],
      ['GEOADD', 'g', '1', '1'],
      ['GEOADD', 'g', '1', '1', 'a', '2'],
      ['GEOADD', 'g', 'CH', 'NX', 'XX'],
      ['GEOADD', 'g', 'GT', '1', '1', 'a'],
      ['GEOADD', 'new', 'XX', '1', '1', 'a'],
      ['EXISTS', 'new'],
      geoaddAll('c'),
      ['ZRANGE', 'c', '0', '-1', 'WITHSCORES'],
      ['GEOPOS', 'c', ...CITIES.map(([n]) => n), 'Nowhere'],
      ['GEOHASH', 'c', ...CITIES.map(([n]) => n), 'Nowhere'],
      ['GEOPOS', 'nokey', 'a', 'b'],
      ['GEOHASH', 'nokey', 'a'],
      ['GEOPOS', 'c'],
      ['GEOHASH', 'c'],
      ['GEODIST', 'c', 'Palermo', 'Catania'],
      ['GEODIST', 'c', 'Palermo', 'Catania', 'km'],
      ['GEODIST', 'c', 'Palermo', 'Catania', 'KM'],
      ['GEODIST', 'c', 'Palermo', 'Catania', 'mi'],
      ['GEODIST', 'c', 'Palermo', 'Catania', 'ft'],
      ['GEODIST', 'c', 'Palermo', 'Catania', 'M'],
      ['GEODIST', 'c', 'Palermo', 'Palermo'],
      ['GEODIST', 'c', 'London', 'Greenwich', 'ft'],
      ['GEODIST', 'c', 'Sydney', 'Reykjavik', 'km'],
      ['GEODIST', 'c', 'Suva', 'Apia', 'km'],
      ['GEODIST', 'c', 'Alert', 'McMurdo', 'mi'],
      ['GEODIST', 'c', 'Quito', 'Singapore'],
      ['GEODIST', 'c', 'Palermo', 'Nowhere'],
      ['GEODIST', 'nokey', 'a', 'b'],
      ['GEODIST', 'c', 'Palermo', 'Catania', 'yards'],
      ['GEODIST', 'nokey', 'a', 'b', 'yards'],
      ['GEODIST', 'c', 'Palermo', 'Catania', 'km', 'extra'],
      ...CITIES.slice(0, 12).map(([a], i): Step => ['GEODIST', 'c', a, CITIES[(i * 7 + 3) % CITIES.length][0], 'km']),
    ]));

  test('edge coordinates: the Mercator latitude limits, ±180, 0,0, and just outside', () =>
    s.same([
      ['GEOADD', 'e', '180', '85.05112878', 'ne', '-180', '-85.05112878', 'sw', '180', '-85.05112878', 'se', '-180', '85.05112878', 'nw'],
      ['GEOADD', 'e', '0', '0', 'zero', '-0', '-0', 'negzero', '179.9999999', '0', 'east', '-179.9999999', '0', 'west'],
      ['GEOADD', 'e', '1e-300', '-1e-300', 'tiny', '4.9e-324', '0', 'subnormal'],
      ['ZRANGE', 'e', '0', '-1', 'WITHSCORES'],
      ['GEOPOS', 'e', 'ne', 'sw', 'se', 'nw', 'zero', 'negzero', 'east', 'west', 'tiny', 'subnormal'],
      ['GEOHASH', 'e', 'ne', 'sw', 'se', 'nw', 'zero', 'east', 'west'],
      ['GEODIST', 'e', 'east', 'west'],
      ['GEODIST', 'e', 'ne', 'nw', 'km'],
      ['GEODIST', 'e', 'ne', 'sw', 'km'],
      ['GEOSEARCH', 'e', 'FROMMEMBER', 'ne', 'BYRADIUS', '100', 'km', 'WITHDIST', 'WITHCOORD'],
      ['GEOSEARCH', 'e', 'FROMMEMBER', 'sw', 'BYRADIUS', '5000', 'km', 'WITHDIST'],
      ['GEOSEARCH', 'e', 'FROMLONLAT', '180', '85.05112878', 'BYBOX', '10000', '10000', 'km', 'WITHDIST'],
      ['GEOSEARCH', 'e', 'FROMLONLAT', '-180', '0', 'BYRADIUS', '30', 'km', 'WITHDIST', 'WITHHASH'],
      ['GEOSEARCH', 'e', 'FROMLONLAT', '180', '0', 'BYRADIUS', '30', 'km', 'WITHDIST', 'ASC'],
      ['GEOSEARCH', 'e', 'FROMLONLAT', '0', '0', 'BYRADIUS', '0', 'm', 'WITHDIST'],
      ['GEOSEARCH', 'e', 'FROMLONLAT', '0', '0', 'BYBOX', '0', '0', 'm'],
      ['GEOADD', 'e', '180.0000001', '0', 'x'],
      ['GEOADD', 'e', '-180.0000001', '0', 'x'],
      ['GEOADD', 'e', '0', '85.05112879', 'x'],
      ['GEOADD', 'e', '0', '-85.05112879', 'x'],
      ['GEOADD', 'e', '0', '90', 'x'],
      ['GEOADD', 'e', '1e300', '-1e300', 'x'],
      ['GEOADD', 'e', 'inf', '0', 'x'],
      ['GEOADD', 'e', '0', '-inf', 'x'],
      ['GEOADD', 'e', '-0.0000005', '100.0000005', 'x'],
      ['GEOADD', 'e', 'nan', '0', 'x'],
      ['GEOADD', 'e', '1e400', '0', 'x'],
      ['GEOADD', 'e', '0', 'abc', 'x'],
      ['GEOADD', 'e', '', '0', 'x'],
      ['GEOADD', 'e', ' 1', '0', 'x'],
      ['GEOADD', 'e', '1', '1', 'ok', '1000', '1', 'bad'],
      ['EXISTS', 'ok'],
      ['ZSCORE', 'e', 'ok'],
    ]));

  test('members added by ZADD with scores that are not geohashes', () =>
    s.same([
      ['ZADD', 'z', '-1', 'neg', '0.5', 'half', '1e20', 'big', '4503599627370496', 'top', '4503599627370495', 'max', '-inf', 'minf', 'inf', 'pinf', '1e19', 'past63', '-1e19', 'negpast63'],
      ['GEOPOS', 'z', 'neg', 'half', 'big', 'top', 'max', 'minf', 'pinf', 'past63', 'negpast63'],
      ['GEOHASH', 'z', 'neg', 'half', 'big', 'top', 'max', 'minf', 'pinf', 'past63', 'negpast63'],
      ['GEODIST', 'z', 'neg', 'half'],
      ['GEODIST', 'z', 'top', 'max', 'km'],
      ['GEOSEARCH', 'z', 'FROMMEMBER', 'half', 'BYRADIUS', '20000', 'km', 'WITHHASH', 'WITHDIST'],
      ['SET', 'str', 'x'],
      ['GEOPOS', 'str', 'a'],
      ['GEOHASH', 'str', 'a'],
      ['GEODIST', 'str', 'a', 'b'],
      ['GEOADD', 'str', '1', '1', 'a'],
      ['GEOSEARCH', 'str', 'FROMLONLAT', '0', '0', 'BYRADIUS', '1', 'km'],
      ['GEORADIUS', 'str', '0', '0', '1', 'km'],
      ['GEOSEARCHSTORE', 'dst', 'str', 'FROMLONLAT', '0', '0', 'BYRADIUS', '1', 'km'],
    ]));

  test('GEOSEARCH with every option over world cities', () => {
    const steps: Step[] = [geoaddAll('c')];
    const centres: string[][] = [
      ['FROMMEMBER', 'Palermo'],
      ['FROMMEMBER', 'Suva'],
      ['FROMMEMBER', 'Alert'],
      ['FROMMEMBER', 'McMurdo'],
      ['FROMLONLAT', '0', '0'],
      ['FROMLONLAT', '-179.5', '-16'],
      ['FROMLONLAT', '10', '50'],
    ];
    const shapes: string[][] = [
      ['BYRADIUS', '200', 'km'],
      ['BYRADIUS', '1500', 'km'],
      ['BYRADIUS', '3000', 'mi'],
      ['BYRADIUS', '9000', 'km'],
      ['BYRADIUS', '25000', 'km'],
      ['BYRADIUS', '5000000', 'ft'],
      ['BYBOX', '2000', '1000', 'km'],
      ['BYBOX', '500', '4000', 'mi'],
      ['BYBOX', '40000', '40000', 'km'],
    ];
    const opts: string[][] = [[], ['ASC'], ['DESC'], ['WITHDIST'], ['WITHCOORD', 'WITHHASH'], ['WITHDIST', 'WITHCOORD', 'WITHHASH', 'DESC'], ['COUNT', '3'], ['COUNT', '2', 'DESC', 'WITHDIST'], ['COUNT', '3', 'ANY'], ['COUNT', '1', 'ANY', 'ASC', 'WITHDIST']];
    for (const c of centres) for (const sh of shapes) for (const o of opts) steps.push(['GEOSEARCH', 'c', ...c, ...sh, ...o]);
    return s.same(steps);
  });

  test('GEOSEARCHSTORE, GEORADIUS[BYMEMBER] STORE/STOREDIST, and the _RO forms', () =>
    s.same([
      geoaddAll('c'),
      ['GEOSEARCHSTORE', 'dst', 'c', 'FROMMEMBER', 'Rome', 'BYRADIUS', '1500', 'km'],
      ['ZRANGE', 'dst', '0', '-1', 'WITHSCORES'],
      ['GEOSEARCHSTORE', 'dst', 'c', 'FROMMEMBER', 'Rome', 'BYRADIUS', '1500', 'km', 'STOREDIST', 'COUNT', '4'],
      ['ZRANGE', 'dst', '0', '-1', 'WITHSCORES'],
      ['GEOSEARCHSTORE', 'dst', 'c', 'FROMLONLAT', '12', '42', 'BYBOX', '3000', '3000', 'km', 'DESC', 'COUNT', '2', 'STOREDIST'],
      ['ZRANGE', 'dst', '0', '-1', 'WITHSCORES'],
      ['EXPIRE', 'dst', '100'],
      ['GEOSEARCHSTORE', 'dst', 'c', 'FROMLONLAT', '12', '42', 'BYRADIUS', '1', 'km'],
      ['EXISTS', 'dst'],
      ['SET', 'dst', 'x'],
      ['EXPIRE', 'dst', '100'],
      ['GEOSEARCHSTORE', 'dst', 'c', 'FROMMEMBER', 'Paris', 'BYRADIUS', '500', 'km'],
      ['TTL', 'dst'],
      ['TYPE', 'dst'],
      ['GEOSEARCHSTORE', 'dst', 'nokey', 'FROMLONLAT', '0', '0', 'BYRADIUS', '1', 'km'],
      ['EXISTS', 'dst'],
      ['GEOSEARCHSTORE', 'dst', 'c', 'FROMMEMBER', 'Paris', 'BYRADIUS', '500', 'km', 'WITHDIST'],
      ['GEOSEARCHSTORE', 'dst', 'c', 'FROMMEMBER', 'Paris', 'BYRADIUS', '500', 'km', 'STORE', 'x'],
      ['GEORADIUS', 'c', '15', '37', '200', 'km', 'WITHDIST', 'WITHCOORD', 'ASC'],
      ['GEORADIUS', 'c', '15', '37', '2000', 'km', 'COUNT', '3', 'DESC'],
      ['GEORADIUS', 'c', '15', '37', '2000', 'km', 'STORE', 'r1'],
      ['ZRANGE', 'r1', '0', '-1', 'WITHSCORES'],
      ['GEORADIUS', 'c', '15', '37', '2000', 'km', 'STOREDIST', 'r2', 'COUNT', '3'],
      ['ZRANGE', 'r2', '0', '-1', 'WITHSCORES'],
      ['GEORADIUS', 'c', '15', '37', '2000', 'km', 'STORE', 'r3', 'WITHDIST'],
      ['GEORADIUS_RO', 'c', '15', '37', '2000', 'km', 'WITHDIST'],
      ['GEORADIUS_RO', 'c', '15', '37', '2000', 'km', 'STORE', 'r4'],
      ['GEORADIUSBYMEMBER', 'c', 'Paris', '1000', 'km', 'WITHDIST', 'ASC'],
      ['GEORADIUSBYMEMBER', 'c', 'Paris', '1000', 'km', 'STOREDIST', 'r5'],
      ['ZRANGE', 'r5', '0', '-1', 'WITHSCORES'],
      ['GEORADIUSBYMEMBER_RO', 'c', 'Tokyo', '10000', 'km', 'WITHHASH', 'COUNT', '5', 'ANY'],
      ['GEORADIUSBYMEMBER_RO', 'c', 'Tokyo', '10000', 'km', 'STOREDIST', 'r6'],
      ['GEORADIUSBYMEMBER', 'c', 'Nowhere', '1', 'km'],
      ['GEORADIUSBYMEMBER', 'nokey', 'Nowhere', 'x', 'y'],
      ['GEORADIUSBYMEMBER', 'nokey', 'Nowhere', '1', 'km', 'STORE', 'r1'],
      ['EXISTS', 'r1'],
      ['GEORADIUS', 'nokey', '0', '0', '1', 'km'],
      ['GEORADIUS', 'nokey', '0', '0', '1', 'km', 'STORE', 'r2'],
      ['EXISTS', 'r2'],
      ['GEORADIUS', 'c', '0', '0', '1', 'km', 'STORE', 'r5'],
      ['EXISTS', 'r5'],
      ['GEORADIUS', 'c', '0', '0', '1', 'km', 'FROMMEMBER', 'x'],
      ['GEORADIUS', 'c', '0', '0', '1', 'km', 'STORE'],
    ]));

  test('search argument errors, in Redis’s order', () =>
    s.same([
      geoaddAll('c'),
      ['GEOSEARCH', 'c', 'FROMMEMBER', 'Rome', 'BYRADIUS', '1', 'km', 'COUNT', '0'],
      ['GEOSEARCH', 'c', 'FROMMEMBER', 'Rome', 'BYRADIUS', '1', 'km', 'COUNT', '-3'],
      ['GEOSEARCH', 'c', 'FROMMEMBER', 'Rome', 'BYRADIUS', '1', 'km', 'COUNT', 'x'],
      ['GEOSEARCH', 'c', 'FROMMEMBER', 'Rome', 'BYRADIUS', '1', 'km', 'COUNT'],
      ['GEOSEARCH', 'c', 'FROMMEMBER', 'Rome', 'BYRADIUS', '1', 'km', 'ANY'],
      ['GEOSEARCH', 'c', 'FROMMEMBER', 'Nowhere', 'BYRADIUS', '1', 'km'],
      ['GEOSEARCH', 'c', 'FROMMEMBER', 'Rome', 'BYRADIUS', '-1', 'km'],
      ['GEOSEARCH', 'c', 'FROMMEMBER', 'Rome', 'BYRADIUS', 'x', 'km'],
      ['GEOSEARCH', 'c', 'FROMMEMBER', 'Rome', 'BYRADIUS', '1', 'parsecs'],
      ['GEOSEARCH', 'c', 'FROMMEMBER', 'Rome', 'BYBOX', '1', '-1', 'km'],
      ['GEOSEARCH', 'c', 'FROMMEMBER', 'Rome', 'BYBOX', 'x', '1', 'km'],
      ['GEOSEARCH', 'c', 'FROMMEMBER', 'Rome', 'BYBOX', '1', 'y', 'km'],
      ['GEOSEARCH', 'c', 'FROMMEMBER', 'Rome', 'BYBOX', '1', '1', 'yd'],
      ['GEOSEARCH', 'c', 'FROMMEMBER', 'Rome', 'BYBOX', '1', '1'],
      ['GEOSEARCH', 'c', 'FROMMEMBER', 'Rome', 'BYRADIUS', '1', 'km', 'BYBOX', '1', '1', 'km'],
      ['GEOSEARCH', 'c', 'FROMLONLAT', '1', '1', 'FROMMEMBER', 'Rome', 'BYRADIUS', '1', 'km'],
      ['GEOSEARCH', 'c', 'FROMMEMBER', 'Rome', 'FROMLONLAT', '1', '1', 'BYRADIUS', '1', 'km'],
      ['GEOSEARCH', 'c', 'FROMMEMBER', 'Rome', 'FROMMEMBER', 'Paris', 'BYRADIUS', '1000', 'km'],
      ['GEOSEARCH', 'c', 'FROMLONLAT', '200', '1', 'BYRADIUS', '1', 'km'],
      ['GEOSEARCH', 'c', 'FROMLONLAT', 'x', '1', 'BYRADIUS', '1', 'km'],
      ['GEOSEARCH', 'c', 'BYRADIUS', '1', 'km', 'ASC', 'DESC'],
      ['geosearch', 'c', 'BYRADIUS', '1', 'km', 'ASC', 'DESC'],
      ['GEOSEARCH', 'c', 'FROMMEMBER', 'Rome', 'ASC', 'DESC', 'WITHDIST'],
      ['GeoSearch', 'c', 'FROMMEMBER', 'Rome', 'ASC', 'DESC', 'WITHDIST'],
      ['GEOSEARCH', 'c', 'FROMMEMBER', 'Rome', 'BYRADIUS', '1', 'km', 'STOREDIST'],
      ['GEOSEARCH', 'c', 'FROMMEMBER', 'Rome', 'BYRADIUS', '1', 'km', 'STORE', 'x'],
      ['GEOSEARCH', 'c', 'FROMMEMBER', 'Rome', 'BYRADIUS', '1', 'km', 'WHAT'],
      ['GEOSEARCH', 'nokey', 'FROMMEMBER', 'Rome', 'BYRADIUS', '1', 'km'],
      ['GEOSEARCH', 'nokey', 'FROMMEMBER', 'Rome', 'BYRADIUS', 'x', 'km'],
      ['GEOSEARCH', 'nokey', 'FROMMEMBER', 'Rome', 'ASC', 'ASC', 'ASC'],
      ['GEOSEARCH', 'c', 'FROMMEMBER', 'Rome', 'BYRADIUS', '1', 'km', 'COUNT', '9223372036854775807'],
      ['GEOSEARCH', 'c', 'FROMMEMBER', 'Rome', 'BYRADIUS', '1', 'km', 'COUNT', '9223372036854775808'],
      ['GEORADIUS', 'c', '0', '0', '-1', 'km'],
      ['GEORADIUS', 'c', '0', '0', '1', 'furlongs'],
      ['GEORADIUS', 'c', '0', '100', '1', 'km'],
      ['GEORADIUS', 'c', '0', '0', '1', 'km', 'BYBOX', '1', '1', 'km'],
      ['GEORADIUS', 'c', '0', '0', '1', 'km', 'WITHDIST', 'STORE', 'x'],
      ['GEORADIUSBYMEMBER', 'c', 'Rome', '1', 'km', 'WITHDIST', 'STOREDIST', 'x'],
      ['GEORADIUSBYMEMBER', 'c', 'Rome', 'x', 'km'],
    ]));

  test('COUNT with tied distances: the order Redis’s partial quicksort leaves', () => {
    const r = prng(99);
    const steps: Step[] = [];
    // Many members on a few distinct spots, so distances tie in groups.
    const spots = [['1', '1'], ['1.01', '1'], ['1', '1.02'], ['0.99', '0.98'], ['1.2', '1.2']];
    const args: string[] = [];
    for (let i = 0; i < 120; i++) args.push(...spots[Math.floor(r() * spots.length)], `t${i}`);
    steps.push(['GEOADD', 't', ...args]);
    for (const n of ['1', '2', '3', '6', '7', '8', '9', '20', '40', '41', '60', '100', '119', '120', '121']) {
      for (const order of ['ASC', 'DESC']) {
        steps.push(['GEOSEARCH', 't', 'FROMLONLAT', '1', '1', 'BYRADIUS', '100', 'km', 'COUNT', n, order]);
        steps.push(['GEORADIUS', 't', '1', '1', '100', 'km', 'COUNT', n, order, 'WITHDIST']);
      }
      steps.push(['GEOSEARCH', 't', 'FROMLONLAT', '1', '1', 'BYBOX', '30', '30', 'km', 'COUNT', n]);
      steps.push(['GEOSEARCHSTORE', 'd', 't', 'FROMLONLAT', '1', '1', 'BYRADIUS', '100', 'km', 'COUNT', n], ['ZRANGE', 'd', '0', '-1']);
    }
    return s.same(steps);
  });

  for (let seed = 1; seed <= Number(process.env.COMPAT_SEEDS ?? 4); seed++) {
    test(`seed ${seed}: random points and random searches`, () => {
      const r = prng(seed);
      const pick = <T>(a: readonly T[]): T => a[Math.floor(r() * a.length)];
      // A cluster (so small radii find something) and points anywhere.
      const clusterLon = -170 + r() * 340;
      const clusterLat = -80 + r() * 160;
      const point = (): [string, string] =>
        r() < 0.6
          ? [String(Math.max(-180, Math.min(180, clusterLon + (r() - 0.5) * 4))), String(Math.max(-85, Math.min(85, clusterLat + (r() - 0.5) * 4)))]
          : [String(-180 + r() * 360), String(-85.05112878 + r() * 170.10225756)];
      const steps: Step[] = [];
      const members: string[] = [];
      for (let i = 0; i < 300; i++) {
        members.push(`m${i}`);
        steps.push(['GEOADD', 'p', ...point(), `m${i}`]);
      }
      for (let i = 0; i < 150; i++) {
        const from = r() < 0.5 ? ['FROMMEMBER', pick(members)] : ['FROMLONLAT', ...point()];
        const unit = pick(['m', 'km', 'mi', 'ft']);
        const scale = { m: 1000, km: 1, mi: 0.62, ft: 3280 }[unit]!;
        const size = () => String(Math.round(pick([1, 10, 50, 200, 1000, 5000, 20000]) * r() * scale * 1000) / 1000);
        const by = r() < 0.5 ? ['BYRADIUS', size(), unit] : ['BYBOX', size(), size(), unit];
        const opts: string[] = [];
        if (r() < 0.5) opts.push('WITHDIST');
        if (r() < 0.3) opts.push('WITHCOORD');
        if (r() < 0.3) opts.push('WITHHASH');
        if (r() < 0.5) opts.push(pick(['ASC', 'DESC']));
        if (r() < 0.3) opts.push('COUNT', String(1 + Math.floor(r() * 10)), ...(r() < 0.3 ? ['ANY'] : []));
        const x = r();
        if (x < 0.7) steps.push(['GEOSEARCH', 'p', ...from, ...by, ...opts]);
        else if (x < 0.8) {
          const [lon, lat] = point();
          steps.push(['GEORADIUS', 'p', lon, lat, size(), unit, ...opts]);
        } else if (x < 0.9) steps.push(['GEODIST', 'p', pick(members), pick(members), unit]);
        else {
          const dist = r() < 0.5;
          steps.push(['GEOSEARCHSTORE', 'd', 'p', ...from, ...by, ...opts.filter((o) => !o.startsWith('WITH')), ...(dist ? ['STOREDIST'] : [])]);
          // Stored distances keep every bit, and glibc's sin/cos/asin are not always correctly
          // rounded where ours are (README): their order and 4-decimal form are compared instead.
          if (dist) steps.push(['ZRANGE', 'd', '0', '-1'], ['GEOSEARCH', 'p', ...from, ...by, 'WITHDIST', ...opts.filter((o) => !o.startsWith('WITH'))]);
          else steps.push(['ZRANGE', 'd', '0', '-1', 'WITHSCORES']);
        }
      }
      steps.push(['GEOPOS', 'p', ...members.slice(0, 50)], ['GEOHASH', 'p', ...members.slice(0, 50)]);
      return s.same(steps);
    });
  }
});
