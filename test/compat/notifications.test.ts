// Differential: keyspace notifications (notify-keyspace-events) against a real
// redis-server 7.0, byte for byte. A subscriber (PSUBSCRIBE __key*@*__:*)
// watches while a writer runs each family's commands; after each command the
// subscriber's messages are compared as a list — every channel, event name,
// key and their order.
//
// Nothing sleeps to synchronise. The messages a command causes are in the
// subscriber's output before the command's reply leaves the server (both
// servers publish while the command runs), so once the writer's reply is read
// a PING sent on the subscriber is answered after all of them: the subscriber
// reads until that PING's reply (its marker). Expiry is waited for the same
// way: the subscriber reads until the `expired` message arrives. The one
// sleep lets a TTL pass before a lazy expiry (not a wait for a reply).
//
// Both RESP versions: COMPAT_RESP=3 runs the subscriber/writer pairs in RESP3
// (pushes); the last describe is RESP3 always: a client subscribed to its own
// keys sees its command's pushes and reply in Redis's order on one connection.
import { describe, expect, test } from 'vitest';
import { encodeCommand, parseReply } from '../../src/protocol/resp.js';
import { type Cmd, connectResp, type Match, type RawClient, type Servers, useServers } from './harness.js';

const PATTERN = '__key*@*__:*';

/** A step: a writer command, or "wait on the subscriber until a message containing this text". */
type Step = Cmd | { cmd: Cmd; match: Match } | { until: string } | { sleepMs: number };

let marker = 0;

/**
 * Reads conn's replies until the one that contains `stop` (inclusive); their
 * text. A PING's marker is unique, so no message can contain it by accident.
 */
async function readUntil(conn: RawClient, stop: string): Promise<string[]> {
  const got: string[] = [];
  for (;;) {
    const [r] = await conn.next(1, 5000);
    const text = r.toString('latin1');
    got.push(text);
    if (text.includes(stop)) return got;
  }
}

/** The subscribers' messages so far on each server, up to (and including) a PING's answer (the same PING on both). */
function drain(redis: RawClient, ours: RawClient): Promise<[string[], string[]]> {
  const m = `sync-${++marker}`;
  for (const c of [redis, ours]) c.write(encodeCommand(['PING', m]));
  return Promise.all([readUntil(redis, m), readUntil(ours, m)]);
}

const show = (xs: string[]) => xs.map((x) => JSON.stringify(x)).join('\n    ');

/**
 * Sets notify-keyspace-events on both servers, subscribes connection 0 to
 * every keyspace channel, runs the steps on connection 1 and compares, after
 * each, the writer's reply and the subscriber's messages.
 */
async function events(s: Servers, flags: string, steps: Step[], setup: Cmd[] = []): Promise<void> {
  for (const c of [s.redis, s.ours]) {
    await c.call(['FLUSHALL']);
    for (const cmd of setup) await c.call(cmd);
    expect((await c.call(['CONFIG', 'SET', 'notify-keyspace-events', flags])).toString()).toBe('+OK\r\n');
  }
  const clients = await s.clients(2);
  try {
    await clients.run([[0, ['PSUBSCRIBE', PATTERN]]]);
    const [subR, subO] = [clients.redis[0], clients.ours[0]];
    const problems: string[] = [];
    for (const [i, step] of steps.entries()) {
      let redis: string[];
      let ours: string[];
      if ('sleepMs' in step) {
        await new Promise((r) => setTimeout(r, step.sleepMs)); // a TTL passes
        continue;
      } else if ('until' in step) {
        [redis, ours] = await Promise.all([readUntil(subR, step.until), readUntil(subO, step.until)]);
      } else {
        // A random reply (SPOP) is compared by shape; its messages exactly.
        await clients.run(Array.isArray(step) ? [[1, step]] : [[1, step.cmd, step.match]]);
        [redis, ours] = await drain(subR, subO);
      }
      if (redis.join('') !== ours.join('')) {
        problems.push(`step ${i} ${JSON.stringify(step)}:\n  redis:\n    ${show(redis)}\n  redloop:\n    ${show(ours)}`);
      }
      // Each command's events are checked to exist, not only to match: an empty family proves nothing.
    }
    expect(problems.join('\n')).toBe('');
    await clients.quiet();
  } finally {
    clients.close();
    for (const c of [s.redis, s.ours]) await c.call(['CONFIG', 'SET', 'notify-keyspace-events', '']);
  }
}

