// Differential: the sorted-set commands of Redis 7.0 beyond the basic ones —
// lex ranges, ZRANGESTORE, ZUNION/ZINTER/ZDIFF (and STORE), ZINTERCARD,
// ZRANDMEMBER, ZADD's flag combinations — against a real redis-server.
import { describe, test } from 'vitest';
import { flatPairs, useServers, type Step } from './harness.js';
import { prng } from '../../src/util/prng.js';

const binary = Buffer.from([0, 255, 13, 10, 1]);

describe('sorted sets: lex ranges', () => {
  const s = useServers();

  test('ZRANGEBYLEX ZREVRANGEBYLEX', () =>
    s.same([
      ['ZADD', 'lex', '0', 'a', '0', 'b', '0', 'c', '0', 'd', '0', 'e', '0', 'ab', '0', '', '0', 'B'],
      ['ZRANGEBYLEX', 'lex', '-', '+'],
      ['ZRANGEBYLEX', 'lex', '[b', '[d'],
      ['ZRANGEBYLEX', 'lex', '(a', '(d'],
      ['ZRANGEBYLEX', 'lex', '[a', '(b'],
      ['ZRANGEBYLEX', 'lex', '[', '[a'],
      ['ZRANGEBYLEX', 'lex', '(', '+'],
      ['ZRANGEBYLEX', 'lex', '-', '[B'],
      ['ZRANGEBYLEX', 'lex', '+', '-'],
      ['ZRANGEBYLEX', 'lex', '[e', '[a'],
      ['ZRANGEBYLEX', 'lex', '[c', '[c'],
      ['ZRANGEBYLEX', 'lex', '(c', '[c'],
      ['ZRANGEBYLEX', 'lex', '[c', '(c'],
      ['ZRANGEBYLEX', 'lex', '-', '+', 'LIMIT', '2', '3'],
      ['ZRANGEBYLEX', 'lex', '-', '+', 'LIMIT', '2', '-1'],
      ['ZRANGEBYLEX', 'lex', '-', '+', 'LIMIT', '-1', '2'],
      ['ZRANGEBYLEX', 'lex', '-', '+', 'LIMIT', '20', '2'],
      ['ZRANGEBYLEX', 'lex', '-', '+', 'LIMIT', '0', '0'],
      ['ZRANGEBYLEX', 'lex', '-', '+', 'limit', '1', '1'],
      ['ZRANGEBYLEX', 'lex', '-', '+', 'LIMIT', 'x', '1'],
      ['ZRANGEBYLEX', 'lex', '-', '+', 'LIMIT', '1'],
      ['ZRANGEBYLEX', 'lex', '-', '+', 'WITHSCORES'],
      ['ZRANGEBYLEX', 'lex', '-', '+', 'REV'],
      ['ZRANGEBYLEX', 'lex', '-', '+', 'BYLEX'],
      ['ZRANGEBYLEX', 'lex', 'a', '+'],
      ['ZRANGEBYLEX', 'lex', '-', 'b'],
      ['ZRANGEBYLEX', 'lex', '++', '-'],
      ['ZRANGEBYLEX', 'lex', '-x', '+'],
      ['ZRANGEBYLEX', 'lex', '', '+'],
      ['ZRANGEBYLEX', 'lex', 'x', '+', 'WITHSCORES'],
      ['ZREVRANGEBYLEX', 'lex', '+', '-'],
      ['ZREVRANGEBYLEX', 'lex', '[d', '[b'],
      ['ZREVRANGEBYLEX', 'lex', '(d', '(a'],
      ['ZREVRANGEBYLEX', 'lex', '-', '+'],
      ['ZREVRANGEBYLEX', 'lex', '+', '-', 'LIMIT', '1', '3'],
      ['ZREVRANGEBYLEX', 'lex', '+', '-', 'LIMIT', '0', '-1'],
      ['ZREVRANGEBYLEX', 'lex', '[b', '[d'],
      ['ZRANGEBYLEX', 'nokey', '-', '+'],
      ['ZREVRANGEBYLEX', 'nokey', '+', '-'],
      ['ZRANGEBYLEX', 'nokey', 'bad', '+'],
      ['ZADD', 'bin', '0', binary, '0', 'a', '0', '\u00ff'],
      ['ZRANGEBYLEX', 'bin', '-', '+'],
      ['ZRANGEBYLEX', 'bin', ['(', binary.toString('latin1')].join(''), '+'],
      ['ZRANGEBYLEX', 'bin', '[\u0080', '+'],
      ['SET', 'str', 'v'],
      ['ZRANGEBYLEX', 'str', '-', '+'],
      ['ZREVRANGEBYLEX', 'str', '+', '-'],
      ['ZRANGEBYLEX', 'str', 'bad', '+'],
      ['ZRANGEBYLEX', 'lex', '-'],
      ['ZREVRANGEBYLEX', 'lex'],
    ]));

  test('ZLEXCOUNT ZREMRANGEBYLEX', () =>
    s.same([
      ['ZADD', 'lex', '0', 'a', '0', 'b', '0', 'c', '0', 'd', '0', 'e', '0', 'f'],
      ['ZLEXCOUNT', 'lex', '-', '+'],
      ['ZLEXCOUNT', 'lex', '[b', '[d'],
      ['ZLEXCOUNT', 'lex', '(b', '(d'],
      ['ZLEXCOUNT', 'lex', '+', '-'],
      ['ZLEXCOUNT', 'lex', '[d', '[b'],
      ['ZLEXCOUNT', 'lex', '[c', '(c'],
      ['ZLEXCOUNT', 'lex', '[zz', '+'],
      ['ZLEXCOUNT', 'lex', 'b', '+'],
      ['ZLEXCOUNT', 'lex', '-', '+x'],
      ['ZLEXCOUNT', 'nokey', '-', '+'],
      ['ZLEXCOUNT', 'nokey', 'x', '+'],
      ['ZLEXCOUNT', 'lex', '-'],
      ['ZLEXCOUNT', 'lex', '-', '+', 'x'],
      ['ZREMRANGEBYLEX', 'lex', '[b', '(d'],
      ['ZRANGE', 'lex', '0', '-1'],
      ['ZREMRANGEBYLEX', 'lex', '+', '-'],
      ['ZREMRANGEBYLEX', 'lex', '(e', '+'],
      ['ZREMRANGEBYLEX', 'lex', 'e', '+'],
      ['ZRANGE', 'lex', '0', '-1'],
      ['ZREMRANGEBYLEX', 'lex', '-', '+'],
      ['EXISTS', 'lex'],
      ['ZREMRANGEBYLEX', 'nokey', '-', '+'],
      ['ZREMRANGEBYLEX', 'nokey', '-', 'x'],
      ['SET', 'str', 'v'],
      ['ZLEXCOUNT', 'str', '-', '+'],
      ['ZREMRANGEBYLEX', 'str', '-', '+'],
      ['ZREMRANGEBYLEX', 'str', '-', 'x'],
      ['ZREMRANGEBYLEX', 'lex', '-'],
    ]));

  test('ZRANGE BYLEX/BYSCORE/REV/LIMIT edge cases', () =>
    s.same([
      ['ZADD', 'z', '1', 'a', '2', 'b', '3', 'c', '4', 'd'],
      ['ZRANGE', 'z', '0', '-1', 'LIMIT', '0', '-1'],
      ['ZRANGE', 'z', '0', '-1', 'LIMIT', '5', '-1'],
      ['ZRANGE', 'z', '0', '-1', 'LIMIT', '0', '-2'],
      ['ZRANGE', 'z', '0', '-1', 'REV', 'REV'],
      ['ZRANGE', 'z', '0', '-1', 'BYSCORE', 'BYSCORE'],
      ['ZRANGE', 'z', '(1', '+inf', 'BYSCORE', 'LIMIT', '1', '1', 'LIMIT', '0', '2'],
      ['ZRANGE', 'z', '+inf', '(1', 'REV', 'BYSCORE', 'WITHSCORES'],
      ['ZRANGE', 'z', '-', '+', 'BYLEX', 'REV'],
      ['ZRANGE', 'z', '+', '-', 'REV', 'BYLEX', 'LIMIT', '1', '2'],
      ['ZRANGEBYSCORE', 'z', '-inf', '+inf', 'LIMIT', '0', '-1', 'WITHSCORES'],
      ['ZREVRANGE', 'z', '0', '-1', 'LIMIT', '0', '-1'],
    ]));
});

