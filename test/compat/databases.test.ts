// Differential: Redis 7.0's multiple databases against a real redis-server,
// byte for byte — SELECT, SWAPDB, MOVE, COPY … DB, FLUSHDB/FLUSHALL, DBSIZE,
// the key commands on the selected database, INFO keyspace, CLIENT INFO's db=,
// RESET, SELECT inside MULTI and inside a script; seeded random streams that
// hop between databases with TTLs and type collisions; several clients at once:
// blocked clients and WATCH per database, and what SWAPDB, FLUSHALL and
// FLUSHDB do to them. Then the RDB file across databases, both ways.

import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { parseReply, type RespReply } from '../../src/protocol/resp.js';
import { prng } from '../../src/util/prng.js';
import { startServer } from '../helpers/server.js';
import { RawClient, startRedis, useServers, type Step } from './harness.js';

/** A far-off unix ms deadline: the same on both servers, never reached during a run. */
const FAR = 4_102_444_800_123;

describe('databases', () => {
  const s = useServers();
  // Every list starts and ends in database 0: the suite's connection outlives a test.
  const same = (steps: Step[]) => s.same([['SELECT', '0'], ...steps, ['SELECT', '0']]);

  test('SELECT: valid indexes, and the errors of bad ones', () =>
    same([
      ['SELECT', '15'],
      ['SELECT', '16'],
      ['SELECT', '-1'],
      ['SELECT', 'x'],
      ['SELECT', ''],
      ['SELECT', '1.5'],
      ['SELECT', '2147483647'],
      ['SELECT', '2147483648'],
      ['SELECT', '-2147483649'],
      ['SELECT', '99999999999999999999'],
      ['SELECT', '007'],
      ['SELECT'],
      ['SELECT', '1', '2'],
      ['SELECT', '3'],
      ['SET', 'k', 'in 3'],
      ['SELECT', '0'],
      ['GET', 'k'],
      ['SELECT', '3'],
      ['GET', 'k'],
    ]));

  test('each database has its own keys: DBSIZE, EXISTS, KEYS, SCAN, RANDOMKEY, TYPE, DEL', () =>
    same([
      ['MSET', 'a', '1', 'b', '2', 'c', '3'],
      ['SELECT', '1'],
      ['DBSIZE'],
      ['EXISTS', 'a', 'b', 'c'],
      ['RANDOMKEY'],
      ['KEYS', '*'],
      ['SCAN', '0'],
      ['RPUSH', 'a', 'x'],
      ['TYPE', 'a'],
      ['RANDOMKEY'],
      ['DBSIZE'],
      ['SELECT', '0'],
      ['TYPE', 'a'],
      { cmd: ['KEYS', '*'], match: 'unordered' },
      ['DBSIZE'],
      ['DEL', 'a'],
      ['SELECT', '1'],
      ['LRANGE', 'a', '0', '-1'],
      ['SELECT', '15'],
      ['SADD', 's', 'm'],
      ['SCAN', '0', 'COUNT', '100'],
      ['DBSIZE'],
    ]));

  test('MOVE: moves value and TTL; 0 when missing or already in the target; its errors', () =>
    same([
      ['SET', 'k', 'v'],
      ['PEXPIREAT', 'k', String(FAR)],
      ['MOVE', 'k', '2'],
      ['EXISTS', 'k'],
      ['SELECT', '2'],
      ['GET', 'k'],
      ['PEXPIRETIME', 'k'],
      ['MOVE', 'k', '2'],
      ['MOVE', 'nokey', '2'],
      ['MOVE', 'nokey', '3'],
      ['SELECT', '0'],
      ['SET', 'k', 'other'],
      ['MOVE', 'k', '2'],
      ['GET', 'k'],
      ['RPUSH', 'l', 'a', 'b'],
      ['MOVE', 'l', '2'],
      ['MOVE', 'k', '16'],
      ['MOVE', 'k', '-1'],
      ['MOVE', 'k', 'x'],
      ['MOVE', 'k', '2147483648'],
      ['MOVE', 'k', '0'],
      ['MOVE', 'nokey', '0'],
      ['MOVE', 'k'],
      ['SELECT', '2'],
      ['LRANGE', 'l', '0', '-1'],
      ['PEXPIRETIME', 'l'],
      ['GET', 'k'],
    ]));

  test('COPY … DB n [REPLACE]: deep copies with TTL into another database; its errors', () =>
    same([
      ['RPUSH', 'l', 'a', 'b'],
      ['PEXPIREAT', 'l', String(FAR)],
      ['SET', 's', 'v'],
      ['COPY', 'l', 'l', 'DB', '4'],
      ['COPY', 'l', 'l', 'DB', '4'],
      ['COPY', 'l', 'l', 'DB', '0'],
      ['COPY', 'l', 'l'],
      ['COPY', 'l', 'l2', 'DB', '0'],
      ['COPY', 's', 'l', 'DB', '4', 'REPLACE'],
      ['COPY', 'nokey', 'x', 'DB', '4'],
      ['COPY', 's', 'x', 'DB', '16'],
      ['COPY', 's', 'x', 'DB', '-1'],
      ['COPY', 's', 'x', 'DB', 'one'],
      ['COPY', 's', 'x', 'DB', '2147483648'],
      ['COPY', 's', 'x', 'DB'],
      ['COPY', 's', 'x', 'DB', '5', 'DB', '6'],
      ['COPY', 'l', 'l3', 'REPLACE', 'DB', '4'],
      ['RPUSH', 'l', 'c'],
      ['SELECT', '4'],
      ['GET', 'l'],
      ['PEXPIRETIME', 'l'],
      ['LRANGE', 'l3', '0', '-1'],
      ['PEXPIRETIME', 'l3'],
      ['SELECT', '6'],
      ['GET', 'x'],
      ['SELECT', '5'],
      ['GET', 'x'],
      ['SELECT', '0'],
      ['LRANGE', 'l2', '0', '-1'],
      ['PEXPIRETIME', 'l2'],
    ]));

  test('SWAPDB: the contents swap, the clients stay with their index; its errors', () =>
    same([
      ['SET', 'a', 'from 0'],
      ['SELECT', '1'],
      ['SET', 'b', 'from 1'],
      ['PEXPIREAT', 'b', String(FAR)],
      ['SWAPDB', '0', '1'],
      ['GET', 'a'],
      ['GET', 'b'],
      ['PEXPIRETIME', 'b'],
      ['DBSIZE'],
      ['SELECT', '0'],
      ['GET', 'b'],
      ['PEXPIRETIME', 'b'],
      ['SWAPDB', '0', '0'],
      ['GET', 'b'],
      ['SWAPDB', '0', '5'],
      ['DBSIZE'],
      ['SWAPDB', '0', '16'],
      ['SWAPDB', '16', '0'],
      ['SWAPDB', '-1', '0'],
      ['SWAPDB', 'x', '0'],
      ['SWAPDB', '0', 'y'],
      ['SWAPDB', 'x', 'y'],
      ['SWAPDB', '2147483648', '0'],
      ['SWAPDB', '0', '99999999999999999999'],
      ['SWAPDB', '0'],
      ['SWAPDB', '0', '1', '2'],
      ['SELECT', '5'],
      ['GET', 'b'],
    ]));

  test('FLUSHDB empties the selected database only; FLUSHALL every one', () =>
    same([
      ['SET', 'a', '1'],
      ['SELECT', '7'],
      ['SET', 'a', '7'],
      ['SADD', 's', 'x'],
      ['FLUSHDB'],
      ['DBSIZE'],
      ['SET', 'b', '7'],
      ['FLUSHDB', 'ASYNC'],
      ['FLUSHDB', 'SYNC'],
      ['FLUSHDB', 'LAZY'],
      ['SET', 'c', '7'],
      ['SELECT', '0'],
      ['GET', 'a'],
      ['FLUSHDB'],
      ['SELECT', '7'],
      ['GET', 'c'],
      ['SELECT', '9'],
      ['SET', 'd', '9'],
      ['FLUSHALL'],
      ['DBSIZE'],
      ['SELECT', '7'],
      ['DBSIZE'],
    ]));

  test('SELECT inside MULTI lasts after EXEC; a failed EXEC leaves the database as it was', () =>
    same([
      ['MULTI'],
      ['SELECT', '1'],
      ['SET', 'k', 'in 1'],
      ['SELECT', '2'],
      ['SET', 'k', 'in 2'],
      ['SELECT', '99'],
      ['EXEC'],
      ['GET', 'k'],
      ['SELECT', '1'],
      ['GET', 'k'],
      ['SELECT', '0'],
      ['GET', 'k'],
      ['MULTI'],
      ['SELECT', '3'],
      ['NOSUCH'],
      ['EXEC'],
      ['SET', 'k', 'in 0'],
      ['GET', 'k'],
    ]));

  test('scripts run in the caller\'s database; SELECT inside a script lasts for the rest of the script only', () =>
    same([
      ['SELECT', '2'],
      ['SET', 'k', 'in 2'],
      ['EVAL', "return redis.call('GET', KEYS[1])", '1', 'k'],
      ['EVAL', "redis.call('SELECT', 5); redis.call('SET', KEYS[1], 'in 5'); return redis.call('GET', KEYS[1])", '1', 'k'],
      ['GET', 'k'],
      ['EVAL', "return redis.pcall('SELECT', 16)", '0'],
      ['EVAL', "return redis.pcall('SELECT', 'x')", '0'],
      ['SELECT', '5'],
      ['GET', 'k'],
      ['EVAL', "redis.call('SELECT', 2); return redis.call('MOVE', KEYS[1], 5)", '1', 'k'],
      ['GET', 'k'],
      ['SELECT', '2'],
      ['EXISTS', 'k'],
    ]));

  test('RESET returns to database 0; HELLO and AUTH keep the database', () =>
    same([
      ['SELECT', '3'],
      ['SET', 'k', 'in 3'],
      { cmd: ['HELLO', String(s.resp)], match: 'hello' },
      ['GET', 'k'],
      ['AUTH', 'nopass'],
      ['GET', 'k'],
      ['RESET'],
      ...(s.resp === 3 ? [{ cmd: ['HELLO', '3'], match: 'hello' as const }] : []),
      ['GET', 'k'],
    ]));

  test('CLIENT INFO and CLIENT LIST show the selected database (db=)', async () => {
    const dbField = async (c: RawClient, cmd: string[]): Promise<string> => {
      const m = /\bdb=(\d+)\b/.exec((await c.call(cmd)).toString('latin1'));
      return m === null ? 'none' : m[1];
    };
    for (const db of ['0', '6', '15', '0']) {
      await s.redis.call(['SELECT', db]);
      await s.ours.call(['SELECT', db]);
      expect(await dbField(s.ours, ['CLIENT', 'INFO'])).toBe(db);
      expect(await dbField(s.ours, ['CLIENT', 'INFO'])).toBe(await dbField(s.redis, ['CLIENT', 'INFO']));
      expect(await dbField(s.ours, ['CLIENT', 'LIST', 'ID', String(await clientId(s.ours))])).toBe(db);
    }
  });

  test('INFO keyspace: one line per non-empty database, keys and expires counted, avg_ttl the mean TTL', async () => {
    const fill = async (c: RawClient) => {
      await c.call(['FLUSHALL']);
      await c.call(['MSET', 'a', '1', 'b', '2']);
      await c.call(['SELECT', '3']);
      await c.call(['SET', 'x', 'v', 'EX', '1000']);
      await c.call(['SET', 'y', 'v', 'EX', '2000']);
      await c.call(['SET', 'z', 'v']);
      await c.call(['SELECT', '15']);
      await c.call(['SET', 'p', 'v', 'EX', '500']);
      await c.call(['SELECT', '7']);
      await c.call(['SET', 'gone', 'v']);
      await c.call(['DEL', 'gone']);
      await c.call(['SELECT', '0']);
    };
    await fill(s.redis);
    await fill(s.ours);
    const lines = async (c: RawClient) => {
      const r = parseReply(await c.call(['INFO', 'keyspace']))!.reply;
      const text = r.type === 'bulk' ? r.value!.toString('latin1') : r.type === 'verbatim' ? r.value.toString('latin1') : '';
      return text.split('\r\n').filter((l) => l !== '');
    };
    const mine = await lines(s.ours);
    // avg_ttl is Redis's estimate from its expiry cycle's samples: compared masked, and checked here on its own.
    const mask = (ls: string[]) => ls.map((l) => l.replace(/avg_ttl=\d+/, 'avg_ttl=N'));
    expect(mask(mine)).toEqual(mask(await lines(s.redis)));
    expect(mask(mine)).toEqual(['# Keyspace', 'db0:keys=2,expires=0,avg_ttl=N', 'db3:keys=3,expires=2,avg_ttl=N', 'db15:keys=1,expires=1,avg_ttl=N']);
    const avg = (db: string) => Number(new RegExp(`${db}:.*avg_ttl=(\\d+)`).exec(mine.join('\n'))![1]);
    expect(avg('db0')).toBe(0);
    // The mean of 1000 s and 2000 s, less the moments since they were set.
    expect(avg('db3')).toBeGreaterThan(1_400_000);
    expect(avg('db3')).toBeLessThanOrEqual(1_500_000);
    expect(avg('db15')).toBeGreaterThan(400_000);
    expect(avg('db15')).toBeLessThanOrEqual(500_000);
  });

  test('CONFIG GET databases; CONFIG SET databases is refused (immutable)', () =>
    same([
      ['CONFIG', 'GET', 'databases'],
      ['CONFIG', 'SET', 'databases', '32'],
    ]));

  // Seeded random streams over three keys and four databases: SELECT, MOVE, COPY DB, SWAPDB,
  // FLUSHDB between writes of several types (WRONGTYPE comes up) and long TTLs.
  const seeds = Number(process.env.COMPAT_SEEDS ?? 6);
  for (let seed = 1; seed <= seeds; seed++) {
    test(`seed ${seed}: 400 commands across databases`, () => same(generate(seed, 400)));
  }
});

