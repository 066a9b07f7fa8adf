// Differential, randomised: seeded streams of commands drawn from every
// family, over a handful of keys (so types collide and WRONGTYPE, empty and
// missing cases come up), run against redis-server and redloop and compared.
// Commands whose reply Redis leaves open (order of set members, random picks)
// are compared as multisets or by shape.
import { describe, test } from 'vitest';
import { useServers, type Step } from './harness.js';
import { prng } from '../../src/util/prng.js';


function generate(seed: number, n: number): Step[] {
  const r = prng(seed);
  const pick = <T>(a: readonly T[]): T => a[Math.floor(r() * a.length)];
  const int = (lo: number, hi: number) => String(lo + Math.floor(r() * (hi - lo + 1)));
  const key = () => pick(['a', 'b', 'c', 'd']);
  const member = () => pick(['m1', 'm2', 'm3', 'm4', 'm5', '', 'x y', '\u00ff']);
  const value = () => pick(['0', '1', '-7', '10', '3.5', 'abc', '', '9223372036854775807', '00', ' 1']);
  const score = () => pick(['0', '1', '-1', '2.5', '1e3', '-inf', '+inf', '0.1', 'x']);
  const idx = () => int(-6, 6);
  const bound = () => pick(['-inf', '+inf', '0', '1', '(1', '2.5', '(2.5', '-1', 'x']);
  const lex = () => pick(['-', '+', '[m2', '(m2', '[m4', '(m1', 'm1']);
  const gens: (() => Step)[] = [
    () => ['SET', key(), value()],
    () => ['GET', key()],
    () => ['APPEND', key(), value()],
    () => ['INCR', key()],
    () => ['DECRBY', key(), int(-3, 3)],
    () => ['INCRBYFLOAT', key(), pick(['0.5', '-1.25', '3', 'x'])],
    () => ['GETRANGE', key(), idx(), idx()],
    () => ['SETRANGE', key(), int(0, 5), value()],
    () => ['STRLEN', key()],
    () => ['SUBSTR', key(), idx(), idx()],
    () => ['LCS', key(), key(), ...(r() < 0.5 ? [pick(['LEN', 'IDX', 'IDX', 'MINMATCHLEN'])] : [])],
    () => ['MGET', key(), key()],
    () => ['MSETNX', key(), value(), key(), value()],
    () => ['GETDEL', key()],
    () => ['DEL', key(), key()],
    () => ['EXISTS', key(), key()],
    () => ['TYPE', key()],
    () => ['RENAME', key(), key()],
    () => ['RENAMENX', key(), key()],
    () => ['EXPIRE', key(), int(50, 100), ...(r() < 0.5 ? [pick(['NX', 'XX', 'GT', 'LT'])] : [])],
    () => ['PERSIST', key()],
    () => ['COPY', key(), key(), ...(r() < 0.5 ? ['REPLACE'] : [])],
    () => ['TOUCH', key(), key()],
    () => ({ cmd: [pick(['EXPIRETIME', 'PEXPIRETIME']), key()], match: 'approx' }),
    () => [pick(['HSCAN', 'ZSCAN']), key(), '0', ...(r() < 0.3 ? ['MATCH', pick(['m*', '*1', '?'])] : [])],
    () => ({ cmd: ['SSCAN', key(), '0', ...(r() < 0.3 ? ['MATCH', pick(['m*', '*1', '?'])] : [])], match: 'unordered' }),
    () => ['TTL', key()],
    () => ({ cmd: ['KEYS', pick(['*', '?', '[ab]', '*c*'])], match: 'unordered' }),
    () => ['SADD', key(), member(), member()],
    () => ['SREM', key(), member()],
    () => ['SISMEMBER', key(), member()],
    () => ['SMISMEMBER', key(), member(), member()],
    () => ({ cmd: ['SMEMBERS', key()], match: 'unordered' }),
    () => ['SCARD', key()],
    () => ({ cmd: [pick(['SINTER', 'SUNION', 'SDIFF']), key(), key()], match: 'unordered' }),
    () => [pick(['SINTERSTORE', 'SUNIONSTORE', 'SDIFFSTORE']), key(), key(), key()],
    () => ['SINTERCARD', '2', key(), key(), ...(r() < 0.3 ? ['LIMIT', int(0, 2)] : [])],
    () => ['SMOVE', key(), key(), member()],
    () => ['ZADD', key(), ...(r() < 0.3 ? [pick(['NX', 'XX', 'GT', 'LT', 'CH', 'INCR'])] : []), score(), member()],
    () => ['ZINCRBY', key(), score(), member()],
    () => ['ZREM', key(), member(), member()],
    () => ['ZSCORE', key(), member()],
    () => ['ZMSCORE', key(), member(), member()],
    () => ['ZCARD', key()],
    () => ['ZCOUNT', key(), bound(), bound()],
    () => [pick(['ZRANK', 'ZREVRANK']), key(), member()],
    () => ['ZRANGE', key(), idx(), idx(), ...(r() < 0.5 ? ['WITHSCORES'] : []), ...(r() < 0.3 ? ['REV'] : [])],
    () => ['ZRANGE', key(), bound(), bound(), 'BYSCORE', ...(r() < 0.4 ? ['LIMIT', int(-1, 3), int(-1, 3)] : []), ...(r() < 0.3 ? ['REV'] : [])],
    () => ['ZRANGEBYSCORE', key(), bound(), bound(), ...(r() < 0.5 ? ['WITHSCORES'] : [])],
    () => ['ZREVRANGEBYSCORE', key(), bound(), bound(), ...(r() < 0.4 ? ['LIMIT', int(0, 2), int(-1, 3)] : [])],
    () => ['ZREVRANGE', key(), idx(), idx()],
    () => [pick(['ZPOPMIN', 'ZPOPMAX']), key(), ...(r() < 0.5 ? [int(0, 3)] : [])],
    () => ['ZREMRANGEBYRANK', key(), idx(), idx()],
    () => ['ZREMRANGEBYSCORE', key(), bound(), bound()],
    () => ['HSET', key(), member(), value()],
    () => ['HGET', key(), member()],
    () => ['HINCRBY', key(), member(), int(-5, 5)],
    () => ({ cmd: ['HGETALL', key()], match: 'unordered' }),
    () => ['HDEL', key(), member()],
    () => ['HRANDFIELD', key(), '20', ...(r() < 0.5 ? ['WITHVALUES'] : [])],
    () => ({ cmd: ['HRANDFIELD', key(), int(-3, 3)], match: 'shape' }),
    () => ['RPUSH', key(), member(), member()],
    () => ['LPUSH', key(), member()],
    () => ['LRANGE', key(), idx(), idx()],
    () => [pick(['LPOP', 'RPOP']), key(), ...(r() < 0.3 ? [int(0, 3)] : [])],
    () => ['LREM', key(), int(-2, 2), member()],
    () => ['LINDEX', key(), idx()],
  ];
  // Lex ranges need members of one score: a dedicated key keeps its scores at 0.
  const lexGens: (() => Step)[] = [
    () => ['ZADD', 'lex', '0', member()],
    () => ['ZRANGE', 'lex', lex(), lex(), 'BYLEX', ...(r() < 0.3 ? ['REV'] : []), ...(r() < 0.3 ? ['LIMIT', int(0, 2), int(-1, 3)] : [])],
  ];
  const steps: Step[] = [];
  for (let i = 0; i < n; i++) steps.push(r() < 0.08 ? pick(lexGens)() : pick(gens)());
  return steps;
}

describe('randomised command streams', () => {
  const s = useServers();
  // COMPAT_SEEDS=100 runs more streams (seeds 1..n); six keep the suite quick.
  const seeds = Number(process.env.COMPAT_SEEDS ?? 6);
  for (let seed = 1; seed <= seeds; seed++) {
    test(`seed ${seed}: 600 commands`, () => s.same(generate(seed, 600)));
  }
});