describe('sorted sets: ZRANGESTORE', () => {
  const s = useServers();

  test('by rank, score and lex, REV, LIMIT; destination replaced or deleted', () =>
    s.same([
      ['ZADD', 'z', '1', 'a', '2', 'b', '3', 'c', '4', 'd', '5', 'e'],
      ['ZRANGESTORE', 'dst', 'z', '0', '-1'],
      ['ZRANGE', 'dst', '0', '-1', 'WITHSCORES'],
      ['ZRANGESTORE', 'dst', 'z', '1', '2'],
      ['ZRANGE', 'dst', '0', '-1', 'WITHSCORES'],
      ['ZRANGESTORE', 'dst', 'z', '0', '1', 'REV'],
      ['ZRANGE', 'dst', '0', '-1', 'WITHSCORES'],
      ['ZRANGESTORE', 'dst', 'z', '(2', '+inf', 'BYSCORE', 'LIMIT', '1', '2'],
      ['ZRANGE', 'dst', '0', '-1', 'WITHSCORES'],
      ['ZRANGESTORE', 'dst', 'z', '+inf', '-inf', 'BYSCORE', 'REV', 'LIMIT', '0', '2'],
      ['ZRANGE', 'dst', '0', '-1', 'WITHSCORES'],
      ['ZADD', 'lex', '0', 'a', '0', 'b', '0', 'c'],
      ['ZRANGESTORE', 'dst', 'lex', '[b', '+', 'BYLEX'],
      ['ZRANGE', 'dst', '0', '-1', 'WITHSCORES'],
      ['ZRANGESTORE', 'dst', 'lex', '+', '-', 'BYLEX', 'REV', 'LIMIT', '0', '1'],
      ['ZRANGE', 'dst', '0', '-1'],
      ['SET', 'other', 'v'],
      ['EXPIRE', 'other', '100'],
      ['ZRANGESTORE', 'other', 'z', '0', '0'],
      ['TYPE', 'other'],
      ['TTL', 'other'],
      ['ZRANGESTORE', 'dst', 'z', '10', '20'],
      ['EXISTS', 'dst'],
      ['ZRANGESTORE', 'other', 'nokey', '0', '-1'],
      ['EXISTS', 'other'],
      ['ZRANGESTORE', 'z', 'z', '0', '1'],
      ['ZRANGE', 'z', '0', '-1', 'WITHSCORES'],
      ['ZRANGESTORE', 'dst', 'z', '0', '-1', 'WITHSCORES'],
      ['ZRANGESTORE', 'dst', 'z', '0', '-1', 'LIMIT', '0', '1'],
      ['ZRANGESTORE', 'dst', 'z', 'x', '1'],
      ['ZRANGESTORE', 'dst', 'z', 'x', '1', 'BYSCORE'],
      ['ZRANGESTORE', 'dst', 'z', 'x', '1', 'BYLEX'],
      ['ZRANGESTORE', 'dst', 'z', '0', '1', 'BOGUS'],
      ['SET', 'str', 'v'],
      ['ZRANGESTORE', 'dst', 'str', '0', '-1'],
      ['ZRANGESTORE', 'str', 'z', '0', '-1'],
      ['TYPE', 'str'],
      ['ZRANGESTORE', 'dst', 'z', '0'],
    ]));
});

