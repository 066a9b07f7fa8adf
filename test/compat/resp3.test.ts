// Differential, RESP3: every connection sends HELLO 3 first (to redis-server
// and to redloop), then each family's representative sequences are compared
// byte for byte — maps, sets, doubles, nulls (`_`), pairs, verbatim strings.
// Then HELLO itself: no arguments, bad versions, AUTH and SETNAME inside it,
// a switch back to RESP2, HELLO inside MULTI (the EXEC array changes encoding
// half way, as Redis's does). `COMPAT_RESP=3 npm run test:compat` runs the
// whole differential suite this way too.

import { describe, expect, test } from 'vitest';
import { RawClient, connectResp, maskHello, startRedis, useServers, type Step } from './harness.js';
import { startServer } from '../helpers/server.js';

describe('RESP3: command families', () => {
  const s = useServers([], { resp: 3 });

  test('strings: nulls are _, INCRBYFLOAT stays a bulk string, LCS IDX is a map', () =>
    s.same([
      ['GET', 'nokey'],
      ['SET', 'k', 'v'],
      ['SET', 'k', 'w', 'GET'],
      ['SET', 'k', 'x', 'NX'],
      ['SET', 'k2', 'x', 'NX', 'GET'],
      ['SET', 'k3', 'y', 'GET'],
      ['GETDEL', 'nokey'],
      ['GETEX', 'nokey'],
      ['GETSET', 'new', '1'],
      ['MGET', 'k', 'nokey', 'new'],
      ['INCRBYFLOAT', 'f', '1.5'],
      ['INCRBYFLOAT', 'f', '0.1'],
      ['INCR', 'n'],
      ['APPEND', 'k', '!'],
      ['GETRANGE', 'k', '0', '-1'],
      ['STRLEN', 'k'],
      ['MSETNX', 'k', '1', 'z', '2'],
      ['SET', 'a', 'ohmytext'],
      ['SET', 'b', 'mynewtext'],
      ['LCS', 'a', 'b'],
      ['LCS', 'a', 'b', 'LEN'],
      ['LCS', 'a', 'b', 'IDX'],
      ['LCS', 'a', 'b', 'IDX', 'MINMATCHLEN', '4', 'WITHMATCHLEN'],
      ['LCS', 'a', 'nokey', 'IDX'],
      ['INCR', 'k'],
    ]));

  test('keys: integers stay integers, RANDOMKEY on an empty keyspace is _', () =>
    s.same([
      ['RANDOMKEY'],
      ['SET', 'k', 'v'],
      ['EXISTS', 'k', 'nokey', 'k'],
      ['TYPE', 'k'],
      ['TYPE', 'nokey'],
      ['EXPIRE', 'k', '100'],
      { cmd: ['TTL', 'k'], match: 'approx' },
      ['PERSIST', 'k'],
      ['TTL', 'k'],
      ['PTTL', 'nokey'],
      ['EXPIRETIME', 'k'],
      ['RENAME', 'k', 'k2'],
      ['RENAMENX', 'k2', 'k2'],
      ['COPY', 'k2', 'k3'],
      { cmd: ['KEYS', '*'], match: 'unordered' },
      { cmd: ['RANDOMKEY'], match: 'shape' },
      ['TOUCH', 'k2', 'nokey'],
      ['DEL', 'k2', 'k3'],
      ['UNLINK', 'nokey'],
      ['SCAN', '0'],
      ['DBSIZE'],
    ]));

  test('hashes: HGETALL is a map (an empty one for a missing key), HRANDFIELD WITHVALUES pairs, HINCRBYFLOAT a bulk string', () =>
    s.same([
      ['HGETALL', 'nokey'],
      ['HSET', 'h', 'a', '1', 'b', '2'],
      { cmd: ['HGETALL', 'h'], match: 'unordered' },
      ['HGET', 'h', 'nope'],
      ['HMGET', 'h', 'a', 'nope'],
      ['HINCRBYFLOAT', 'h', 'a', '2.5'],
      ['HINCRBY', 'h', 'b', '1'],
      ['HEXISTS', 'h', 'a'],
      { cmd: ['HKEYS', 'h'], match: 'unordered' },
      { cmd: ['HRANDFIELD', 'h', '2', 'WITHVALUES'], match: 'unordered' },
      { cmd: ['HRANDFIELD', 'h', '-1', 'WITHVALUES'], match: 'shape' },
      ['HRANDFIELD', 'nokey'],
      ['HRANDFIELD', 'nokey', '2', 'WITHVALUES'],
      ['HSET', 'one', 'f', 'v'],
      ['HRANDFIELD', 'one', '1', 'WITHVALUES'],
      ['HRANDFIELD', 'one', '-2', 'WITHVALUES'],
      ['HGETALL', 'one'],
      ['HSCAN', 'one', '0'],
      ['HSTRLEN', 'one', 'f'],
    ]));

  test('lists: popping nothing is _ whatever was asked', () =>
    s.same([
      ['LPOP', 'nokey'],
      ['LPOP', 'nokey', '2'],
      ['RPUSH', 'l', 'a', 'b', 'c'],
      ['LRANGE', 'l', '0', '-1'],
      ['LPOP', 'l', '2'],
      ['LINDEX', 'l', '5'],
      ['LPOS', 'l', 'zz'],
      ['LPOS', 'l', 'zz', 'COUNT', '0'],
      ['LPOS', 'l', 'c'],
      ['LMPOP', '1', 'nokey', 'LEFT'],
      ['LMPOP', '2', 'nokey', 'l', 'RIGHT', 'COUNT', '5'],
      ['RPOPLPUSH', 'nokey', 'l'],
      ['LMOVE', 'nokey', 'l', 'LEFT', 'RIGHT'],
      ['RPOP', 'l', '0'],
      ['LLEN', 'l'],
    ]));

  test('sets: SMEMBERS/SINTER/SUNION/SDIFF and SPOP with a count are sets; SRANDMEMBER with a count an array; SISMEMBER an integer', () =>
    s.same([
      ['SMEMBERS', 'nokey'],
      ['SINTER', 'nokey', 's'],
      ['SUNION', 'nokey'],
      ['SDIFF', 'nokey'],
      ['SADD', 's', 'a', 'b', 'c'],
      ['SADD', 't', 'b', 'c', 'd'],
      { cmd: ['SMEMBERS', 's'], match: 'unordered' },
      { cmd: ['SINTER', 's', 't'], match: 'unordered' },
      { cmd: ['SUNION', 's', 't'], match: 'unordered' },
      { cmd: ['SDIFF', 's', 't'], match: 'unordered' },
      ['SINTERSTORE', 'd', 's', 't'],
      ['SISMEMBER', 's', 'a'],
      ['SMISMEMBER', 's', 'a', 'z'],
      ['SINTERCARD', '2', 's', 't'],
      { cmd: ['SRANDMEMBER', 's', '5'], match: 'unordered' },
      { cmd: ['SRANDMEMBER', 's', '-2'], match: 'shape' },
      ['SRANDMEMBER', 'nokey', '2'],
      ['SRANDMEMBER', 'nokey'],
      ['SPOP', 'nokey'],
      ['SPOP', 'nokey', '2'],
      ['SPOP', 's', '0'],
      { cmd: ['SPOP', 'd', '5'], match: 'unordered' },
      { cmd: ['SPOP', 's', '1'], match: 'shape' },
      ['SSCAN', 'nokey', '0'],
      ['SCARD', 's'],
    ]));

  test('sorted sets: scores are doubles, WITHSCORES replies are [member, score] pairs, pops as Redis 7.0', () =>
    s.same([
      ['ZSCORE', 'nokey', 'a'],
      ['ZADD', 'z', '1', 'a', '2.5', 'b', '-inf', 'lo', 'inf', 'hi', '1.1', 'c'],
      ['ZSCORE', 'z', 'a'],
      ['ZSCORE', 'z', 'c'],
      ['ZSCORE', 'z', 'lo'],
      ['ZSCORE', 'z', 'hi'],
      ['ZSCORE', 'z', 'nope'],
      ['ZMSCORE', 'z', 'a', 'nope', 'hi'],
      ['ZINCRBY', 'z', '1', 'a'],
      ['ZADD', 'z', 'INCR', '1', 'b'],
      ['ZADD', 'z', 'NX', 'INCR', '1', 'b'],
      ['ZRANGE', 'z', '0', '-1'],
      ['ZRANGE', 'z', '0', '-1', 'WITHSCORES'],
      ['ZRANGE', 'z', '(1', '+inf', 'BYSCORE', 'LIMIT', '0', '2', 'WITHSCORES'],
      ['ZRANGE', 'nokey', '0', '-1', 'WITHSCORES'],
      ['ZREVRANGE', 'z', '0', '1', 'WITHSCORES'],
      ['ZRANGEBYSCORE', 'z', '-inf', '+inf', 'WITHSCORES'],
      ['ZREVRANGEBYSCORE', 'z', '+inf', '-inf', 'WITHSCORES', 'LIMIT', '1', '2'],
      ['ZRANK', 'z', 'c'],
      ['ZREVRANK', 'z', 'nope'],
      ['ZCARD', 'z'],
      ['ZCOUNT', 'z', '-inf', '+inf'],
      ['ZADD', 'y', '3', 'c', '4', 'd'],
      ['ZUNION', '2', 'z', 'y', 'WITHSCORES'],
      ['ZINTER', '2', 'z', 'y', 'WITHSCORES'],
      ['ZDIFF', '2', 'z', 'y', 'WITHSCORES'],
      ['ZUNION', '2', 'z', 'y'],
      ['ZUNIONSTORE', 'u', '2', 'z', 'y'],
      ['ZRANDMEMBER', 'nokey'],
      ['ZRANDMEMBER', 'nokey', '3', 'WITHSCORES'],
      ['ZADD', 'one', '7', 'm'],
      ['ZRANDMEMBER', 'one', '1', 'WITHSCORES'],
      ['ZRANDMEMBER', 'one', '-2', 'WITHSCORES'],
      { cmd: ['ZRANDMEMBER', 'y', '5', 'WITHSCORES'], match: 'unordered' },
      ['ZSCAN', 'y', '0'],
      ['ZPOPMIN', 'nokey'],
      ['ZPOPMIN', 'nokey', '2'],
      ['ZPOPMIN', 'z'],
      ['ZPOPMIN', 'z', '1'],
      ['ZPOPMAX', 'z', '2'],
      ['ZPOPMAX', 'z', '0'],
      ['ZPOPMAX', 'z'],
      ['ZMPOP', '1', 'nokey', 'MIN'],
      ['ZMPOP', '2', 'nokey', 'y', 'MAX', 'COUNT', '5'],
      ['ZINCRBY', 'u', '1', 'x'],
      ['ZADD', 'big', '1e300', 'p', '-1e-300', 'q', '0.1', 'r'],
      ['ZRANGE', 'big', '0', '-1', 'WITHSCORES'],
    ]));

  test('geo and HyperLogLog: coordinates are doubles, distances bulk strings, a missing member _', () =>
    s.same([
      ['GEOADD', 'g', '13.361389', '38.115556', 'Palermo', '15.087269', '37.502669', 'Catania'],
      ['GEOPOS', 'g', 'Palermo', 'nowhere'],
      ['GEOPOS', 'nokey', 'a'],
      ['GEOHASH', 'g', 'Palermo', 'nowhere'],
      ['GEODIST', 'g', 'Palermo', 'Catania', 'km'],
      ['GEODIST', 'g', 'Palermo', 'nowhere'],
      ['GEOSEARCH', 'g', 'FROMLONLAT', '15', '37', 'BYRADIUS', '200', 'km', 'WITHCOORD', 'WITHDIST', 'WITHHASH', 'ASC'],
      ['GEOSEARCH', 'g', 'FROMLONLAT', '15', '37', 'BYRADIUS', '1', 'km'],
      ['GEOSEARCHSTORE', 'd', 'g', 'FROMLONLAT', '15', '37', 'BYRADIUS', '200', 'km', 'STOREDIST'],
      ['ZRANGE', 'd', '0', '-1', 'WITHSCORES'],
      ['PFADD', 'h', 'a', 'b', 'c'],
      ['PFCOUNT', 'h'],
      ['PFDEBUG', 'ENCODING', 'h'],
      ['PFDEBUG', 'DECODE', 'h'],
      ['GET', 'h'],
    ]));

  test('server and connection: CONFIG GET is a map, CLIENT GETNAME _, INFO and CLIENT INFO/LIST verbatim', async () => {
    await s.same([
      ['PING'],
      ['PING', 'x'],
      ['ECHO', 'e'],
      ['CONFIG', 'GET', 'save'],
      ['CONFIG', 'GET', 'nosuchthing'],
      { cmd: ['CONFIG', 'GET', 'maxmemory', 'maxmemory-policy'], match: 'unordered' }, // Redis's order is its dict's
      ['CLIENT', 'GETNAME'],
      ['CLIENT', 'SETNAME', 'n3'],
      ['CLIENT', 'GETNAME'],
      { cmd: ['CLIENT', 'ID'], match: 'shape' },
      { cmd: ['TIME'], match: 'shape' },
      { cmd: ['INFO', 'server'], match: 'shape' },
      ['INFO', 'keyspace'],
      ['SET', 'k', 'v'],
      ['INFO', 'keyspace'],
      { cmd: ['CLIENT', 'INFO'], match: 'shape' },
      { cmd: ['CLIENT', 'LIST'], match: 'shape' },
      ['CLIENT', 'LIST', 'ID', '999999'],
      ['SELECT', '0'],
      ['DBSIZE'],
      ['COMMAND', 'INFO', 'nosuchcommand'],
      ['COMMAND', 'DOCS', 'nosuchcommand'],
    ]);
    // CLIENT INFO says resp=3 on a RESP3 connection, as Redis's does.
    for (const c of [s.redis, s.ours]) expect((await c.call(['CLIENT', 'INFO'])).toString('latin1')).toMatch(/^=\d+\r\ntxt:id=\d+ .* resp=3( |\n)/);
  });

  test('COMMAND DOCS and COMMAND INFO are Redis 7.0\'s, maps and sets byte for byte', async () => {
    for (const cmd of [['COMMAND', 'DOCS', 'get', 'zadd', 'client|list'], ['COMMAND', 'INFO', 'get', 'zunionstore', 'client|list']]) {
      const [a, b] = await Promise.all([s.redis.call(cmd), s.ours.call(cmd)]);
      expect(b.toString('latin1'), cmd.join(' ')).toBe(a.toString('latin1'));
    }
  });

  test('MULTI/EXEC: replies inside EXEC in RESP3, EXECABORT, a WATCH-failed EXEC is _', async () => {
    await s.same([
      ['MULTI'],
      ['GET', 'nokey'],
      ['ZADD', 'z', '1.5', 'a'],
      ['ZSCORE', 'z', 'a'],
      ['HSET', 'h', 'f', 'v'],
      ['HGETALL', 'h'],
      ['SMEMBERS', 'nokey'],
      ['LPOP', 'nokey', '3'],
      ['EXEC'],
      ['MULTI'],
      ['NOSUCHCOMMAND'],
      ['GET', 'x'],
      ['EXEC'],
      ['EXEC'],
      ['DISCARD'],
    ]);
    await s.script(2, [
      [0, ['WATCH', 'w']],
      [1, ['SET', 'w', '1']],
      [0, ['MULTI']],
      [0, ['GET', 'w']],
      [0, ['EXEC']],
      [0, ['MULTI']],
      [0, ['GET', 'w']],
      [0, ['EXEC']],
    ]);
  });

  test('a seeded stream of sorted-set and hash commands, RESP3 byte for byte', async () => {
    let seed = 7;
    const rnd = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    const members = ['a', 'b', 'c', 'd'];
    const steps: Step[] = [];
    for (let i = 0; i < 300; i++) {
      const m = members[rnd(4)];
      const score = String((rnd(200) - 100) / 8);
      const pick: Step[] = [
        ['ZADD', 'z', score, m],
        ['ZINCRBY', 'z', score, m],
        ['ZSCORE', 'z', m],
        ['ZMSCORE', 'z', m, 'x'],
        ['ZRANGE', 'z', '0', '-1', 'WITHSCORES'],
        ['ZRANGEBYSCORE', 'z', score, '+inf', 'WITHSCORES'],
        ['ZPOPMIN', 'z'],
        ['ZPOPMAX', 'z', String(rnd(3))],
        ['ZREM', 'z', m],
        ['HSET', 'h', m, score],
        ['HINCRBYFLOAT', 'h', m, score],
        ['HGET', 'h', m],
        ['HMGET', 'h', m, 'x'],
        ['HDEL', 'h', m],
        ['HLEN', 'h'],
      ];
      steps.push(pick[rnd(pick.length)]);
    }
    steps.push(['ZRANGE', 'z', '0', '-1', 'WITHSCORES'], { cmd: ['HGETALL', 'h'], match: 'unordered' });
    await s.same(steps);
  });
});

