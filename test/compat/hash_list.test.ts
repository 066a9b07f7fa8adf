// Differential: hash and list commands (src/commands/hash.ts, list.ts, shared
// with the book protocol) against a real redis-server over RESP, byte for byte.
import { describe, test } from 'vitest';
import { useServers } from './harness.js';

const binary = Buffer.from([0, 255, 13, 10, 1]);

describe('hashes', () => {
  const s = useServers();
  test('the hash family', () =>
    s.same([
      ['HSET', 'h', 'a', '1', 'b', '2'],
      ['HSET', 'h', 'a', '10', 'c', '3'],
      ['HSET', 'h', 'a'],
      ['HSETNX', 'h', 'a', 'x'],
      ['HSETNX', 'h', 'd', '4'],
      ['HGET', 'h', 'a'],
      ['HGET', 'h', 'nope'],
      ['HGET', 'nokey', 'a'],
      ['HMGET', 'h', 'a', 'nope', 'b'],
      ['HMGET', 'nokey', 'a'],
      ['HMSET', 'h', 'e', '5'],
      ['HMSET', 'h', 'e'],
      ['HLEN', 'h'],
      ['HLEN', 'nokey'],
      ['HEXISTS', 'h', 'a'],
      ['HEXISTS', 'h', 'nope'],
      { cmd: ['HGETALL', 'h'], match: 'unordered' },
      ['HGETALL', 'nokey'],
      { cmd: ['HKEYS', 'h'], match: 'unordered' },
      { cmd: ['HVALS', 'h'], match: 'unordered' },
      ['HSTRLEN', 'h', 'a'],
      ['HSTRLEN', 'h', 'nope'],
      ['HINCRBY', 'h', 'n', '5'],
      ['HINCRBY', 'h', 'n', '-10'],
      ['HINCRBY', 'h', 'a', 'x'],
      ['HINCRBY', 'h', 'e', '9223372036854775807'],
      ['HINCRBY', 'h', 'e', '9223372036854775807'],
      ['HINCRBYFLOAT', 'h', 'f', '1.5'],
      ['HINCRBYFLOAT', 'h', 'f', '0.1'],
      ['HINCRBYFLOAT', 'h', 'f', 'x'],
      ['HDEL', 'h', 'a', 'nope', 'b'],
      ['HDEL', 'nokey', 'a'],
      ['HSET', 'bin', binary, binary],
      ['HGET', 'bin', binary],
      ['HDEL', 'bin', binary],
      ['EXISTS', 'bin'],
      ['SET', 'str', 'v'],
      ['HSET', 'str', 'a', '1'],
      ['HGET', 'str', 'a'],
      ['HGETALL', 'str'],
      ['HLEN', 'str'],
      ['HINCRBY', 'str', 'a', '1'],
    ]));
});

describe('HINCRBYFLOAT in long double', () => {
  const s = useServers();
  // Redis adds in long double: 0.3 + 5000 reads 5000.29999999999999982.
  // src/commands/longdouble.ts's incrByFloatText computes exactly that (INCRBYFLOAT uses it).
  test('sums that show long double rounding', () =>
    s.same([
      ['HSET', 'h', 'g', '0.3'],
      ['HINCRBYFLOAT', 'h', 'g', '5000'],
      ['HINCRBYFLOAT', 'h', 'g', '1e-5'],
    ]));
});

describe('lists', () => {
  const s = useServers();
  test('the list family', () =>
    s.same([
      ['RPUSH', 'l', 'a', 'b', 'c'],
      ['LPUSH', 'l', 'z', 'y'],
      ['LPUSHX', 'l', 'x'],
      ['RPUSHX', 'l', 'd'],
      ['LPUSHX', 'nokey', 'x'],
      ['RPUSHX', 'nokey', 'x'],
      ['EXISTS', 'nokey'],
      ['LLEN', 'l'],
      ['LLEN', 'nokey'],
      ['LRANGE', 'l', '0', '-1'],
      ['LRANGE', 'l', '-3', '-2'],
      ['LRANGE', 'l', '5', '1'],
      ['LRANGE', 'l', '-100', '100'],
      ['LRANGE', 'l', '50', '100'],
      ['LRANGE', 'nokey', '0', '-1'],
      ['LRANGE', 'l', 'x', '1'],
      ['LINDEX', 'l', '0'],
      ['LINDEX', 'l', '-1'],
      ['LINDEX', 'l', '100'],
      ['LINDEX', 'nokey', '0'],
      ['LSET', 'l', '0', 'X'],
      ['LSET', 'l', '-1', 'D'],
      ['LSET', 'l', '100', 'x'],
      ['LSET', 'nokey', '0', 'x'],
      ['LPOP', 'l'],
      ['RPOP', 'l'],
      ['LPOP', 'l', '2'],
      ['RPOP', 'l', '0'],
      ['LPOP', 'l', '-1'],
      ['LPOP', 'nokey'],
      ['LPOP', 'nokey', '2'],
      ['RPUSH', 't', '1', '2', '3', '4', '5', '2', '2'],
      ['LTRIM', 't', '1', '-2'],
      ['LRANGE', 't', '0', '-1'],
      ['LREM', 't', '1', '2'],
      ['LREM', 't', '-1', '2'],
      ['LREM', 't', '0', '9'],
      ['LRANGE', 't', '0', '-1'],
      ['LINSERT', 't', 'BEFORE', '3', 'x'],
      ['LINSERT', 't', 'AFTER', '5', 'y'],
      ['LINSERT', 't', 'AFTER', 'nope', 'y'],
      ['LINSERT', 'nokey', 'AFTER', '5', 'y'],
      ['LINSERT', 't', 'MIDDLE', '5', 'y'],
      ['LRANGE', 't', '0', '-1'],
      ['RPUSH', 'p', 'a', 'b', 'c', 'b', 'a', 'b'],
      ['LPOS', 'p', 'b'],
      ['LPOS', 'p', 'b', 'RANK', '2'],
      ['LPOS', 'p', 'b', 'RANK', '-1'],
      ['LPOS', 'p', 'b', 'COUNT', '0'],
      ['LPOS', 'p', 'b', 'COUNT', '2', 'RANK', '-1'],
      ['LPOS', 'p', 'b', 'MAXLEN', '2', 'COUNT', '0'],
      ['LPOS', 'p', 'z'],
      ['LPOS', 'p', 'z', 'COUNT', '1'],
      ['LPOS', 'p', 'b', 'RANK', '0'],
      ['LPOS', 'nokey', 'b'],
      ['LTRIM', 'p', '5', '1'],
      ['EXISTS', 'p'],
      ['RPUSH', 'bin', binary],
      ['LRANGE', 'bin', '0', '-1'],
      ['SET', 'str', 'v'],
      ['LPUSH', 'str', 'a'],
      ['LRANGE', 'str', '0', '1'],
      ['LLEN', 'str'],
      ['LPOP', 'str'],
    ]));
});