describe('sorted sets: ZUNION ZINTER ZDIFF ZINTERCARD', () => {
  const s = useServers();
  const setup: Step[] = [
    ['ZADD', 'z1', '1', 'a', '2', 'b', '3', 'c'],
    ['ZADD', 'z2', '10', 'b', '20', 'c', '30', 'd'],
    ['ZADD', 'z3', '-1', 'c', '5', 'e'],
    ['SADD', 's1', 'a', 'c', 'x'],
    ['ZADD', 'inf', 'inf', 'a', '-inf', 'b', '1', 'c'],
    ['ZADD', 'ninf', '-inf', 'a', 'inf', 'b', '2', 'c'],
  ];

  test('ZUNION and ZUNIONSTORE', () =>
    s.same([
      ...setup,
      ['ZUNION', '2', 'z1', 'z2'],
      ['ZUNION', '2', 'z1', 'z2', 'WITHSCORES'],
      ['ZUNION', '3', 'z1', 'z2', 'z3', 'WITHSCORES'],
      ['ZUNION', '2', 'z1', 'z2', 'WEIGHTS', '2', '0.5', 'WITHSCORES'],
      ['ZUNION', '2', 'z1', 'z2', 'AGGREGATE', 'MIN', 'WITHSCORES'],
      ['ZUNION', '2', 'z1', 'z2', 'AGGREGATE', 'max', 'withscores'],
      ['ZUNION', '2', 'z1', 'z2', 'aggregate', 'sum', 'WEIGHTS', '1', '-1', 'WITHSCORES'],
      ['ZUNION', '2', 'z1', 's1', 'WITHSCORES'],
      ['ZUNION', '2', 's1', 's1', 'WITHSCORES'],
      ['ZUNION', '2', 'z1', 'nokey', 'WITHSCORES'],
      ['ZUNION', '1', 'nokey'],
      ['ZUNION', '2', 'inf', 'ninf', 'WITHSCORES'],
      ['ZUNION', '2', 'inf', 'ninf', 'AGGREGATE', 'MAX', 'WITHSCORES'],
      ['ZUNION', '1', 'inf', 'WEIGHTS', '0', 'WITHSCORES'],
      ['ZUNION', '2', 'z1', 'z2', 'WEIGHTS', 'inf', '-inf', 'WITHSCORES'],
      ['ZADD', 'zero', '0', 'a'],
      ['ZUNION', '1', 'zero', 'WEIGHTS', '-1', 'WITHSCORES'],
      ['ZINTER', '1', 'zero', 'WEIGHTS', '-1', 'WITHSCORES'],
      ['ZUNIONSTORE', 'zdst', '1', 'zero', 'WEIGHTS', '-1'],
      ['ZSCORE', 'zdst', 'a'],
      ['ZUNION', '2', 'z1', 'z2', 'WEIGHTS', '1e400', '1'],
      ['ZUNION', '2', 'z1', 'z2', 'WEIGHTS', 'x', '1'],
      ['ZUNION', '2', 'z1', 'z2', 'WEIGHTS', '1'],
      ['ZUNION', '2', 'z1', 'z2', 'AGGREGATE', 'AVG'],
      ['ZUNION', '2', 'z1', 'z2', 'AGGREGATE'],
      ['ZUNION', '2', 'z1', 'z2', 'WITHSCORES', 'EXTRA'],
      ['ZUNION', '2', 'z1', 'z2', 'LIMIT', '1'],
      ['ZUNION', '0', 'z1'],
      ['ZUNION', '-1', 'z1'],
      ['ZUNION', 'x', 'z1'],
      ['ZUNION', '3', 'z1', 'z2'],
      ['ZUNION', '1'],
      ['ZUNIONSTORE', 'dst', '2', 'z1', 'z2'],
      ['ZRANGE', 'dst', '0', '-1', 'WITHSCORES'],
      ['ZUNIONSTORE', 'dst', '2', 'z1', 'z2', 'WEIGHTS', '1', '2', 'AGGREGATE', 'MAX'],
      ['ZRANGE', 'dst', '0', '-1', 'WITHSCORES'],
      ['ZUNIONSTORE', 'dst', '2', 'z1', 'z2', 'WITHSCORES'],
      ['ZUNIONSTORE', 'z1', '2', 'z1', 's1'],
      ['ZRANGE', 'z1', '0', '-1', 'WITHSCORES'],
      ['ZUNIONSTORE', 'dst', '1', 'nokey'],
      ['EXISTS', 'dst'],
      ['ZUNIONSTORE', 'dst', '0', 'z1'],
      ['SET', 'str', 'v'],
      ['EXPIRE', 'str', '100'],
      ['ZUNION', '2', 'z1', 'str'],
      ['ZUNION', '2', 'z1', 'str', 'BOGUS'],
      ['ZUNION', '2', 'str', 'z1', 'WEIGHTS', 'x', 'y'],
      ['ZUNIONSTORE', 'str', '1', 'z2'],
      ['TYPE', 'str'],
      ['TTL', 'str'],
      ['ZUNIONSTORE', 'dst', '1'],
    ]));

  test('ZINTER and ZINTERSTORE', () =>
    s.same([
      ...setup,
      ['ZINTER', '2', 'z1', 'z2'],
      ['ZINTER', '2', 'z1', 'z2', 'WITHSCORES'],
      ['ZINTER', '3', 'z1', 'z2', 'z3', 'WITHSCORES'],
      ['ZINTER', '2', 'z1', 'z2', 'WEIGHTS', '2', '3', 'WITHSCORES'],
      ['ZINTER', '2', 'z1', 'z2', 'AGGREGATE', 'MIN', 'WITHSCORES'],
      ['ZINTER', '2', 'z1', 'z2', 'AGGREGATE', 'MAX', 'WITHSCORES'],
      ['ZINTER', '2', 'z1', 's1', 'WITHSCORES'],
      ['ZINTER', '2', 's1', 'z1', 'WEIGHTS', '5', '1', 'WITHSCORES'],
      ['ZINTER', '2', 'z1', 'z1', 'WITHSCORES'],
      ['ZINTER', '2', 'z1', 'nokey'],
      ['ZINTER', '2', 'nokey', 'z1', 'WITHSCORES'],
      ['ZINTER', '2', 'inf', 'ninf', 'WITHSCORES'],
      ['ZINTER', '2', 'inf', 'ninf', 'AGGREGATE', 'MIN', 'WITHSCORES'],
      ['ZINTER', '2', 'inf', 'ninf', 'WEIGHTS', '0', '1', 'WITHSCORES'],
      ['ZINTER', '2', 'z1', 'z2', 'WEIGHTS', '1', 'nan'],
      ['ZINTER', '0', 'z1'],
      ['ZINTER', '2', 'z1'],
      ['ZINTERSTORE', 'dst', '2', 'z1', 'z2'],
      ['ZRANGE', 'dst', '0', '-1', 'WITHSCORES'],
      ['ZINTERSTORE', 'dst', '3', 'z1', 'z2', 'z3', 'AGGREGATE', 'MIN'],
      ['ZRANGE', 'dst', '0', '-1', 'WITHSCORES'],
      ['ZINTERSTORE', 'dst', '2', 'z1', 'nokey'],
      ['EXISTS', 'dst'],
      ['ZINTERSTORE', 'dst', '2', 'z1', 's1', 'WEIGHTS', '1', '2'],
      ['ZRANGE', 'dst', '0', '-1', 'WITHSCORES'],
      ['SET', 'str', 'v'],
      ['ZINTER', '2', 'nokey', 'str'],
      ['ZINTERSTORE', 'dst', '2', 'str', 'z1'],
      ['LPUSH', 'list', 'a'],
      ['ZINTER', '1', 'list'],
    ]));

  test('ZDIFF and ZDIFFSTORE', () =>
    s.same([
      ...setup,
      ['ZDIFF', '2', 'z1', 'z2'],
      ['ZDIFF', '2', 'z1', 'z2', 'WITHSCORES'],
      ['ZDIFF', '3', 'z2', 'z1', 'z3', 'WITHSCORES'],
      ['ZDIFF', '1', 'z1', 'WITHSCORES'],
      ['ZDIFF', '2', 'z1', 's1', 'WITHSCORES'],
      ['ZDIFF', '2', 's1', 'z1', 'WITHSCORES'],
      ['ZDIFF', '2', 'z1', 'nokey', 'WITHSCORES'],
      ['ZDIFF', '2', 'nokey', 'z1'],
      ['ZDIFF', '2', 'z1', 'z1'],
      ['ZDIFF', '2', 'z1', 'z2', 'WEIGHTS', '1', '2'],
      ['ZDIFF', '2', 'z1', 'z2', 'AGGREGATE', 'SUM'],
      ['ZDIFF', '0', 'z1'],
      ['ZDIFFSTORE', 'dst', '2', 'z2', 'z1'],
      ['ZRANGE', 'dst', '0', '-1', 'WITHSCORES'],
      ['ZDIFFSTORE', 'dst', '2', 'z1', 'z1'],
      ['EXISTS', 'dst'],
      ['ZDIFFSTORE', 'dst', '1', 'z1', 'WITHSCORES'],
      ['SET', 'str', 'v'],
      ['ZDIFF', '2', 'z1', 'str'],
      ['ZDIFFSTORE', 'dst', '1', 'str'],
    ]));

  test('ZINTERCARD', () =>
    s.same([
      ...setup,
      ['ZINTERCARD', '2', 'z1', 'z2'],
      ['ZINTERCARD', '3', 'z1', 'z2', 'z3'],
      ['ZINTERCARD', '2', 'z1', 's1'],
      ['ZINTERCARD', '1', 'z1'],
      ['ZINTERCARD', '1', 'z1', 'LIMIT', '2'],
      ['ZINTERCARD', '1', 'z1', 'LIMIT', '0'],
      ['ZINTERCARD', '1', 'z1', 'LIMIT', '10'],
      ['ZINTERCARD', '1', 'z1', 'limit', '1'],
      ['ZINTERCARD', '1', 'z1', 'LIMIT', '-1'],
      ['ZINTERCARD', '1', 'z1', 'LIMIT', 'x'],
      ['ZINTERCARD', '1', 'z1', 'LIMIT'],
      ['ZINTERCARD', '1', 'z1', 'WITHSCORES'],
      ['ZINTERCARD', '1', 'z1', 'WEIGHTS', '1'],
      ['ZINTERCARD', '2', 'z1', 'nokey'],
      ['ZINTERCARD', '0', 'z1'],
      ['ZINTERCARD', '3', 'z1', 'z2'],
      ['ZINTERCARD', 'x', 'z1'],
      ['SET', 'str', 'v'],
      ['ZINTERCARD', '2', 'z1', 'str'],
      ['ZINTERCARD', '2', 'str', 'z1', 'LIMIT', '-1'],
    ]));
});