function generate(seed: number, n: number): Step[] {
  const r = prng(seed * 7919);
  const pick = <T>(a: readonly T[]): T => a[Math.floor(r() * a.length)];
  const key = () => pick(['a', 'b', 'c']);
  const db = () => pick(['0', '1', '2', '3', '3', '16', 'x']);
  const farSec = () => String(Math.floor(FAR / 1000) + Math.floor(r() * 3));
  const gens: (() => Step)[] = [
    () => ['SELECT', db()],
    () => ['SELECT', db()],
    () => ['SET', key(), pick(['1', 'v', '10'])],
    // Absolute deadlines far ahead: TTL replies then do not depend on when each server ran the command.
    () => ['SET', key(), 'v', 'EXAT', farSec()],
    () => ['GET', key()],
    () => ['INCR', key()],
    () => ['RPUSH', key(), pick(['x', 'y'])],
    () => ['LRANGE', key(), '0', '-1'],
    () => ['SADD', key(), pick(['m', 'n'])],
    () => ['SCARD', key()],
    () => ['TYPE', key()],
    () => ['EXISTS', key(), key()],
    () => ['DEL', key()],
    () => ['EXPIREAT', key(), farSec(), ...(r() < 0.3 ? [pick(['NX', 'XX', 'GT', 'LT'])] : [])],
    () => ['EXPIRE', key(), pick(['0', '-1'])],
    () => ['PERSIST', key()],
    () => ['EXPIRETIME', key()],
    () => ['PEXPIRETIME', key()],
    () => ['MOVE', key(), db()],
    () => ['MOVE', key(), db()],
    () => ['COPY', key(), key(), 'DB', db(), ...(r() < 0.5 ? ['REPLACE'] : [])],
    () => ['COPY', key(), key(), ...(r() < 0.5 ? ['REPLACE'] : [])],
    () => ['RENAME', key(), key()],
    () => ['SWAPDB', db(), db()],
    () => ['DBSIZE'],
    // One key per pattern: inside EXEC a reply is compared byte for byte, and KEYS' order is the server's own.
    () => ['KEYS', key()],
    () => ['KEYS', pick(['a', 'b', 'c', 'd'])],
    () => (r() < 0.2 ? ['FLUSHDB'] : ['DBSIZE']),
    () => ['MULTI'],
    () => ['EXEC'],
  ];
  const steps: Step[] = [];
  for (let i = 0; i < n; i++) steps.push(pick(gens)());
  // Whatever state the stream left, the end of a transaction and a look at every database.
  steps.push(['DISCARD']);
  for (const d of ['0', '1', '2', '3']) {
    steps.push(['SELECT', d], ['DBSIZE'], ['TYPE', 'a'], ['TYPE', 'b'], ['TYPE', 'c'], ['PEXPIRETIME', 'a'], ['PEXPIRETIME', 'b'], ['PEXPIRETIME', 'c']);
  }
  return steps;
}

