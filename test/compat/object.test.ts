// Differential: OBJECT ENCODING / REFCOUNT / HELP / IDLETIME / FREQ and their errors against a real
// redis-server 7.0: the encoding Redis would choose for the same value, under the default
// thresholds and CONFIG SET ones, including that Redis never converts back to compact.
import { describe, test } from 'vitest';
import { useServers, type Step } from './harness.js';

const enc = (k: string): string[] => ['OBJECT', 'ENCODING', k];
const long = (n: number, c = 'x'): string => c.repeat(n);

describe('OBJECT', () => {
  const s = useServers();

  test('strings: int, embstr, raw, and what APPEND/SETRANGE/INCR/bit commands leave', () =>
    s.same([
      ['SET', 'i', '12345'], enc('i'),
      ['SET', 'neg', '-9223372036854775808'], enc('neg'),
      ['SET', 'big', '9223372036854775808'], enc('big'),
      ['SET', 'lead0', '007'], enc('lead0'),
      ['SET', 'm0', '-0'], enc('m0'),
      ['SET', 'e44', long(44)], enc('e44'),
      ['SET', 'r45', long(45)], enc('r45'),
      ['SET', 'ap', 'ab'], ['APPEND', 'ap', 'c'], enc('ap'),
      ['APPEND', 'apnew', '12'], enc('apnew'),
      ['APPEND', 'apnew', '3'], enc('apnew'), ['GET', 'apnew'],
      ['SET', 'sr', '1234'], ['SETRANGE', 'sr', '0', '2'], enc('sr'), ['GET', 'sr'],
      ['SETRANGE', 'srnew', '2', 'x'], enc('srnew'),
      ['INCR', 'cnt'], enc('cnt'),
      ['SETBIT', 'bits', '3', '1'], enc('bits'),
      ['PFADD', 'hll', 'a', 'b'], enc('hll'),
      enc('nokey'),
    ]));

  test('REFCOUNT: shared integers 0..9999', () =>
    s.same([
      ['SET', 'a', '0'], ['OBJECT', 'REFCOUNT', 'a'],
      ['SET', 'a', '9999'], ['OBJECT', 'REFCOUNT', 'a'],
      ['SET', 'a', '10000'], ['OBJECT', 'REFCOUNT', 'a'],
      ['SET', 'a', '-1'], ['OBJECT', 'REFCOUNT', 'a'],
      ['SET', 'a', 'abc'], ['OBJECT', 'REFCOUNT', 'a'],
      ['INCR', 'n'], ['OBJECT', 'REFCOUNT', 'n'],
      ['RPUSH', 'l', 'x'], ['OBJECT', 'REFCOUNT', 'l'],
      ['OBJECT', 'REFCOUNT', 'nokey'],
      ['CONFIG', 'SET', 'maxmemory', '1gb'],
      ['CONFIG', 'SET', 'maxmemory-policy', 'allkeys-lru'],
      ['SET', 'a', '5'], ['OBJECT', 'REFCOUNT', 'a'],
      ['CONFIG', 'SET', 'maxmemory-policy', 'noeviction'],
      ['CONFIG', 'SET', 'maxmemory', '0'],
    ]));

  test('lists, sets, hashes, sorted sets, streams at the default thresholds, and stickiness', () => {
    const steps: Step[] = [
      ['RPUSH', 'l', 'a'], enc('l'),
      ['SADD', 'si', '1', '2', '-3'], enc('si'),
      ['SADD', 'ss', 'a'], enc('ss'),
      ['SADD', 'si2', '1'], ['SADD', 'si2', 'x'], ['SREM', 'si2', 'x'], enc('si2'),
      ['HSET', 'h', 'f', 'v'], enc('h'),
      ['HSET', 'h64', 'f', long(64)], enc('h64'),
      ['HSET', 'h65', 'f', long(65)], enc('h65'),
      ['HSET', 'hf65', long(65), 'v'], enc('hf65'),
      ['HDEL', 'hf65', long(65)], ['HSET', 'hf65', 'a', 'b'], enc('hf65'),
      ['ZADD', 'z', '1', 'a'], enc('z'),
      ['ZADD', 'z65', '1', long(65)], enc('z65'),
      ['ZREM', 'z65', long(65)], ['ZADD', 'z65', '1', 'a'], enc('z65'),
      ['XADD', 'st', '1-1', 'f', 'v'], enc('st'),
      ['GEOADD', 'geo', '13.361389', '38.115556', 'Palermo'], enc('geo'),
    ];
    // Grow past the entry thresholds, then shrink back: Redis stays wide.
    const members = Array.from({ length: 600 }, (_, i) => String(i));
    steps.push(['SADD', 'sbig', ...members.slice(0, 512)], enc('sbig'), ['SADD', 'sbig', '512'], enc('sbig'));
    steps.push({ cmd: ['SPOP', 'sbig', '500'], match: 'shape' }, ['SCARD', 'sbig'], enc('sbig'));
    const hargs = members.slice(0, 513).flatMap((m) => [m, m]);
    steps.push(['HSET', 'hbig', ...hargs.slice(0, 1024)], enc('hbig'), ['HSET', 'hbig', '512', 'x'], enc('hbig'));
    steps.push(['HDEL', 'hbig', ...members.slice(0, 500)], enc('hbig'));
    const zargs = members.slice(0, 129).flatMap((m) => [m, m]);
    steps.push(['ZADD', 'zbig', ...zargs.slice(0, 256)], enc('zbig'), ['ZADD', 'zbig', '1', 'new'], enc('zbig'));
    steps.push(['ZREMRANGEBYRANK', 'zbig', '0', '100'], enc('zbig'));
    // COPY keeps the encoding; results of set algebra are judged afresh.
    steps.push(['COPY', 'zbig', 'zcopy'], enc('zcopy'), ['COPY', 'si2', 'sicopy'], enc('sicopy'));
    steps.push(['SINTERSTORE', 'inter', 'si', 'si'], enc('inter'), ['ZUNIONSTORE', 'zu', '1', 'zbig'], enc('zu'));
    return s.same(steps);
  });

  test('CONFIG SET thresholds', () =>
    s.same([
      ['CONFIG', 'SET', 'set-max-intset-entries', '2'],
      ['SADD', 's', '1', '2'], enc('s'), ['SADD', 's', '3'], enc('s'),
      ['CONFIG', 'SET', 'hash-max-listpack-entries', '1'],
      ['HSET', 'h', 'a', '1'], enc('h'), ['HSET', 'h', 'b', '1'], enc('h'),
      ['CONFIG', 'SET', 'hash-max-listpack-value', '3'],
      ['HSET', 'h2', 'a', '123'], enc('h2'), ['HSET', 'h3', 'a', '1234'], enc('h3'),
      ['CONFIG', 'SET', 'zset-max-listpack-entries', '0'],
      ['ZADD', 'z0', '1', 'a'], enc('z0'),
      ['CONFIG', 'SET', 'zset-max-listpack-entries', '128'],
      ['CONFIG', 'SET', 'zset-max-listpack-value', '2'],
      ['ZADD', 'z1', '1', 'ab'], enc('z1'), ['ZADD', 'z1', '1', 'abc'], enc('z1'),
      ['CONFIG', 'SET', 'set-max-intset-entries', '512'],
      ['CONFIG', 'SET', 'hash-max-listpack-entries', '512'],
      ['CONFIG', 'SET', 'hash-max-listpack-value', '64'],
      ['CONFIG', 'SET', 'zset-max-listpack-value', '64'],
    ]));

  test('IDLETIME and FREQ read the key: a fresh key is idle ~0 s; under LFU a new key counts 5, one read makes it 6, lookups that are not accesses leave it', () =>
    s.same([
      ['SET', 'a', '1'],
      // Idle seconds: 0, or 1 if a second boundary passed meanwhile on one server.
      { cmd: ['OBJECT', 'IDLETIME', 'a'], match: 'approx' },
      ['OBJECT', 'FREQ', 'a'],
      ['CONFIG', 'SET', 'maxmemory-policy', 'allkeys-lfu'],
      ['SET', 'f', 'v'],
      ['OBJECT', 'FREQ', 'f'],
      // The first increment from LFU_INIT_VAL is certain (p = 1); later ones are random.
      ['GET', 'f'],
      ['OBJECT', 'FREQ', 'f'],
      ['OBJECT', 'FREQ', 'f'],
      ['EXISTS', 'f'],
      ['TYPE', 'f'],
      ['TTL', 'f'],
      ['OBJECT', 'ENCODING', 'f'],
      ['SCAN', '0', 'MATCH', 'f'],
      ['OBJECT', 'FREQ', 'f'],
      ['OBJECT', 'FREQ', 'missing'],
      ['OBJECT', 'IDLETIME', 'f'],
      ['CONFIG', 'SET', 'maxmemory-policy', 'noeviction'],
    ]));

  test('HELP, FREQ and IDLETIME policy errors, arity and unknown subcommands', () =>
    s.same([
      ['OBJECT', 'HELP'],
      ['OBJECT', 'help'],
      ['SET', 'a', '1'],
      ['OBJECT', 'FREQ', 'a'],
      ['OBJECT', 'FREQ', 'nokey'],
      ['OBJECT', 'IDLETIME', 'nokey'],
      ['CONFIG', 'SET', 'maxmemory-policy', 'allkeys-lfu'],
      ['OBJECT', 'IDLETIME', 'a'],
      ['CONFIG', 'SET', 'maxmemory-policy', 'noeviction'],
      ['OBJECT'],
      ['OBJECT', 'ENCODING'],
      ['OBJECT', 'ENCODING', 'a', 'b'],
      ['OBJECT', 'HELP', 'x'],
      ['OBJECT', 'BOGUS', 'a'],
      ['HSET', 'h', 'f', 'v'],
      ['HSCAN', 'h', '0'],
    ]));
});
