// Differential: SINTERCARD, SMOVE and HRANDFIELD against a real redis-server.
import { describe, expect, test } from 'vitest';
import { parseReply } from '../../src/protocol/resp.js';
import { flatPairs, useServers } from './harness.js';

describe('sets: SINTERCARD SMOVE', () => {
  const s = useServers();

  test('SINTERCARD', () =>
    s.same([
      ['SADD', 'a', '1', '2', '3', '4', '5'],
      ['SADD', 'b', '2', '3', '4', '9'],
      ['SADD', 'c', '3', '4', '7'],
      ['SINTERCARD', '1', 'a'],
      ['SINTERCARD', '2', 'a', 'b'],
      ['SINTERCARD', '3', 'a', 'b', 'c'],
      ['SINTERCARD', '2', 'a', 'a'],
      ['SINTERCARD', '2', 'a', 'b', 'LIMIT', '2'],
      ['SINTERCARD', '2', 'a', 'b', 'limit', '0'],
      ['SINTERCARD', '2', 'a', 'b', 'LIMIT', '100'],
      ['SINTERCARD', '2', 'a', 'b', 'LIMIT', '1', 'LIMIT', '3'],
      ['SINTERCARD', '2', 'a', 'nokey'],
      ['SINTERCARD', '1', 'nokey'],
      ['SINTERCARD', '2', 'a', 'b', 'LIMIT', '-1'],
      ['SINTERCARD', '2', 'a', 'b', 'LIMIT', 'x'],
      ['SINTERCARD', '2', 'a', 'b', 'LIMIT'],
      ['SINTERCARD', '2', 'a', 'b', 'BOGUS'],
      ['SINTERCARD', '0', 'a'],
      ['SINTERCARD', '-1', 'a'],
      ['SINTERCARD', 'x', 'a'],
      ['SINTERCARD', '3', 'a', 'b'],
      ['SINTERCARD', '9223372036854775808', 'a'],
      ['SET', 'str', 'v'],
      ['SINTERCARD', '2', 'a', 'str'],
      ['SINTERCARD', '2', 'nokey', 'str'],
      ['SINTERCARD', '2', 'str', 'a', 'BOGUS'],
      ['ZADD', 'z', '1', '1'],
      ['SINTERCARD', '2', 'a', 'z'],
      ['SINTERCARD', '1'],
    ]));

  test('SMOVE', () =>
    s.same([
      ['SADD', 'src', 'a', 'b', 'c'],
      ['SADD', 'dst', 'x', 'c'],
      ['SMOVE', 'src', 'dst', 'a'],
      ['SMOVE', 'src', 'dst', 'a'],
      ['SMOVE', 'src', 'dst', 'c'],
      { cmd: ['SMEMBERS', 'src'], match: 'unordered' },
      { cmd: ['SMEMBERS', 'dst'], match: 'unordered' },
      ['SMOVE', 'src', 'new', 'b'],
      ['EXISTS', 'src'],
      ['SMEMBERS', 'new'],
      ['SMOVE', 'new', 'new', 'b'],
      ['SMOVE', 'new', 'new', 'zz'],
      ['SMEMBERS', 'new'],
      ['SMOVE', 'nokey', 'dst', 'a'],
      ['SET', 'str', 'v'],
      ['SMOVE', 'nokey', 'str', 'a'],
      ['SMOVE', 'dst', 'str', 'x'],
      ['SMOVE', 'str', 'dst', 'x'],
      ['SMOVE', 'dst', 'str', 'nomember'],
      ['SMOVE', 'str', 'str', 'x'],
      ['SADD', 'ttl', 'm'],
      ['EXPIRE', 'ttl', '100'],
      ['SMOVE', 'dst', 'ttl', 'x'],
      ['TTL', 'ttl'],
      ['SCARD', 'ttl'],
      ['SMOVE', 'src', 'dst'],
      ['SMOVE', 'src', 'dst', 'a', 'b'],
    ]));
});

describe('hashes: HRANDFIELD', () => {
  const s = useServers();

  test('errors, missing keys, whole-hash and single-field replies', () =>
    s.same([
      ['HSET', 'one', 'f', 'v'],
      ['HRANDFIELD', 'one'],
      ['HRANDFIELD', 'one', '1'],
      ['HRANDFIELD', 'one', '1', 'WITHVALUES'],
      ['HRANDFIELD', 'one', '-3', 'withvalues'],
      ['HRANDFIELD', 'one', '-2'],
      ['HRANDFIELD', 'one', '0'],
      ['HSET', 'h', 'a', '1', 'b', '2', 'c', '3', 'd', '4', 'e', '5', 'f', '6', 'g', '7', 'h', '8'],
      ['HDEL', 'h', 'c'],
      ['HSET', 'h', 'c', '33', 'a', '11'],
      ['HRANDFIELD', 'h', '8'],
      ['HRANDFIELD', 'h', '100', 'WITHVALUES'],
      ['HRANDFIELD', 'h', '9223372036854775807'],
      ['HRANDFIELD', 'h', '4611686018427387903', 'WITHVALUES'],
      { cmd: ['HRANDFIELD', 'h'], match: 'shape' },
      { cmd: ['HRANDFIELD', 'h', '1'], match: 'shape' },
      { cmd: ['HRANDFIELD', 'h', '3'], match: 'shape' },
      { cmd: ['HRANDFIELD', 'h', '7', 'WITHVALUES'], match: 'shape' },
      { cmd: ['HRANDFIELD', 'h', '-20'], match: 'shape' },
      { cmd: ['HRANDFIELD', 'h', '-20', 'WITHVALUES'], match: 'shape' },
      ['HRANDFIELD', 'nokey'],
      ['HRANDFIELD', 'nokey', '3'],
      ['HRANDFIELD', 'nokey', '-3', 'WITHVALUES'],
      ['HRANDFIELD', 'nokey', 'x'],
      ['HRANDFIELD', 'h', 'x'],
      ['HRANDFIELD', 'h', '1', 'WITHSCORES'],
      ['HRANDFIELD', 'h', '1', 'WITHVALUES', 'x'],
      ['HRANDFIELD', 'h', 'x', 'BOGUS'],
      ['HRANDFIELD', 'h', '-9223372036854775808'],
      ['HRANDFIELD', 'h', '4611686018427387904', 'WITHVALUES'],
      ['HRANDFIELD', 'h', '-4611686018427387904', 'WITHVALUES'],
      ['HRANDFIELD', 'nokey', '4611686018427387904', 'WITHVALUES'],
      ['SET', 'str', 'v'],
      ['HRANDFIELD', 'str'],
      ['HRANDFIELD', 'str', '2'],
      ['HRANDFIELD', 'str', '0'],
      ['HRANDFIELD', 'str', 'x'],
    ]));

  test('picks are fields paired with their values; a positive count never repeats one', async () => {
    const fields = Array.from({ length: 40 }, (_, i) => [`f${i}`, `v${i}`]).flat();
    await s.same([['HSET', 'big', ...fields]]);
    for (const count of ['2', '15', '39', '-60']) {
      const reply = parseReply(await s.ours.call(['HRANDFIELD', 'big', count, 'WITHVALUES']))!.reply;
      const text = flatPairs(reply, s.resp);
      const names = text.filter((_, i) => i % 2 === 0);
      expect(names.length).toBe(Math.abs(Number(count)));
      names.forEach((f, i) => expect(`f${text[2 * i + 1].slice(1)}`).toBe(f));
      for (const f of names) expect(Number(f.slice(1))).toBeLessThan(40);
      if (Number(count) > 0) expect(new Set(names).size).toBe(names.length);
    }
  });
});