async function clientId(c: RawClient): Promise<bigint> {
  const r = parseReply(await c.call(['CLIENT', 'ID']))!.reply;
  if (r.type !== 'int') throw new Error('CLIENT ID');
  return r.value;
}

describe('databases: several clients', () => {
  const s = useServers();

  test('BLPOP in database 1 is woken by a push in database 1, not by one in database 0', () =>
    s.script(2, [
      [0, ['SELECT', '1']],
      { send: 0, cmd: ['BLPOP', 'q', '0'] },
      { quiet: 0 },
      [1, ['LPUSH', 'q', 'in 0']],
      { quiet: 0 },
      [1, ['SELECT', '1']],
      [1, ['LPUSH', 'q', 'in 1']],
      { reply: 0 },
      [1, ['LLEN', 'q']],
      [1, ['SELECT', '0']],
      [1, ['LRANGE', 'q', '0', '-1']],
    ]));

  test('BZPOPMIN and XREAD BLOCK wait per database too; MOVE into the database wakes them', () =>
    s.script(3, [
      [0, ['SELECT', '2']],
      [1, ['SELECT', '2']],
      { send: 0, cmd: ['BZPOPMIN', 'z', '0'] },
      { send: 1, cmd: ['XREAD', 'BLOCK', '0', 'STREAMS', 'x', '$'] },
      { quiet: [0, 1] },
      [2, ['ZADD', 'z', '1', 'm']],
      [2, ['XADD', 'x', '1-1', 'f', 'v']],
      { quiet: [0, 1] },
      [2, ['DEL', 'z']],
      [2, ['ZADD', 'z', '2', 'n']],
      [2, ['MOVE', 'z', '2']],
      { reply: 0 },
      [2, ['SELECT', '2']],
      [2, ['XADD', 'x', '1-2', 'f', 'w']],
      { reply: 1 },
    ]));

  test('SWAPDB wakes a client blocked on a key that the swap brought in', () =>
    s.script(3, [
      [0, ['SELECT', '1']],
      { send: 0, cmd: ['BLPOP', 'q', '0'] },
      { send: 1, cmd: ['BLPOP', 'q', '0'] },
      { quiet: [0, 1] },
      [2, ['SELECT', '3']],
      [2, ['RPUSH', 'q', 'a', 'b']],
      [2, ['SWAPDB', '3', '1']],
      { reply: 0 },
      { quiet: 1 },
      [2, ['LRANGE', 'q', '0', '-1']],
      [2, ['SELECT', '1']],
      [2, ['LRANGE', 'q', '0', '-1']],
      [2, ['SWAPDB', '1', '0']],
      { reply: 1 },
      [2, ['SELECT', '0']],
      [2, ['EXISTS', 'q']],
    ]));

  test('SWAPDB does not wake a waiter whose key is absent on both sides, nor one of another type', () =>
    s.script(3, [
      { send: 0, cmd: ['BLPOP', 'q', '0'] },
      [1, ['SELECT', '4']],
      { send: 1, cmd: ['BZPOPMAX', 'l', '0'] },
      { quiet: [0, 1] },
      [2, ['SELECT', '5']],
      [2, ['RPUSH', 'l', 'x']],
      [2, ['SET', 'q', 'string']],
      [2, ['SWAPDB', '5', '4']],
      [2, ['SWAPDB', '5', '0']],
      { quiet: [0, 1] },
      [2, ['CLIENT', 'UNBLOCK', '0']],
      [2, ['SELECT', '4']],
      [2, ['DEL', 'l']],
      [2, ['ZADD', 'l', '1', 'z']],
      { reply: 1 },
      [2, ['SELECT', '0']],
      [2, ['DEL', 'q']],
      [2, ['RPUSH', 'q', 'y']],
      { reply: 0 },
    ]));

  test('WATCH in database 1 is broken by a write to the key in database 1, not in database 0', () =>
    s.script(2, [
      [0, ['SELECT', '1']],
      [0, ['WATCH', 'k']],
      [1, ['SET', 'k', 'in 0']],
      [1, ['DEL', 'k']],
      [0, ['MULTI']],
      [0, ['SET', 'done', '1']],
      [0, ['EXEC']],
      [0, ['WATCH', 'k']],
      [1, ['SELECT', '1']],
      [1, ['SET', 'k', 'in 1']],
      [0, ['MULTI']],
      [0, ['SET', 'done', '2']],
      [0, ['EXEC']],
      [0, ['GET', 'done']],
    ]));

  test('WATCH and MOVE/COPY DB: the key is touched in both databases', () =>
    s.script(3, [
      [2, ['SET', 'k', 'v']],
      [0, ['WATCH', 'k']],
      [1, ['SELECT', '6']],
      [1, ['WATCH', 'k']],
      [2, ['MOVE', 'k', '6']],
      [0, ['MULTI']],
      [0, ['PING']],
      [0, ['EXEC']],
      [1, ['MULTI']],
      [1, ['PING']],
      [1, ['EXEC']],
      [1, ['WATCH', 'k']],
      [2, ['SET', 'j', 'w']],
      [2, ['COPY', 'j', 'k', 'DB', '6']],
      [1, ['MULTI']],
      [1, ['PING']],
      [1, ['EXEC']],
      [1, ['WATCH', 'k']],
      [2, ['COPY', 'j', 'k', 'DB', '5']],
      [1, ['MULTI']],
      [1, ['PING']],
      [1, ['EXEC']],
    ]));

  test('SWAPDB touches watched keys that exist in either database, not the others', () =>
    s.script(4, [
      [3, ['SELECT', '1']],
      [3, ['SET', 'only1', 'v']],
      [3, ['SELECT', '0']],
      [3, ['SET', 'only0', 'v']],
      [0, ['WATCH', 'only1']],
      [1, ['WATCH', 'only0']],
      [2, ['WATCH', 'neither']],
      [3, ['SWAPDB', '0', '1']],
      [0, ['MULTI']],
      [0, ['PING']],
      [0, ['EXEC']],
      [1, ['MULTI']],
      [1, ['PING']],
      [1, ['EXEC']],
      [2, ['MULTI']],
      [2, ['PING']],
      [2, ['EXEC']],
      [2, ['SELECT', '9']],
      [2, ['WATCH', 'only0']],
      [3, ['SWAPDB', '0', '1']],
      [2, ['MULTI']],
      [2, ['PING']],
      [2, ['EXEC']],
    ]));

  test('FLUSHDB touches the watched keys of its own database that exist; FLUSHALL those of every database', () =>
    s.script(4, [
      [3, ['SET', 'k', 'v']],
      [3, ['SELECT', '2']],
      [3, ['SET', 'k', 'v']],
      [0, ['WATCH', 'k']],
      [1, ['SELECT', '2']],
      [1, ['WATCH', 'k']],
      [2, ['SELECT', '3']],
      [2, ['WATCH', 'k']],
      [3, ['FLUSHDB']],
      [0, ['MULTI']],
      [0, ['PING']],
      [0, ['EXEC']],
      [1, ['MULTI']],
      [1, ['PING']],
      [1, ['EXEC']],
      [0, ['WATCH', 'k']],
      [1, ['WATCH', 'k']],
      [2, ['WATCH', 'k']],
      [3, ['FLUSHALL']],
      [0, ['MULTI']],
      [0, ['PING']],
      [0, ['EXEC']],
      [1, ['MULTI']],
      [1, ['PING']],
      [1, ['EXEC']],
      [2, ['MULTI']],
      [2, ['PING']],
      [2, ['EXEC']],
    ]));

  test('MONITOR shows the database of each command', async () => {
    // Not a script: its closing check pings on the suite's connection, which the monitor would show.
    const cs = await s.clients(2);
    try {
      await cs.run([
        [0, ['MONITOR']],
        [1, ['SELECT', '4']],
        { reply: 0, match: 'monitor' },
        [1, ['SET', 'k', 'v']],
        { reply: 0, match: 'monitor' },
      ]);
      expect((await cs.ours[1].call(['PING'])).toString()).toBe('+PONG\r\n');
      expect((await cs.ours[0].next(1))[0].toString('latin1')).toMatch(/^\+\d+\.\d{6} \[4 [^\]]+\] "PING"\r\n$/);
    } finally {
      cs.close();
    }
  });
});