/** How many keyspace messages a server published for these steps in total (a family that published nothing tests nothing). */
async function countOn(s: Servers, flags: string, steps: (Cmd | { cmd: Cmd; match: Match })[]): Promise<number> {
  await s.redis.call(['FLUSHALL']);
  await s.redis.call(['CONFIG', 'SET', 'notify-keyspace-events', flags]);
  const c = await connectResp(s.redisPort, s.resp);
  try {
    await c.call(['PSUBSCRIBE', PATTERN]);
    for (const step of steps) await s.redis.call(Array.isArray(step) ? step : step.cmd);
    const m = `sync-${++marker}`;
    c.write(encodeCommand(['PING', m]));
    return (await readUntil(c, m)).length - 1;
  } finally {
    c.close();
    await s.redis.call(['CONFIG', 'SET', 'notify-keyspace-events', '']);
  }
}

const future = String(Math.floor(Date.now() / 1000) + 100_000);

const GENERIC: Cmd[] = [
  ['SET', 'k', 'v'],
  ['DEL', 'k'],
  ['DEL', 'k'],
  ['SET', 'a', '1'],
  ['EXPIRE', 'a', '100'],
  ['PEXPIRE', 'a', '100000'],
  ['EXPIREAT', 'a', future],
  ['PEXPIREAT', 'a', future + '000'],
  ['EXPIRE', 'a', '100', 'NX'],
  ['PERSIST', 'a'],
  ['PERSIST', 'a'],
  ['EXPIRE', 'a', '-1'],
  ['SET', 'b', '1'],
  ['PEXPIREAT', 'b', '1'],
  ['SET', 'b', '1'],
  ['RENAME', 'b', 'c'],
  ['SET', 'd', '1'],
  ['RENAMENX', 'c', 'd'],
  ['RENAME', 'c', 'd'],
  ['RENAME', 'd', 'd'],
  ['COPY', 'd', 'e'],
  ['COPY', 'd', 'e'],
  ['COPY', 'd', 'e', 'REPLACE'],
  // Other databases: the events name the database they happen in.
  ['COPY', 'd', 'e', 'DB', '3'],
  ['COPY', 'd', 'e', 'DB', '3', 'REPLACE'],
  ['MOVE', 'd', '5'],
  ['MOVE', 'e', '3'],
  ['SWAPDB', '3', '5'],
  ['RPUSH', 'srt', '3', '1', '2'],
  ['SORT', 'srt', 'STORE', 'sorted'],
  ['SORT', 'nokey', 'STORE', 'sorted'],
  ['SORT', 'nokey', 'STORE', 'sorted'],
  ['UNLINK', 'd', 'e', 'nokey'],
  ['MSET', 'x', '1', 'y', '2'],
  ['DEL', 'x', 'y', 'z'],
  ['FLUSHALL'],
];

