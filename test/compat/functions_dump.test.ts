// Functions as part of the dataset, against redis-server 7.0: FUNCTION DUMP's
// payload (byte for byte), FUNCTION RESTORE with each policy and its errors,
// payloads crossing both ways, and function libraries in dump.rdb loading
// both ways (redis-server's file into redloop, redloop's into redis-server).

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { parseReply } from '../../src/protocol/resp.js';
import { startServer } from '../helpers/server.js';
import { RawClient, startRedis, useServers } from './harness.js';

const LIB1 = "#!lua name=lib1\nredis.register_function('f1', function() return 1 end)";
const LIB1B = "#!lua name=lib1\nredis.register_function('f1', function() return 'one, replaced' end)";
const LIB2 = `#!lua name=lib2
local function two(keys, args) return {keys[1], args[1], 2} end
redis.register_function{function_name='f2', callback=two, flags={'no-writes'}, description='the second one'}
redis.register_function('g2', function() return redis.call('PING') end)
-- ${'a comment that makes the library long enough to compress well. '.repeat(4)}`;
/** Another library that registers f1 too: a function name collision. */
const LIB3 = "#!lua name=lib3\nredis.register_function('f1', function() return 3 end)";

const bulk = (b: Buffer): Buffer => {
  const r = parseReply(b)!.reply;
  if (r.type !== 'bulk' || r.value === null) throw new Error(`not a bulk string: ${b.toString('latin1')}`);
  return r.value as Buffer;
};

describe('FUNCTION DUMP and RESTORE', () => {
  const s = useServers();
  let dump1 = Buffer.alloc(0);
  let dump12 = Buffer.alloc(0);
  let dump3 = Buffer.alloc(0);

  beforeAll(async () => {
    for (const c of [s.redis, s.ours]) await c.call(['FUNCTION', 'FLUSH']);
    await s.redis.call(['FUNCTION', 'LOAD', LIB1]);
    dump1 = bulk(await s.redis.call(['FUNCTION', 'DUMP']));
    await s.redis.call(['FUNCTION', 'LOAD', LIB2]);
    dump12 = bulk(await s.redis.call(['FUNCTION', 'DUMP']));
    await s.redis.call(['FUNCTION', 'FLUSH']);
    await s.redis.call(['FUNCTION', 'LOAD', LIB3]);
    dump3 = bulk(await s.redis.call(['FUNCTION', 'DUMP']));
    await s.redis.call(['FUNCTION', 'FLUSH']);
  });

  test('the payload is byte-identical, compression on and off', async () => {
    for (const compression of ['yes', 'no']) {
      await s.same([
        ['CONFIG', 'SET', 'rdbcompression', compression],
        ['FUNCTION', 'FLUSH'],
        ['FUNCTION', 'DUMP'],
        ['FUNCTION', 'LOAD', LIB1],
        ['FUNCTION', 'DUMP'],
        ['FUNCTION', 'FLUSH'],
        ['FUNCTION', 'LOAD', LIB2],
        ['FUNCTION', 'DUMP'],
      ]);
    }
  });

  test("redis-server's payload restores into redloop (each policy), errors as Redis's, and the libraries as they were after an error", () =>
    s.same([
      ['FUNCTION', 'FLUSH'],
      ['FUNCTION', 'RESTORE', dump12],
      { cmd: ['FUNCTION', 'LIST', 'WITHCODE'], match: 'unordered' },
      ['FCALL', 'f2', '1', 'k', 'a'],
      ['FCALL', 'g2', '0'],
      ['FUNCTION', 'RESTORE', dump1],
      ['FUNCTION', 'RESTORE', dump1, 'APPEND'],
      ['FUNCTION', 'RESTORE', dump3],
      ['FUNCTION', 'LOAD', 'REPLACE', LIB1B],
      ['FCALL', 'f1', '0'],
      ['FUNCTION', 'RESTORE', dump1, 'REPLACE'],
      ['FCALL', 'f1', '0'],
      ['FUNCTION', 'RESTORE', dump1, 'FLUSH'],
      ['FUNCTION', 'LIST', 'WITHCODE'],
      ['FCALL', 'f2', '0'],
      ['FUNCTION', 'RESTORE', dump1, 'nonsense'],
      ['FUNCTION', 'RESTORE', dump1, 'FLUSH', 'x'],
      ['FUNCTION', 'RESTORE', 'garbage'],
      ['FUNCTION', 'RESTORE', Buffer.concat([dump1.subarray(0, 5), dump1.subarray(6)])],
      ['FUNCTION', 'RESTORE', ''],
      ['FUNCTION', 'LIST'],
    ]));

  test('a DUMP of a key is not a function payload', async () => {
    for (const c of [s.redis, s.ours]) await c.call(['SET', 'k', 'v']);
    const keyDump = bulk(await s.redis.call(['DUMP', 'k']));
    await s.same([['FUNCTION', 'RESTORE', keyDump]]);
  });

  test("redloop's payload restores into redis-server and back", async () => {
    for (const c of [s.redis, s.ours]) await c.call(['FUNCTION', 'FLUSH']);
    await s.ours.call(['FUNCTION', 'LOAD', LIB1]);
    await s.ours.call(['FUNCTION', 'LOAD', LIB2]);
    const ours = bulk(await s.ours.call(['FUNCTION', 'DUMP']));
    expect((await s.redis.call(['FUNCTION', 'RESTORE', ours])).toString()).toBe('+OK\r\n');
    const back = bulk(await s.redis.call(['FUNCTION', 'DUMP']));
    expect((await s.ours.call(['FUNCTION', 'RESTORE', back, 'FLUSH'])).toString()).toBe('+OK\r\n');
    await s.same([{ cmd: ['FUNCTION', 'LIST', 'WITHCODE'], match: 'unordered' }, ['FCALL', 'f1', '0'], ['FCALL_RO', 'f2', '1', 'x', 'y']]);
  });
});