describe('--databases 4 on both servers', () => {
  test('indexes 0 to 3 exist, 4 does not; CONFIG GET databases', async () => {
    const [redis, ours] = await Promise.all([startRedis(['--databases', '4']), startServer(['--quiet', '--databases', '4'])]);
    const rc = await RawClient.connect(redis.port);
    const oc = await RawClient.connect(ours.respPort);
    try {
      const steps = [
        ['CONFIG', 'GET', 'databases'],
        ['SELECT', '3'],
        ['SET', 'k', 'v'],
        ['SELECT', '4'],
        ['MOVE', 'k', '4'],
        ['COPY', 'k', 'k', 'DB', '4'],
        ['SWAPDB', '3', '4'],
        ['SWAPDB', '3', '0'],
        ['MOVE', 'k', '3'],
        ['SELECT', '3'],
        ['GET', 'k'],
        ['INFO', 'keyspace'],
      ];
      for (const cmd of steps) expect(`${cmd.join(' ')}: ${(await oc.call(cmd)).toString('latin1')}`).toBe(`${cmd.join(' ')}: ${(await rc.call(cmd)).toString('latin1')}`);
    } finally {
      rc.close();
      oc.close();
      await Promise.all([redis.stop(), ours.stop()]);
    }
  });
});

// ---- the RDB file across databases ----