const STRINGS: Cmd[] = [
  ['SET', 's', 'v'],
  ['SET', 's', 'w', 'EX', '100'],
  ['SET', 's', 'w', 'PX', '100000', 'GET'],
  ['SET', 's', 'w', 'NX'],
  ['SET', 's', 'x', 'XX', 'KEEPTTL'],
  ['SETNX', 's', 'y'],
  ['SETNX', 's2', 'y'],
  ['SETEX', 's3', '100', 'v'],
  ['PSETEX', 's4', '100000', 'v'],
  ['GETSET', 's', 'z'],
  ['GETDEL', 's'],
  ['GETDEL', 's'],
  ['GETEX', 's2', 'EX', '100'],
  ['GETEX', 's2', 'PERSIST'],
  ['GETEX', 's2', 'PERSIST'],
  ['GETEX', 's2'],
  ['GETEX', 's2', 'PXAT', '1'],
  ['MSET', 'm1', 'a', 'm2', 'b'],
  ['MSETNX', 'm1', 'a', 'm3', 'b'],
  ['MSETNX', 'm4', 'a', 'm5', 'b'],
  ['APPEND', 'ap', 'x'],
  ['APPEND', 'ap', 'y'],
  ['SETRANGE', 'sr', '3', 'abc'],
  ['SETRANGE', 'sr', '0', ''],
  ['SETRANGE', 'sr', '1', 'Z'],
  ['INCR', 'n'],
  ['DECR', 'n'],
  ['INCRBY', 'n', '10'],
  ['DECRBY', 'n', '3'],
  ['INCRBY', 'big', '9223372036854775807'],
  ['INCR', 'big'],
  ['INCRBYFLOAT', 'f', '1.5'],
  ['SETBIT', 'bits', '7', '1'],
  ['SETBIT', 'bits', '7', '1'],
  ['SETBIT', 'bits', '7', '0'],
  ['SETBIT', 'bits', '100', '0'],
  ['BITFIELD', 'bf', 'SET', 'u8', '0', '255'],
  ['BITFIELD', 'bf', 'SET', 'u8', '0', '255'],
  ['BITFIELD', 'bf', 'INCRBY', 'u8', '0', '1'],
  ['BITFIELD', 'bf', 'GET', 'u8', '0'],
  ['BITFIELD', 'bf', 'OVERFLOW', 'FAIL', 'INCRBY', 'u8', '0', '300'],
  ['BITOP', 'AND', 'dst', 'bits', 'bf'],
  ['BITOP', 'OR', 'dst', 'nokey1', 'nokey2'],
  ['BITOP', 'OR', 'dst', 'nokey1', 'nokey2'],
  ['PFADD', 'hll', 'a', 'b'],
  ['PFADD', 'hll', 'a'],
  ['PFADD', 'hll2', 'c'],
  ['PFMERGE', 'hll3', 'hll', 'hll2'],
  ['PFCOUNT', 'hll'],
];

const LISTS: Cmd[] = [
  ['LPUSH', 'l', 'a', 'b'],
  ['RPUSH', 'l', 'c'],
  ['LPUSHX', 'nol', 'a'],
  ['RPUSHX', 'l', 'd'],
  ['LINSERT', 'l', 'BEFORE', 'c', 'x'],
  ['LINSERT', 'l', 'BEFORE', 'nothere', 'x'],
  ['LSET', 'l', '0', 'B'],
  ['LREM', 'l', '0', 'x'],
  ['LREM', 'l', '0', 'x'],
  ['LTRIM', 'l', '0', '-1'],
  ['LTRIM', 'l', '0', '2'],
  ['LPOP', 'l'],
  ['RPOP', 'l', '1'],
  ['LMOVE', 'l', 'l2', 'LEFT', 'RIGHT'],
  ['RPUSH', 'r', '1', '2'],
  ['LMOVE', 'r', 'r', 'LEFT', 'RIGHT'],
  ['RPOPLPUSH', 'r', 'r3'],
  ['RPOPLPUSH', 'r', 'r3'],
  ['RPOPLPUSH', 'r', 'r3'],
  ['LMPOP', '2', 'none', 'r3', 'LEFT', 'COUNT', '5'],
  ['RPUSH', 'q', 'a', 'b', 'c'],
  ['BLPOP', 'q', '0'],
  ['BRPOP', 'q', '0'],
  ['BLMOVE', 'q', 'q2', 'RIGHT', 'LEFT', '0'],
  ['BLMPOP', '0', '1', 'q2', 'RIGHT'],
  ['RPUSH', 'e', 'x'],
  ['LTRIM', 'e', '1', '0'],
  ['RPUSH', 'e', 'x'],
  ['LREM', 'e', '1', 'x'],
];

