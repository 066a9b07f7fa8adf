// Differential: keyspace commands against a real redis-server, byte for byte.
import { describe, test } from 'vitest';
import { useServers } from './harness.js';

const FAR = '4102444800';

describe('keys', () => {
  const s = useServers();

  test('DEL UNLINK EXISTS TYPE DBSIZE', () =>
    s.same([
      ['MSET', 'a', '1', 'b', '2', 'c', '3'],
      ['LPUSH', 'l', 'x'],
      ['SADD', 's', 'x'],
      ['ZADD', 'z', '1', 'x'],
      ['HSET', 'h', 'f', 'v'],
      ['TYPE', 'a'],
      ['TYPE', 'l'],
      ['TYPE', 's'],
      ['TYPE', 'z'],
      ['TYPE', 'h'],
      ['TYPE', 'nokey'],
      ['EXISTS', 'a', 'a', 'nokey', 'b'],
      ['DBSIZE'],
      ['DEL', 'a', 'nokey', 'a'],
      ['UNLINK', 'b', 'c', 'l'],
      ['EXISTS', 'a', 'b', 'c', 'l'],
      ['DBSIZE'],
      ['DEL'],
    ]));

  test('KEYS with glob patterns', () =>
    s.same([
      ['MSET', 'hello', '1', 'hallo', '2', 'hxllo', '3', 'hllo', '4', 'heeeello', '5', 'h[a]llo', '6', 'x*y', '7', 'H', '8'],
      { cmd: ['KEYS', '*'], match: 'unordered' },
      { cmd: ['KEYS', 'h?llo'], match: 'unordered' },
      { cmd: ['KEYS', 'h*llo'], match: 'unordered' },
      { cmd: ['KEYS', 'h[ae]llo'], match: 'unordered' },
      { cmd: ['KEYS', 'h[^e]llo'], match: 'unordered' },
      { cmd: ['KEYS', 'h[a-b]llo'], match: 'unordered' },
      { cmd: ['KEYS', 'h[b-a]llo'], match: 'unordered' },
      { cmd: ['KEYS', 'h\\[a\\]llo'], match: 'unordered' },
      { cmd: ['KEYS', 'x\\*y'], match: 'unordered' },
      { cmd: ['KEYS', '*e*e*'], match: 'unordered' },
      { cmd: ['KEYS', 'h'], match: 'unordered' },
      { cmd: ['KEYS', 'h[a'], match: 'unordered' },
      { cmd: ['KEYS', '[]'], match: 'unordered' },
      { cmd: ['KEYS', '**'], match: 'unordered' },
      { cmd: ['KEYS', 'nomatch*'], match: 'unordered' },
      { cmd: ['KEYS', '?'], match: 'unordered' },
    ]));

  test('SCAN', () =>
    s.same([
      ['MSET', 'k1', '1', 'k2', '2', 'other', '3'],
      ['SADD', 'kset', 'a'],
      { cmd: ['SCAN', '0', 'COUNT', '100'], match: 'unordered' },
      { cmd: ['SCAN', '0', 'MATCH', 'k*', 'COUNT', '100'], match: 'unordered' },
      { cmd: ['SCAN', '0', 'TYPE', 'set', 'COUNT', '100'], match: 'unordered' },
      { cmd: ['SCAN', '0', 'TYPE', 'string', 'MATCH', 'k?', 'COUNT', '100'], match: 'unordered' },
      ['SCAN', 'x'],
      ['SCAN', '-'],
      ['SCAN', '0', 'COUNT', '0'],
      ['SCAN', '0', 'COUNT', 'x'],
      ['SCAN', '0', 'MATCH'],
      ['SCAN', '0', 'BOGUS', '1'],
      ['SCAN', '18446744073709551616'],
    ]));

  test('RENAME RENAMENX', () =>
    s.same([
      ['SET', 'a', '1'],
      ['EXPIRE', 'a', '100'],
      ['RENAME', 'a', 'b'],
      ['TTL', 'b'],
      ['GET', 'a'],
      ['RENAME', 'nokey', 'x'],
      ['RENAMENX', 'nokey', 'x'],
      ['RENAME', 'b', 'b'],
      ['RENAMENX', 'b', 'b'],
      ['SET', 'c', '3'],
      ['RENAMENX', 'b', 'c'],
      ['RENAMENX', 'b', 'd'],
      ['LPUSH', 'l', 'x'],
      ['RENAME', 'l', 'd'],
      ['TYPE', 'd'],
      ['TTL', 'd'],
    ]));

  test('EXPIRE family, TTL, PTTL, PERSIST', () =>
    s.same([
      ['SET', 'k', 'v'],
      ['TTL', 'k'],
      ['PTTL', 'k'],
      ['TTL', 'nokey'],
      ['PTTL', 'nokey'],
      ['EXPIRE', 'k', '100'],
      ['TTL', 'k'],
      ['EXPIRE', 'k', '200', 'NX'],
      ['EXPIRE', 'k', '200', 'XX'],
      ['TTL', 'k'],
      ['EXPIRE', 'k', '100', 'GT'],
      ['EXPIRE', 'k', '300', 'GT'],
      ['TTL', 'k'],
      ['EXPIRE', 'k', '400', 'LT'],
      ['EXPIRE', 'k', '50', 'LT'],
      ['TTL', 'k'],
      ['EXPIRE', 'k', '10', 'NX', 'XX'],
      ['EXPIRE', 'k', '10', 'GT', 'LT'],
      ['EXPIRE', 'k', '10', 'FOO'],
      ['EXPIRE', 'k', 'abc'],
      ['EXPIRE', 'k', '9223372036854775807'],
      ['PEXPIRE', 'k', '9223372036854775807'],
      ['PERSIST', 'k'],
      ['PERSIST', 'k'],
      ['PERSIST', 'nokey'],
      ['EXPIRE', 'k', '100', 'XX'],
      ['EXPIRE', 'k', '100', 'GT'],
      ['EXPIRE', 'k', '100', 'LT'],
      ['TTL', 'k'],
      ['PERSIST', 'k'],
      ['PEXPIRE', 'k', '100000'],
      { cmd: ['PTTL', 'k'], match: 'approx' },
      ['EXPIREAT', 'k', FAR],
      { cmd: ['TTL', 'k'], match: 'approx' },
      ['PEXPIREAT', 'k', FAR + '000'],
      { cmd: ['TTL', 'k'], match: 'approx' },
      ['EXPIRE', 'nokey', '100'],
      ['EXPIRE', 'k', '-1'],
      ['EXISTS', 'k'],
      ['SET', 'k', 'v'],
      ['EXPIREAT', 'k', '1'],
      ['GET', 'k'],
      ['SET', 'k', 'v'],
      ['PEXPIRE', 'k', '0'],
      ['GET', 'k'],
      ['EXPIRE', 'k'],
    ]));

  test('FLUSHDB FLUSHALL RANDOMKEY', () =>
    s.same([
      ['RANDOMKEY'],
      ['SET', 'only', '1'],
      ['RANDOMKEY'],
      ['FLUSHDB', 'ASYNC'],
      ['DBSIZE'],
      ['SET', 'a', '1'],
      ['FLUSHALL', 'SYNC'],
      ['DBSIZE'],
      ['FLUSHALL', 'bogus'],
      ['FLUSHDB', 'a', 'b'],
    ]));
});