describe('function libraries in dump.rdb', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'redloop-compat-fn-rdb-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test("redis-server's dump.rdb with functions loads into redloop, and redloop's into redis-server", async () => {
    const redisDir = mkdtempSync(join(dir, 'redis-'));
    const redis = await startRedis(['--dir', redisDir]);
    const rc = await RawClient.connect(redis.port);
    let list: Buffer;
    try {
      await rc.call(['FUNCTION', 'LOAD', LIB1]);
      await rc.call(['FUNCTION', 'LOAD', LIB2]);
      await rc.call(['SET', 'k', 'v']);
      expect((await rc.call(['SAVE'])).toString()).toBe('+OK\r\n');
      list = await rc.call(['FUNCTION', 'LIST', 'WITHCODE', 'LIBRARYNAME', 'lib1']);
    } finally {
      rc.close();
      await redis.stop();
    }
    // redis-server's file → redloop; then redloop saves it (functions and key) over it.
    const ours = await startServer(['--dir', redisDir]);
    const oc = await RawClient.connect(ours.respPort);
    try {
      await ours.waitForStderr(/DB loaded from disk: .*: 1 keys, 2 function libraries/);
      expect(await oc.call(['FUNCTION', 'LIST', 'WITHCODE', 'LIBRARYNAME', 'lib1'])).toEqual(list);
      expect((await oc.call(['FCALL', 'f2', '1', 'a', 'b'])).toString()).toBe('*3\r\n$1\r\na\r\n$1\r\nb\r\n:2\r\n');
      expect((await oc.call(['FUNCTION', 'DELETE', 'lib2'])).toString()).toBe('+OK\r\n');
      expect((await oc.call(['SAVE'])).toString()).toBe('+OK\r\n');
    } finally {
      oc.close();
      await ours.stop();
    }
    // redloop's file → redis-server.
    const again = await startRedis(['--dir', redisDir]);
    const ac = await RawClient.connect(again.port);
    try {
      expect(await ac.call(['FUNCTION', 'LIST', 'WITHCODE', 'LIBRARYNAME', 'lib1'])).toEqual(list);
      expect((await ac.call(['FUNCTION', 'LIST', 'LIBRARYNAME', 'lib2'])).toString()).toBe('*0\r\n');
      expect((await ac.call(['FCALL', 'f1', '0'])).toString()).toBe(':1\r\n');
      expect((await ac.call(['GET', 'k'])).toString()).toBe('$1\r\nv\r\n');
    } finally {
      ac.close();
      await again.stop();
    }
  });
});