const SETS: (Cmd | { cmd: Cmd; match: Match })[] = [
  ['SADD', 's', 'a', 'b', 'c'],
  ['SADD', 's', 'a'],
  ['SREM', 's', 'a', 'zz'],
  ['SREM', 's', 'zz'],
  ['SMOVE', 's', 't', 'b'],
  ['SADD', 't', 'c'],
  ['SMOVE', 's', 't', 'c'],
  ['SMOVE', 't', 't', 'c'],
  ['SADD', 'u', '1'],
  ['SPOP', 'u'],
  ['SADD', 'u', '1', '2', '3', '4', '5'],
  { cmd: ['SPOP', 'u'], match: 'shape' },
  { cmd: ['SPOP', 'u', '2'], match: 'shape' },
  ['SPOP', 'u', '0'],
  { cmd: ['SPOP', 'u', '10'], match: 'shape' },
  ['SADD', 'a1', '1', '2'],
  ['SADD', 'a2', '2', '3'],
  ['SINTERSTORE', 'i', 'a1', 'a2'],
  ['SUNIONSTORE', 'i', 'a1', 'a2'],
  ['SDIFFSTORE', 'i', 'a1', 'a2'],
  ['SDIFFSTORE', 'i', 'a1', 'a1'],
  ['SADD', 'i', 'x'],
  ['SINTERSTORE', 'i', 'a1', 'missing'],
  ['SUNIONSTORE', 'i', 'missing'],
  ['SADD', 'one', 'x'],
  ['SREM', 'one', 'x'],
];

const HASHES: Cmd[] = [
  ['HSET', 'h', 'a', '1', 'b', '2'],
  ['HSET', 'h', 'a', '1'],
  ['HMSET', 'h', 'c', '3'],
  ['HSETNX', 'h', 'c', '4'],
  ['HSETNX', 'h', 'd', '4'],
  ['HSETNX', 'h2', 'x', '1'],
  ['HINCRBY', 'h', 'a', '5'],
  ['HINCRBY', 'h3', 'n', '1'],
  ['HINCRBYFLOAT', 'h', 'f', '1.25'],
  ['HDEL', 'h', 'zz'],
  ['HDEL', 'h', 'a', 'b'],
  ['HDEL', 'h', 'c', 'd', 'f'],
];

const ZSETS: Cmd[] = [
  ['ZADD', 'z', '1', 'a', '2', 'b', '3', 'c'],
  ['ZADD', 'z', '1', 'a'],
  ['ZADD', 'z', 'XX', '5', 'a'],
  ['ZADD', 'z', 'NX', '5', 'a'],
  ['ZADD', 'z', 'INCR', '1', 'a'],
  ['ZINCRBY', 'z', '2', 'b'],
  ['ZINCRBY', 'z', '0', 'b'],
  ['ZREM', 'z', 'zz'],
  ['ZREM', 'z', 'a'],
  ['ZADD', 'z', '1', 'd', '7', 'e', '8', 'f'],
  ['ZREMRANGEBYSCORE', 'z', '0', '1'],
  ['ZREMRANGEBYSCORE', 'z', '100', '200'],
  ['ZREMRANGEBYRANK', 'z', '0', '0'],
  ['ZADD', 'lex', '0', 'a', '0', 'b', '0', 'c'],
  ['ZREMRANGEBYLEX', 'lex', '[a', '[a'],
  ['ZADD', 'z2', '1', 'c', '2', 'x'],
  ['ZUNIONSTORE', 'u', '2', 'z', 'z2'],
  ['ZINTERSTORE', 'u', '2', 'z', 'z2'],
  ['ZDIFFSTORE', 'u', '2', 'z', 'z2'],
  ['ZINTERSTORE', 'u', '2', 'z', 'missing'],
  ['ZRANGESTORE', 'rs', 'z', '0', '-1'],
  ['ZRANGESTORE', 'rs', 'missing', '0', '-1'],
  ['ZPOPMIN', 'z2'],
  ['ZPOPMAX', 'z2', '5'],
  ['ZMPOP', '1', 'z', 'MIN', 'COUNT', '1'],
  ['BZPOPMAX', 'z', '0'],
  ['BZMPOP', '0', '1', 'z', 'MIN'],
  ['ZADD', 'only', '1', 'a'],
  ['ZREMRANGEBYLEX', 'lex', '-', '+'],
  ['ZREM', 'only', 'a'],
  ['GEOADD', 'geo', '13.361389', '38.115556', 'Palermo', '15.087269', '37.502669', 'Catania'],
  ['GEOADD', 'geo', 'NX', '13.361389', '38.115556', 'Palermo'],
  ['GEOSEARCHSTORE', 'gs', 'geo', 'FROMLONLAT', '15', '37', 'BYRADIUS', '200', 'km'],
  ['GEOSEARCHSTORE', 'gs', 'geo', 'FROMLONLAT', '15', '37', 'BYRADIUS', '1', 'm'],
  ['GEORADIUS', 'geo', '15', '37', '200', 'km', 'STORE', 'gr'],
  ['GEORADIUS', 'nogeo', '15', '37', '200', 'km', 'STORE', 'gr'],
];