describe('RESP3: HELLO', () => {
  const s = useServers([], { resp: 2 });

  /** Runs steps on a fresh connection to each server; HELLO replies compared with version and id masked. */
  async function compare(steps: string[][], ports = { redis: s.redisPort, ours: s.oursPort }): Promise<string[]> {
    const got: string[][] = [];
    for (const port of [ports.redis, ports.ours]) {
      const c = await RawClient.connect(port);
      const replies: string[] = [];
      for (const st of steps) replies.push(maskHello(await c.call(st)));
      c.close();
      got.push(replies);
    }
    expect(got[1]).toEqual(got[0]);
    return got[1];
  }

  test('HELLO with no arguments answers in the current version; bad versions and options are refused', async () => {
    const r = await compare([
      ['HELLO'],
      ['HELLO', '3'],
      ['HELLO'],
      ['HELLO', '4'],
      ['HELLO', '1'],
      ['HELLO', '0'],
      ['HELLO', '-1'],
      ['HELLO', 'three'],
      ['HELLO', '99999999999999999999'],
      ['HELLO', '3', 'SETNAME'],
      ['HELLO', '3', 'AUTH', 'default'],
      ['HELLO', '3', 'BOGUS'],
      ['HELLO', '3', 'SETNAME', 'bad name'],
      ['GET', 'nokey'], // still RESP3: a refused HELLO switches nothing
      ['HELLO', '2', 'SETNAME', 'back'],
      ['CLIENT', 'GETNAME'],
      ['GET', 'nokey'],
    ]);
    expect(r[0]).toMatch(/^\*14\r\n/);
    expect(r[1]).toMatch(/^%7\r\n/);
    expect(r[3]).toBe('-NOPROTO unsupported protocol version\r\n');
    expect(r[13]).toBe('_\r\n');
    expect(r[16]).toBe('$-1\r\n');
  });

  test('HELLO inside MULTI is queued; EXEC switches encoding from that reply on, as Redis', async () => {
    const r = await compare([
      ['HELLO', '3'],
      ['MULTI'],
      ['GET', 'nokey'],
      ['HELLO', '2'],
      ['GET', 'nokey'],
      ['HELLO', '3'],
      ['GET', 'nokey'],
      ['EXEC'],
      ['GET', 'nokey'],
    ]);
    expect(r[7]).toMatch(/^\*5\r\n_\r\n\*14\r\n[\s\S]*\$-1\r\n%7\r\n[\s\S]*_\r\n$/);
  });

  test('AUTH and SETNAME inside HELLO, with requirepass: failures leave the connection as it was', async () => {
    const [redis, ours] = await Promise.all([startRedis(['--requirepass', 'secret']), startServer(['--quiet', '--requirepass', 'secret'])]);
    try {
      const r = await compare(
        [
          ['GET', 'k'],
          ['HELLO', '3'],
          ['HELLO', '3', 'AUTH', 'default', 'wrong'],
          ['HELLO', '3', 'AUTH', 'nobody', 'secret'],
          ['HELLO', '3', 'AUTH', 'default', 'wrong', 'SETNAME', 'x'],
          ['GET', 'k'],
          ['HELLO', '3', 'AUTH', 'default', 'secret', 'SETNAME', 'named'],
          ['GET', 'k'],
          ['CLIENT', 'GETNAME'],
          ['HELLO', '2', 'AUTH', 'default', 'wrong'],
          ['GET', 'k'], // still authenticated, still RESP3
          ['RESET'],
          ['GET', 'k'], // RESET: back to RESP2 and unauthenticated
          ['HELLO', 'x', 'AUTH', 'default', 'secret'],
        ],
        { redis: redis.port, ours: ours.respPort },
      );
      expect(r[2]).toBe('-WRONGPASS invalid username-password pair or user is disabled.\r\n');
      expect(r[7]).toBe('_\r\n');
      expect(r[10]).toBe('_\r\n');
      expect(r[12]).toMatch(/^-NOAUTH/);
    } finally {
      await Promise.all([redis.stop(), ours.stop()]);
    }
  });

  test('connectResp: both servers say proto 3 in the map', async () => {
    for (const port of [s.redisPort, s.oursPort]) {
      const c = await connectResp(port, 3);
      expect((await c.call(['HELLO'])).toString('latin1')).toContain('$5\r\nproto\r\n:3\r\n');
      c.close();
    }
  });
});