describe('TTL interactions', () => {
  const s = useServers();

  test('what keeps, moves or drops a TTL; expired keys are gone everywhere', () =>
    s.same([
      ['SET', 'a', '1'],
      ['SET', 'b', '2', 'EX', '100'],
      ['RENAME', 'a', 'b'],
      ['TTL', 'b'],
      ['SET', 'c', 'x', 'EX', '100'],
      ['APPEND', 'c', 'y'],
      ['SETRANGE', 'c', '0', 'z'],
      ['INCRBYFLOAT', 'n', '1'],
      ['TTL', 'c'],
      ['SADD', 's1', 'a'],
      ['SADD', 'dst', 'x'],
      ['EXPIRE', 'dst', '100'],
      ['SUNIONSTORE', 'dst', 's1', 'dst'],
      ['TTL', 'dst'],
      ['ZADD', 'z', '1', 'a'],
      ['EXPIRE', 'z', '100'],
      ['ZADD', 'z', '2', 'b'],
      ['ZREM', 'z', 'a'],
      ['TTL', 'z'],
      ['SET', 'gone', 'v', 'PX', '30'],
      ['SADD', 'gone-set', 'm'],
      ['PEXPIRE', 'gone-set', '30'],
      ['ZADD', 'gone-z', '1', 'm'],
      ['PEXPIRE', 'gone-z', '30'],
      { sleepMs: 120 },
      ['GET', 'gone'],
      ['EXISTS', 'gone', 'gone-set', 'gone-z'],
      ['TYPE', 'gone-set'],
      ['TTL', 'gone'],
      ['SCARD', 'gone-set'],
      ['ZCARD', 'gone-z'],
      { cmd: ['KEYS', 'gone*'], match: 'unordered' },
      ['SADD', 'gone-set', 'fresh'],
      ['TTL', 'gone-set'],
      ['RENAME', 'gone', 'x'],
      ['SETNX', 'gone', 'again'],
      ['TTL', 'gone'],
    ]));
});