const STREAMS: Cmd[] = [
  ['XADD', 'st', '1-1', 'f', 'v'],
  ['XADD', 'st', '2-1', 'f', 'v'],
  ['XADD', 'st', 'MAXLEN', '1', '3-1', 'f', 'v'],
  ['XADD', 'st', 'MAXLEN', '5', '4-1', 'f', 'v'],
  ['XADD', 'nost', 'NOMKSTREAM', '1-1', 'f', 'v'],
  ['XADD', 'st', '5-1', 'f', 'v'],
  ['XTRIM', 'st', 'MAXLEN', '10'],
  ['XTRIM', 'st', 'MAXLEN', '2'],
  ['XDEL', 'st', '1-1'],
  ['XDEL', 'st', '4-1'],
  ['XSETID', 'st', '9-9'],
  ['XGROUP', 'CREATE', 'st', 'g', '0'],
  ['XGROUP', 'CREATE', 'st', 'g', '0'],
  ['XGROUP', 'CREATE', 'mk', 'g', '$', 'MKSTREAM'],
  ['XGROUP', 'SETID', 'st', 'g', '0'],
  ['XGROUP', 'CREATECONSUMER', 'st', 'g', 'c1'],
  ['XGROUP', 'CREATECONSUMER', 'st', 'g', 'c1'],
  ['XREADGROUP', 'GROUP', 'g', 'c2', 'STREAMS', 'st', '>'],
  ['XREADGROUP', 'GROUP', 'g', 'c2', 'STREAMS', 'st', '0'],
  ['XCLAIM', 'st', 'g', 'c3', '0', '5-1', 'JUSTID'],
  ['XAUTOCLAIM', 'st', 'g', 'c4', '0', '0', 'JUSTID'],
  ['XACK', 'st', 'g', '5-1'],
  ['XGROUP', 'DELCONSUMER', 'st', 'g', 'c1'],
  ['XGROUP', 'DELCONSUMER', 'st', 'g', 'nobody'],
  ['XGROUP', 'DESTROY', 'st', 'g'],
  ['XGROUP', 'DESTROY', 'st', 'g'],
];