describe('sorted sets: ZRANDMEMBER and ZADD flags', () => {
  const s = useServers();

  test('ZRANDMEMBER', () =>
    s.same([
      ['ZADD', 'one', '7', 'only'],
      ['ZRANDMEMBER', 'one'],
      ['ZRANDMEMBER', 'one', '1'],
      ['ZRANDMEMBER', 'one', '1', 'WITHSCORES'],
      ['ZRANDMEMBER', 'one', '5', 'WITHSCORES'],
      ['ZRANDMEMBER', 'one', '-3'],
      ['ZRANDMEMBER', 'one', '-3', 'withscores'],
      ['ZRANDMEMBER', 'one', '0'],
      ['ZADD', 'z', '1', 'a', '2', 'b', '3', 'c', '4', 'd', '5', 'e', '6', 'f', '7', 'g', '8', 'h', '9', 'i', '10', 'j'],
      { cmd: ['ZRANDMEMBER', 'z'], match: 'shape' },
      { cmd: ['ZRANDMEMBER', 'z', '1'], match: 'shape' },
      { cmd: ['ZRANDMEMBER', 'z', '3'], match: 'shape' },
      { cmd: ['ZRANDMEMBER', 'z', '8'], match: 'shape' },
      { cmd: ['ZRANDMEMBER', 'z', '9', 'WITHSCORES'], match: 'shape' },
      { cmd: ['ZRANDMEMBER', 'z', '2', 'WITHSCORES'], match: 'shape' },
      { cmd: ['ZRANDMEMBER', 'z', '-25'], match: 'shape' },
      { cmd: ['ZRANDMEMBER', 'z', '-5', 'WITHSCORES'], match: 'shape' },
      ['ZRANDMEMBER', 'z', '10'],
      ['ZRANDMEMBER', 'z', '100', 'WITHSCORES'],
      ['ZRANDMEMBER', 'nokey'],
      ['ZRANDMEMBER', 'nokey', '3'],
      ['ZRANDMEMBER', 'nokey', '-3', 'WITHSCORES'],
      ['ZRANDMEMBER', 'nokey', 'x'],
      ['ZRANDMEMBER', 'z', 'x'],
      ['ZRANDMEMBER', 'z', '1.5'],
      ['ZRANDMEMBER', 'z', '1', 'WITHSCORE'],
      ['ZRANDMEMBER', 'z', '1', 'WITHSCORES', 'x'],
      ['ZRANDMEMBER', 'z', 'x', 'BOGUS'],
      ['ZRANDMEMBER', 'z', '-9223372036854775808'],
      ['ZRANDMEMBER', 'z', '9223372036854775807'],
      ['ZRANDMEMBER', 'z', '4611686018427387904', 'WITHSCORES'],
      ['ZRANDMEMBER', 'z', '-4611686018427387904', 'WITHSCORES'],
      ['ZRANDMEMBER', 'z', '4611686018427387903', 'WITHSCORES'],
      ['ZRANDMEMBER', 'nokey', '-4611686018427387904', 'WITHSCORES'],
      ['SET', 'str', 'v'],
      ['ZRANDMEMBER', 'str'],
      ['ZRANDMEMBER', 'str', '2'],
      ['ZRANDMEMBER', 'str', 'x'],
      ['ZRANDMEMBER', 'str', '0'],
    ]));

  test('ZRANDMEMBER with a count picks distinct members; a negative count may repeat them', async () => {
    const members = Array.from({ length: 50 }, (_, i) => [String(i), `m${i}`]).flat();
    await s.same([['ZADD', 'big', ...members]]);
    const { parseReply } = await import('../../src/protocol/resp.js');
    for (const count of ['3', '20', '40', '49']) {
      const flat = flatPairs(parseReply(await s.ours.call(['ZRANDMEMBER', 'big', count, 'WITHSCORES']))!.reply, s.resp);
      const names = flat.filter((_, i) => i % 2 === 0);
      const scores = flat.filter((_, i) => i % 2 === 1);
      if (new Set(names).size !== Number(count)) throw new Error(`ZRANDMEMBER ${count}: repeated members ${names.join(' ')}`);
      names.forEach((n, i) => {
        if (`m${scores[i]}` !== n) throw new Error(`ZRANDMEMBER ${count}: ${n} paired with score ${scores[i]}`);
      });
    }
    const rep = parseReply(await s.ours.call(['ZRANDMEMBER', 'big', '-500']))!.reply;
    if (rep.type !== 'array' || rep.items?.length !== 500) throw new Error('ZRANDMEMBER -500: not 500 picks');
    // 500 picks among 50 members repeat some by necessity; each must be a member.
    const distinct = new Set(rep.items.map((r) => (r.type === 'bulk' ? r.value!.toString() : '')));
    for (const m of distinct) if (!/^m([0-9]|[1-4][0-9])$/.test(m)) throw new Error(`picked ${m}`);
  });

  test('ZADD flag combinations', () =>
    s.same([
      ['ZADD', 'z', '1', 'a', '2', 'b'],
      ['ZADD', 'z', 'XX', 'GT', 'CH', '5', 'a', '1', 'b', '9', 'new'],
      ['ZADD', 'z', 'XX', 'LT', 'CH', '0', 'a', '3', 'b'],
      ['ZADD', 'z', 'GT', 'INCR', '1', 'a'],
      ['ZADD', 'z', 'GT', 'INCR', '-1', 'a'],
      ['ZADD', 'z', 'LT', 'INCR', '-1', 'a'],
      ['ZADD', 'z', 'LT', 'INCR', '0', 'a'],
      ['ZADD', 'z', 'NX', 'INCR', '1', 'fresh'],
      ['ZADD', 'z', 'XX', 'INCR', '1', 'fresh'],
      ['ZADD', 'z', 'CH', 'INCR', '1', 'fresh'],
      ['ZADD', 'z', 'CH', '2', 'b', '2', 'a'],
      ['ZADD', 'z', 'nx', 'ch', '1', 'a', '1', 'zz'],
      ['ZADD', 'z', 'INCR', 'inf', 'a'],
      ['ZADD', 'z', 'INCR', '-inf', 'a'],
      ['ZSCORE', 'z', 'a'],
      ['ZADD', 'z', 'GT', 'NX', 'INCR', '1', 'a'],
      ['ZADD', 'z', 'LT', 'NX', '1', 'a'],
      ['ZADD', 'z', 'XX', 'NX', 'GT', '1', 'a'],
      ['ZADD', 'z', 'INCR', '1', 'a', '1', 'b'],
      ['ZADD', 'z', 'CH'],
      ['ZADD', 'z', 'XX', 'CH', '1'],
      ['ZADD', 'z', 'GT', '1', 'a', 'x', 'b'],
      ['ZRANGE', 'z', '0', '-1', 'WITHSCORES'],
      ['ZADD', 'nokey', 'GT', 'CH', '1', 'a'],
      ['ZADD', 'nokey2', 'LT', 'INCR', '1', 'a'],
      ['ZADD', 'nokey3', 'XX', 'GT', 'CH', '1', 'a'],
      ['EXISTS', 'nokey3'],
      ['ZRANGE', 'nokey', '0', '-1', 'WITHSCORES'],
    ]));
});