const SERVER = fileURLToPath(new URL('../../dist/cli/server.js', import.meta.url));
const reply = (b: Buffer): RespReply => parseReply(b)!.reply;
const text = (b: Buffer): string => {
  const r = reply(b);
  if (r.type === 'bulk') return r.value === null ? '(nil)' : r.value.toString('latin1');
  if (r.type === 'int') return String(r.value);
  if (r.type === 'array') return JSON.stringify(r.items?.map((x) => (x.type === 'bulk' ? x.value?.toString('latin1') : '?')));
  if (r.type === 'status' || r.type === 'error') return r.value;
  return '?';
};

/** What the RDB test writes in each database: every type, some TTLs. */
const CONTENT: Record<string, string[][]> = {
  '0': [['SET', 'k', 'zero'], ['RPUSH', 'l0', 'a', 'b']],
  '3': [['SET', 'k', 'three'], ['SADD', 's3', 'x', 'y'], ['HSET', 'h3', 'f', 'v'], ['PEXPIREAT', 'h3', String(FAR)]],
  '15': [['ZADD', 'z15', '1', 'm', '2.5', 'n'], ['SET', 'k', 'fifteen'], ['PEXPIREAT', 'k', String(FAR + 1)]],
};

const READS: Record<string, string[][]> = {
  '0': [['DBSIZE'], ['GET', 'k'], ['LRANGE', 'l0', '0', '-1'], ['PEXPIRETIME', 'l0']],
  '3': [['DBSIZE'], ['GET', 'k'], ['SMEMBERS', 's3'], ['HGETALL', 'h3'], ['PEXPIRETIME', 'h3']],
  '15': [['DBSIZE'], ['ZRANGE', 'z15', '0', '-1', 'WITHSCORES'], ['GET', 'k'], ['PEXPIRETIME', 'k']],
  '1': [['DBSIZE']],
};