describe('keyspace notifications', () => {
  const s = useServers();

  test('CONFIG SET/GET notify-keyspace-events: parsing, Redis\'s canonical spelling, invalid classes refused', () =>
    s.same([
      ['CONFIG', 'GET', 'notify-keyspace-events'],
      ...['KEA', 'AKE', 'EKA', 'Ex', 'Kg$lshzxetd', 'g$lshzxetdKE', 'KEAn', 'KEAm', 'AnmdKE', 'nmxg', 'x', 'E', 'K', 'KEz$', 'Khzsl$g', 'A', 'AA', 'te', 'KEAn', 'KEAd', 'm', 'n', 'd', '']
        .flatMap((v) => [
          ['CONFIG', 'SET', 'notify-keyspace-events', v],
          ['CONFIG', 'GET', 'notify-keyspace-events'],
        ]),
      ['CONFIG', 'SET', 'notify-keyspace-events', 'KEAq'],
      ['CONFIG', 'SET', 'notify-keyspace-events', 'k'],
      ['CONFIG', 'SET', 'notify-keyspace-events', ' '],
      ['CONFIG', 'SET', 'notify-keyspace-events', 'KE A'],
      ['CONFIG', 'GET', 'notify-keyspace-events'],
      ['CONFIG', 'SET', 'notify-keyspace-events', 'KA', 'notify-keyspace-events', 'E'],
      ['CONFIG', 'SET', 'notify-keyspace-events', 'KA', 'maxmemory-policy', 'bogus'],
      ['CONFIG', 'GET', 'notify-keyspace-events'],
      ['CONFIG', 'SET', 'notify-keyspace-events', ''],
    ]));

  // Each family: every command's messages, in order, on both channels.
  for (const [family, steps] of [
    ['generic (g)', GENERIC],
    ['strings, bits and HyperLogLog ($)', STRINGS],
    ['lists (l)', LISTS],
    ['sets (s)', SETS],
    ['hashes (h)', HASHES],
    ['sorted sets and geo (z)', ZSETS],
    ['streams (t)', STREAMS],
  ] as const) {
    test(`${family}: every event with KEA`, async () => {
      expect(await countOn(s, 'KEA', steps)).toBeGreaterThan(steps.length);
      await events(s, 'KEA', steps);
    });
  }

  test('the n class: new keys (dbAdd), not overwrites; with A n is kept though CONFIG GET shows AKE', async () => {
    const steps: Cmd[] = [
      ['SET', 'a', '1'],
      ['SET', 'a', '2'],
      ['RPUSH', 'l', 'x'],
      ['RPUSH', 'l', 'y'],
      ['SADD', 's', 'x'],
      ['HSET', 'h', 'f', 'v'],
      ['ZADD', 'z', '1', 'm'],
      ['XADD', 'x', '1-1', 'f', 'v'],
      ['PFADD', 'p', 'a'],
      ['SETBIT', 'b', '1', '1'],
      ['APPEND', 'ap', 'x'],
      ['INCR', 'n'],
      ['HINCRBY', 'hi', 'f', '1'],
      ['RENAME', 'a', 'a2'],
      ['SET', 'a3', '1'],
      ['RENAME', 'a2', 'a3'],
      ['COPY', 'a3', 'c'],
      ['COPY', 'a3', 'c', 'REPLACE'],
      ['LMOVE', 'l', 'l2', 'LEFT', 'LEFT'],
      ['SMOVE', 's', 's2', 'x'],
      ['SINTERSTORE', 'si', 'l2'],
      ['SUNIONSTORE', 'si', 's2'],
      ['ZUNIONSTORE', 'zu', '1', 'z'],
      ['GEOADD', 'g', '1', '1', 'm'],
      ['XGROUP', 'CREATE', 'xs', 'g', '$', 'MKSTREAM'],
      ['BITOP', 'NOT', 'bn', 'b'],
      ['PFMERGE', 'pm', 'p'],
      ['SET', 'e', '1', 'EX', '100'],
      ['SETEX', 'e2', '100', 'v'],
      ['MSET', 'm1', '1', 'a', '9'],
    ];
    expect(await countOn(s, 'KEn', steps)).toBeGreaterThan(20);
    await events(s, 'KEn', steps);
    await events(s, 'KEAn', steps);
  });

  test('classes filter: only the classes on, only the channels on (K, E)', async () => {
    const steps: Cmd[] = [
      ['SET', 'a', '1'],
      ['RPUSH', 'l', 'x'],
      ['SADD', 's', 'x'],
      ['EXPIRE', 'a', '100'],
      ['DEL', 'l'],
      ['HSET', 'h', 'f', 'v'],
      ['ZADD', 'z', '1', 'm'],
      ['XADD', 'x', '1-1', 'f', 'v'],
      ['LPOP', 'nol'],
    ];
    for (const flags of ['Kl', 'Eg', 'K$', 'Es', 'Kh', 'Ez', 'Kt', 'KEgl', 'Ex', 'KE', 'A', 'Km', 'KEd']) await events(s, flags, steps);
  });

  test('the m class: keymiss for each missing key a read command looks up (not part of A)', async () => {
    const steps: Cmd[] = [
      ['GET', 'nokey'],
      ['SET', 'k', 'v'],
      ['GET', 'k'],
      ['GETRANGE', 'nokey', 'x', '1'],
      ['MGET', 'k', 'a', 'k', 'b'],
      ['STRLEN', 'nokey'],
      ['GETRANGE', 'nokey', '0', '1'],
      ['EXISTS', 'a', 'k', 'b'],
      ['TYPE', 'nokey'],
      ['TTL', 'nokey'],
      ['PTTL', 'k'],
      ['HGET', 'h', 'f'],
      ['HGETALL', 'h'],
      ['LRANGE', 'l', '0', '-1'],
      ['LLEN', 'l'],
      ['SMEMBERS', 's'],
      ['SISMEMBER', 's', 'x'],
      ['ZSCORE', 'z', 'm'],
      ['ZRANGE', 'z', '0', '-1'],
      ['ZCARD', 'z'],
      ['XRANGE', 'x', '-', '+'],
      ['XLEN', 'x'],
      ['GETBIT', 'b', '1'],
      ['BITCOUNT', 'b'],
      ['GEOPOS', 'g', 'm'],
      ['LINDEX', 'l', '0'],
      ['HEXISTS', 'h', 'f'],
      ['GET', 'k'],
    ];
    expect(await countOn(s, 'KEm', steps)).toBeGreaterThan(40);
    await events(s, 'KEm', steps);
    await events(s, 'KEAm', steps);
  });

  test('MULTI/EXEC: each command publishes as it runs; a failed command publishes nothing', () =>
    events(s, 'KEA', [
      ['MULTI'],
      ['SET', 'a', '1'],
      ['LPUSH', 'a', 'x'],
      ['RPUSH', 'l', 'x'],
      ['INCR', 'a'],
      ['DEL', 'l'],
      ['EXEC'],
    ]));

  test('active expiry: a key with a short TTL, never touched again, publishes expired', () =>
    events(s, 'KEA', [
      ['SET', 'k', 'v', 'PX', '30'],
      { until: '__keyevent@0__:expired' },
      ['RPUSH', 'l', 'x'],
      ['PEXPIRE', 'l', '40'],
      { until: '__keyevent@0__:expired' },
      ['EXISTS', 'k', 'l'],
    ]));

  test('expiry seen by a command (GET after the TTL passed): expired, then nothing for the missing key', () =>
    events(s, 'KEA', [
      ['SET', 'k', 'v', 'PX', '200'],
      { sleepMs: 250 },
      ['GET', 'k'],
      ['SET', 'k', 'w'],
    ]));

  test('eviction: maxmemory under the current use evicts the key, which publishes evicted (class e, in its database)', async () => {
    const steps: Step[] = [
      ['SELECT', '2'],
      ['SET', 'ev', '1'],
      ['CONFIG', 'SET', 'maxmemory', '1'],
      ['CONFIG', 'SET', 'maxmemory', '0'],
      ['EXISTS', 'ev'],
      ['SELECT', '0'],
    ];
    try {
      // redis-server does publish it: with Ee, exactly one message (the keyevent channel's evicted).
      await s.redis.call(['CONFIG', 'SET', 'maxmemory-policy', 'allkeys-lru']);
      expect(await countOn(s, 'Ee', steps)).toBe(1);
      await events(s, 'KEA', steps, [['CONFIG', 'SET', 'maxmemory-policy', 'allkeys-lru']]);
      await events(s, 'Ee', steps, [['CONFIG', 'SET', 'maxmemory-policy', 'allkeys-lru']]);
    } finally {
      for (const c of [s.redis, s.ours]) await c.call(['CONFIG', 'SET', 'maxmemory-policy', 'noeviction']);
    }
  });

  test('only x: expired without the key events', () =>
    events(s, 'Ex', [['SET', 'k', 'v', 'PX', '20'], { until: 'expired' }, ['SET', 'k2', 'v']]));

  test('RESTORE publishes restore (and del when it replaces with an expired TTL)', async () => {
    await s.redis.call(['SET', 'src', 'hello']);
    const dump = parseReply(await s.redis.call(['DUMP', 'src']))!.reply;
    if (dump.type !== 'bulk' || dump.value === null) throw new Error('DUMP answered no payload');
    const payload = dump.value;
    await events(s, 'KEA', [
      ['RESTORE', 'r', '0', payload],
      ['RESTORE', 'r', '0', payload],
      ['RESTORE', 'r', '0', payload, 'REPLACE'],
      ['RESTORE', 'r', '100000', payload, 'REPLACE'],
      ['RESTORE', 'r', '1', payload, 'REPLACE', 'ABSTTL'],
      ['RESTORE', 'r2', '1', payload, 'ABSTTL'],
    ]);
  });

  test('a blocked client served by a push: lpush, then its pop and del', async () => {
    for (const c of [s.redis, s.ours]) {
      await c.call(['FLUSHALL']);
      await c.call(['CONFIG', 'SET', 'notify-keyspace-events', 'KEA']);
    }
    const clients = await s.clients(3);
    try {
      await clients.run([
        [0, ['PSUBSCRIBE', PATTERN]],
        { send: 2, cmd: ['BLMOVE', 'q', 'd', 'LEFT', 'RIGHT', '0'] },
        { quiet: 2 },
        [1, ['LPUSH', 'q', 'x']],
        { reply: 2 },
      ]);
      const [a, b] = await drain(clients.redis[0], clients.ours[0]);
      expect(b).toEqual(a);
      expect(a.length).toBeGreaterThan(6);
      await clients.quiet();
    } finally {
      clients.close();
      for (const c of [s.redis, s.ours]) await c.call(['CONFIG', 'SET', 'notify-keyspace-events', '']);
    }
  });
});