/** Random streams of the commands above over a few keys (zsets, sets, a string): types collide on purpose. */
function generate(seed: number, n: number): Step[] {
  const r = prng(seed);
  const pick = <T>(a: readonly T[]): T => a[Math.floor(r() * a.length)];
  const int = (lo: number, hi: number) => String(lo + Math.floor(r() * (hi - lo + 1)));
  const key = () => pick(['a', 'b', 'c', 's', 'str']);
  const member = () => pick(['m1', 'm2', 'm3', 'm4', 'm5', '']);
  const score = () => pick(['0', '1', '-1', '2.5', 'inf', '-inf', '3']);
  const lex = () => pick(['-', '+', '[m2', '(m2', '[m4', '(m1', '[', 'm1']);
  const keys = (): string[] => {
    const k = Number(int(1, 3));
    return [String(k), ...Array.from({ length: k }, key)];
  };
  const opts = (): string[] => [
    ...(r() < 0.3 ? ['AGGREGATE', pick(['SUM', 'MIN', 'MAX'])] : []),
    ...(r() < 0.2 ? ['WEIGHTS', pick(['2', '-1', '0', 'inf'])] : []),
  ];
  const gens: (() => Step)[] = [
    () => ['ZADD', key(), ...(r() < 0.4 ? [pick(['NX', 'XX', 'GT', 'LT', 'CH', 'INCR'])] : []), score(), member()],
    () => ['ZADD', key(), score(), member(), score(), member()],
    () => ['SADD', pick(['s', 'a']), member()],
    () => ['SET', 'str', 'v'],
    () => ['ZREM', key(), member()],
    () => ['ZUNION', ...keys(), ...opts(), ...(r() < 0.5 ? ['WITHSCORES'] : [])],
    () => ['ZINTER', ...keys(), ...opts(), ...(r() < 0.5 ? ['WITHSCORES'] : [])],
    () => ['ZDIFF', ...keys(), ...(r() < 0.5 ? ['WITHSCORES'] : [])],
    () => [pick(['ZUNIONSTORE', 'ZINTERSTORE']), key(), ...keys(), ...opts()],
    () => ['ZDIFFSTORE', key(), ...keys()],
    () => ['ZINTERCARD', ...keys(), ...(r() < 0.4 ? ['LIMIT', int(0, 2)] : [])],
    () => ['ZRANGESTORE', key(), key(), int(-3, 3), int(-3, 3), ...(r() < 0.3 ? ['REV'] : [])],
    () => ['ZRANGE', key(), '0', '-1', 'WITHSCORES'],
    () => ['ZRANDMEMBER', key(), pick(['10', '-0', '0']), ...(r() < 0.5 ? ['WITHSCORES'] : [])],
    () => ({ cmd: ['ZRANDMEMBER', key(), int(-4, 4)], match: 'shape' }),
    () => ['ZCARD', key()],
  ];
  // Lex ranges need members of one score: a dedicated key keeps its scores at 0.
  const lexGens: (() => Step)[] = [
    () => ['ZADD', 'lex', '0', member()],
    () => ['ZRANGEBYLEX', 'lex', lex(), lex(), ...(r() < 0.3 ? ['LIMIT', int(-1, 2), int(-1, 3)] : [])],
    () => ['ZREVRANGEBYLEX', 'lex', lex(), lex(), ...(r() < 0.3 ? ['LIMIT', int(0, 2), int(-1, 3)] : [])],
    () => ['ZLEXCOUNT', 'lex', lex(), lex()],
    () => ['ZREMRANGEBYLEX', 'lex', lex(), lex()],
    () => ['ZRANGESTORE', 'lexdst', 'lex', lex(), lex(), 'BYLEX'],
  ];
  const steps: Step[] = [];
  for (let i = 0; i < n; i++) steps.push(r() < 0.3 ? pick(lexGens)() : pick(gens)());
  return steps;
}

describe('sorted sets: randomised streams', () => {
  const s = useServers();
  const seeds = Number(process.env.COMPAT_SEEDS ?? 4);
  for (let seed = 1; seed <= seeds; seed++) {
    test(`seed ${seed}: 400 commands`, () => s.same(generate(seed, 400)));
  }
});