async function fillDbs(c: RawClient): Promise<void> {
  for (const [db, cmds] of Object.entries(CONTENT)) {
    await c.call(['SELECT', db]);
    for (const cmd of cmds) await c.call(cmd);
  }
  await c.call(['SELECT', '0']);
}

async function readDbs(c: RawClient): Promise<string[]> {
  const out: string[] = [];
  for (const [db, cmds] of Object.entries(READS)) {
    await c.call(['SELECT', db]);
    for (const cmd of cmds) {
      const t = text(await c.call(cmd));
      out.push(`${db} ${cmd.join(' ')}: ${cmd[0] === 'SMEMBERS' ? JSON.stringify(JSON.parse(t).sort()) : t}`);
    }
  }
  return out;
}

describe('RDB files with several databases, against redis-server 7.0', () => {
  let dir: string;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'redloop-compat-dbs-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test("redis-server's dump.rdb with keys in databases 0, 3 and 15 loads into the same databases", async () => {
    const redisDir = mkdtempSync(join(dir, 'redis-'));
    const redis = await startRedis(['--dir', redisDir]);
    const rc = await RawClient.connect(redis.port);
    let want: string[];
    try {
      await fillDbs(rc);
      want = await readDbs(rc);
      expect(text(await rc.call(['SAVE']))).toBe('OK');
    } finally {
      rc.close();
      await redis.stop();
    }
    const srv = await startServer(['--dir', redisDir]);
    const c = await RawClient.connect(srv.respPort);
    try {
      await srv.waitForStderr(/DB loaded from disk: .*: 7 keys/);
      expect(await readDbs(c)).toEqual(want);
    } finally {
      c.close();
      await srv.stop();
    }
  });

  test("redloop's dump.rdb with keys in databases 0, 3 and 15: redis-check-rdb accepts it, redis-server loads the same databases", async () => {
    const oursDir = mkdtempSync(join(dir, 'ours-'));
    const srv = await startServer(['--dir', oursDir, '--quiet']);
    const c = await RawClient.connect(srv.respPort);
    let want: string[];
    try {
      await fillDbs(c);
      want = await readDbs(c);
      expect(text(await c.call(['SAVE']))).toBe('OK');
    } finally {
      c.close();
      await srv.stop();
    }
    const file = join(oursDir, 'dump.rdb');
    const check = spawnSync('redis-check-rdb', [file], { encoding: 'utf8' });
    expect(check.stdout).toContain('RDB looks OK!');
    expect(check.status).toBe(0);
    const redis = await startRedis(['--dir', oursDir, '--dbfilename', 'dump.rdb']);
    const rc = await RawClient.connect(redis.port);
    try {
      expect(await readDbs(rc)).toEqual(want);
      // And redloop reloads its own file the same way.
      const again = await startServer(['--dir', oursDir, '--quiet']);
      const ac = await RawClient.connect(again.respPort);
      try {
        expect(await readDbs(ac)).toEqual(want);
      } finally {
        ac.close();
        await again.stop();
      }
    } finally {
      rc.close();
      await redis.stop();
    }
  });

  test('a file holding a database the server does not have stops the start with a clear error', async () => {
    const redisDir = mkdtempSync(join(dir, 'redis-'));
    const redis = await startRedis(['--dir', redisDir]);
    const rc = await RawClient.connect(redis.port);
    try {
      await fillDbs(rc);
      expect(text(await rc.call(['SAVE']))).toBe('OK');
    } finally {
      rc.close();
      await redis.stop();
    }
    const { code, stderr } = await failToStart(['--dir', redisDir, '--databases', '8']);
    expect(code).toBe(1);
    expect(stderr).toMatch(/cannot load .*dump\.rdb: .*the file holds database 15, but this server has 8 databases \(0 to 7\): start it with --databases 16 or more/);
  });
});

/** Runs the server expecting it to refuse to start; resolves with its exit code and stderr. */
function failToStart(args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [SERVER, '--port', '0', '--resp-port', '0', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    proc.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    proc.stdout.setEncoding('utf8').on('data', (d: string) => {
      if (d.includes('redloop ready')) {
        proc.kill('SIGKILL');
        reject(new Error('the server started'));
      }
    });
    proc.on('exit', (code) => resolve({ code, stderr }));
  });
}