describe('keyspace notifications to a RESP3 client subscribed on its own connection', () => {
  const s = useServers([], { resp: 3 });

  /** One connection: subscribes, then each command; its reply and its pushes compared in the order they arrive. */
  async function ownConnection(steps: (Cmd | Cmd[])[]): Promise<void> {
    for (const c of [s.redis, s.ours]) {
      await c.call(['FLUSHALL']);
      await c.call(['CONFIG', 'SET', 'notify-keyspace-events', 'KEA']);
    }
    const clients = await s.clients(1);
    try {
      await clients.run([[0, ['PSUBSCRIBE', PATTERN]]]);
      const problems: string[] = [];
      for (const step of steps) {
        // A batch (a transaction) is sent whole: a PING inside MULTI would only be queued.
        const batch = Array.isArray(step[0]) ? (step as Cmd[]) : [step as Cmd];
        for (const c of [clients.redis[0], clients.ours[0]]) for (const cmd of batch) c.write(encodeCommand(cmd));
        const [a, b] = await drain(clients.redis[0], clients.ours[0]);
        if (a.join('') !== b.join('')) problems.push(`${JSON.stringify(step)}:\n  redis:\n    ${show(a)}\n  redloop:\n    ${show(b)}`);
      }
      expect(problems.join('\n')).toBe('');
      await clients.quiet();
    } finally {
      clients.close();
      for (const c of [s.redis, s.ours]) await c.call(['CONFIG', 'SET', 'notify-keyspace-events', '']);
    }
  }

  test('pushes before or after the reply exactly where Redis writes them', () =>
    ownConnection([
      ['SET', 'a', '1'],
      ['SET', 'a', '2', 'EX', '100'],
      ['SET', 'a', '3', 'GET'],
      ['GETSET', 'a', '4'],
      ['GETDEL', 'a'],
      ['INCR', 'n'],
      ['APPEND', 'n', '0'],
      ['EXPIRE', 'n', '100'],
      ['PERSIST', 'n'],
      ['EXPIRE', 'n', '-1'],
      ['RPUSH', 'l', 'a', 'b'],
      ['LSET', 'l', '0', 'x'],
      ['LINSERT', 'l', 'AFTER', 'x', 'y'],
      ['LTRIM', 'l', '0', '1'],
      ['LREM', 'l', '1', 'y'],
      ['LMOVE', 'l', 'l2', 'LEFT', 'RIGHT'],
      ['LPOP', 'l2'],
      ['SADD', 's', 'a', 'b', 'c'],
      ['SREM', 's', 'a', 'b'],
      ['SPOP', 's'],
      ['SADD', 's', 'a'],
      ['SINTERSTORE', 'si', 's'],
      ['HSET', 'h', 'f', '1'],
      ['HINCRBY', 'h', 'f', '1'],
      ['HDEL', 'h', 'f'],
      ['ZADD', 'z', '1', 'a'],
      ['ZREM', 'z', 'a'],
      ['ZADD', 'z', '1', 'a', '2', 'b'],
      ['ZREMRANGEBYRANK', 'z', '0', '0'],
      ['ZUNIONSTORE', 'zu', '1', 'z'],
      ['XADD', 'x', '1-1', 'f', 'v'],
      ['XDEL', 'x', '1-1'],
      ['XGROUP', 'CREATE', 'x', 'g', '0'],
      ['XSETID', 'x', '5-5'],
      ['RENAME', 'x', 'y'],
      ['DEL', 'y'],
      [['MULTI'], ['SET', 'm', '1'], ['LPUSH', 'm', 'x'], ['DEL', 'm'], ['EXEC']],
    ]));
});
