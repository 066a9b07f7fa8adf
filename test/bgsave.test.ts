// Background saves end to end (src/persist/snapshot.ts, bgwriter.ts,
// src/servers/persistence.ts): BGSAVE under a concurrent write load writes
// exactly the keyspace as it was when BGSAVE answered — checked by loading the
// file into a fresh redloop and into redis-server, and with redis-check-rdb;
// -MISCONF after a failed background save; save rules firing on their own;
// SHUTDOWN's variants; SIGTERM saving; the writer thread's pipe in --trace.

import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Redis from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { startServer as spawnServer, type TestServer } from './helpers/server.js';
import { waitUntil } from './helpers/proc.js';
import { startRedis } from './compat/harness.js';
import { MISCONF } from '../src/servers/persistence.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'redloop-bgsave-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const servers: TestServer[] = [];
const clients: Redis[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.disconnect();
  for (const s of servers.splice(0)) {
    if (s.proc.exitCode === null && s.proc.signalCode === null) s.proc.kill('SIGKILL');
    await s.exited();
  }
});
const startServer = async (args: string[]): Promise<TestServer> => {
  const s = await spawnServer(args);
  servers.push(s);
  return s;
};
const connect = async (port: number): Promise<Redis> => {
  const r = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, enableOfflineQueue: false, retryStrategy: () => null });
  clients.push(r);
  await r.connect();
  return r;
};
const info = async (r: Redis): Promise<Record<string, string>> =>
  Object.fromEntries(
    (await r.info('persistence'))
      .split('\r\n')
      .filter((l) => l.includes(':'))
      .map((l) => l.split(':') as [string, string]),
  );
/** Polls INFO until no background save runs. */
const bgsaveDone = async (r: Redis): Promise<Record<string, string>> => {
  let last: Record<string, string> = {};
  for (let i = 0; i < 2000; i++) {
    last = await info(r);
    if (last.rdb_bgsave_in_progress === '0') return last;
  }
  throw new Error(`the background save never ended: ${JSON.stringify(last)}`);
};
const freshDir = (name: string): string => {
  const d = mkdtempSync(join(dir, `${name}-`));
  return d;
};

// The keyspace at BGSAVE time: strings, lists, hashes, keys with a TTL.
const N = 40_000;
const LISTS = 2_000;
const HASHES = 2_000;
const TTLS = 3_000;
const FAR = 9_000_000_000_000; // PEXPIREAT, unix ms, far in the future

async function populate(r: Redis): Promise<void> {
  for (let base = 0; base < N; base += 5000) {
    const p = r.pipeline();
    for (let i = base; i < base + 5000; i++) p.set(`s:${i}`, `v${i}`);
    await p.exec();
  }
  const p = r.pipeline();
  for (let i = 0; i < LISTS; i++) p.rpush(`l:${i}`, 'a', 'b', `${i}`);
  for (let i = 0; i < HASHES; i++) p.hset(`h:${i}`, 'f', `${i}`, 'g', 'x');
  for (let i = 0; i < TTLS; i++) p.set(`t:${i}`, `ttl${i}`, 'PXAT', FAR + i);
  await p.exec();
}

/** Every key of the BGSAVE-time keyspace holds its value there, and nothing else is there. */
async function expectPointInTime(r: Redis): Promise<void> {
  expect(await r.dbsize()).toBe(N + LISTS + HASHES + TTLS);
  for (let base = 0; base < N; base += 5000) {
    const got = await r.mget(...Array.from({ length: 5000 }, (_, j) => `s:${base + j}`));
    got.forEach((v, j) => {
      if (v !== `v${base + j}`) throw new Error(`s:${base + j} is ${v}, was v${base + j} at BGSAVE time`);
    });
  }
  const p = r.pipeline();
  for (let i = 0; i < LISTS; i++) p.lrange(`l:${i}`, 0, -1);
  for (let i = 0; i < HASHES; i++) p.hgetall(`h:${i}`);
  for (let i = 0; i < TTLS; i++) p.pexpiretime(`t:${i}`);
  const res = (await p.exec())!.map(([e, v]) => {
    if (e) throw e;
    return v;
  });
  for (let i = 0; i < LISTS; i++) expect(res[i]).toEqual(['a', 'b', `${i}`]);
  for (let i = 0; i < HASHES; i++) expect(res[LISTS + i]).toEqual({ f: `${i}`, g: 'x' });
  // The TTL survives (PERSIST after BGSAVE is not in the file). Deadlines are held on the
  // monotonic clock and converted to unix ms at SET and at save (as SAVE does): a few ms may move.
  for (let i = 0; i < TTLS; i++) expect(Math.abs((res[LISTS + HASHES + i] as number) - (FAR + i))).toBeLessThan(1000);
  expect(await r.exists('new:0', 'new:1999')).toBe(0);
}

describe('BGSAVE', () => {
  test.each(['poll', 'epoll', 'libuv'])(
    'under a concurrent write load the file holds exactly the keyspace at BGSAVE time (--loop %s); redloop, redis-server and redis-check-rdb agree',
    async (loop) => {
      const d = freshDir(`pit-${loop}`);
      const srv = await startServer(['--dir', d, '--save', '', '--loop', loop, '--quiet']);
      const r = await connect(srv.respPort);
      await populate(r);
      // BGSAVE and the writes that follow it go in one pipeline: they run between the save's slices.
      const p = r.pipeline();
      p.bgsave();
      for (let i = N - 1; i >= 0; i--) {
        if (i % 3 === 0) p.del(`s:${i}`);
        else p.set(`s:${i}`, `changed${i}`);
      }
      for (let i = 0; i < LISTS; i++) p.lpush(`l:${i}`, 'pushed'); // in place
      for (let i = 0; i < HASHES; i++) p.hset(`h:${i}`, 'f', 'changed'); // in place
      for (let i = 0; i < TTLS; i++) p.persist(`t:${i}`); // TTL only
      for (let i = 0; i < 2000; i++) p.set(`new:${i}`, 'born after');
      const replies = (await p.exec())!;
      expect(replies[0]).toEqual([null, 'Background saving started']);
      const done = await bgsaveDone(r);
      expect(done.rdb_last_bgsave_status).toBe('ok');
      // Writes reached keys the walk had not: their old values were preserved first.
      expect(Number(done.rdb_last_cow_size)).toBeGreaterThan(0);
      expect(await r.get('s:1')).toBe('changed1');
      expect(await r.lrange('l:0', 0, 0)).toEqual(['pushed']);
      r.call('shutdown', 'nosave').catch(() => {}); // no reply: the server closes the connection and exits
      expect(await srv.exited()).toBe(0);
      expect(existsSync(join(d, `temp-${srv.pid}.rdb`))).toBe(false);

      const check = spawnSync('redis-check-rdb', [join(d, 'dump.rdb')], { encoding: 'utf8' });
      expect(check.status, check.stdout + check.stderr).toBe(0);
      expect(check.stdout).toContain('RDB looks OK');

      const again = await startServer(['--dir', d, '--save', '']);
      await again.waitForStderr(/DB loaded from disk/);
      await expectPointInTime(await connect(again.respPort));

      const redis = await startRedis(['--dir', d, '--dbfilename', 'dump.rdb']);
      try {
        await expectPointInTime(await connect(redis.port));
      } finally {
        await redis.stop();
      }
    },
    120_000,
  );

  test('with rdbchecksum no the file ends in 8 zero bytes (the trailer Redis writes without a checksum): redis-check-rdb and redis-server load it', async () => {
    const d = freshDir('nochecksum');
    const srv = await startServer(['--dir', d, '--save', '', '--rdbchecksum', 'no']);
    const r = await connect(srv.respPort);
    await r.set('a', '1');
    await r.rpush('l', 'x', 'y');
    expect(await r.bgsave()).toBe('Background saving started');
    expect((await bgsaveDone(r)).rdb_last_bgsave_status).toBe('ok');
    const bytes = readFileSync(join(d, 'dump.rdb'));
    expect(bytes[bytes.length - 9]).toBe(0xff); // the EOF opcode, then the trailer
    expect([...bytes.subarray(bytes.length - 8)]).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
    const check = spawnSync('redis-check-rdb', [join(d, 'dump.rdb')], { encoding: 'utf8' });
    expect(check.status, check.stdout + check.stderr).toBe(0);
    const redis = await startRedis(['--dir', d, '--dbfilename', 'dump.rdb']);
    try {
      const rc = await connect(redis.port);
      expect(await rc.get('a')).toBe('1');
      expect(await rc.lrange('l', 0, -1)).toEqual(['x', 'y']);
    } finally {
      await redis.stop();
    }
  });

  test('a save bigger than the writer ring (8 MiB): chunks wrap around it and wait for space; a value bigger than the ring goes on its own', async () => {
    const d = freshDir('ring');
    const srv = await startServer(['--dir', d, '--save', '']);
    const r = await connect(srv.respPort);
    // Random bytes do not compress: 24 MiB of values, and one value of 9 MiB.
    const values = Array.from({ length: 3000 }, () => randomBytes(8192));
    for (let base = 0; base < values.length; base += 500) {
      const p = r.pipeline();
      for (let i = base; i < base + 500; i++) p.set(`big:${i}`, values[i]);
      await p.exec();
    }
    const huge = randomBytes(9 * 1024 * 1024);
    await r.set('huge', huge);
    expect(await r.bgsave()).toBe('Background saving started');
    const done = await bgsaveDone(r);
    expect(done.rdb_last_bgsave_status).toBe('ok');
    r.call('shutdown', 'nosave').catch(() => {});
    await srv.exited();
    const check = spawnSync('redis-check-rdb', [join(d, 'dump.rdb')], { encoding: 'utf8' });
    expect(check.status, check.stdout + check.stderr).toBe(0);
    const again = await startServer(['--dir', d, '--save', '']);
    const back = await connect(again.respPort);
    expect(await back.dbsize()).toBe(values.length + 1);
    expect((await back.getBuffer('huge'))!.equals(huge)).toBe(true);
    for (let base = 0; base < values.length; base += 500) {
      const got = await back.mgetBuffer(...Array.from({ length: 500 }, (_, j) => `big:${base + j}`));
      got.forEach((v, j) => expect(v!.equals(values[base + j])).toBe(true));
    }
  }, 60_000);

  test('BGSAVE while one runs: the error; SAVE too; SCHEDULE inside MULTI is scheduled and runs; LASTSAVE moves', async () => {
    const d = freshDir('replies');
    const srv = await startServer(['--dir', d, '--save', '']);
    const r = await connect(srv.respPort);
    await populate(r);
    const before = await r.lastsave();
    const p = r.pipeline();
    p.bgsave();
    p.bgsave();
    p.call('bgsave', 'schedule');
    p.save();
    const res = await p.exec();
    expect(res![0]).toEqual([null, 'Background saving started']);
    expect(res![1][0]!.message).toBe('ERR Background save already in progress');
    expect(res![2][0]!.message).toBe('ERR Background save already in progress');
    expect(res![3][0]!.message).toBe('ERR Background save already in progress');
    await bgsaveDone(r);
    await srv.waitForStderr('Background saving terminated with success');
    const m = await r.multi().bgsave().exec();
    expect(m).toEqual([[null, 'Background saving scheduled']]);
    await srv.waitForStderr(/terminated with success[\s\S]*terminated with success/);
    const st = await info(r);
    expect(st.rdb_saves).toBe('2');
    expect(Number(st.rdb_last_bgsave_time_sec)).toBeGreaterThanOrEqual(0);
    expect(st.rdb_current_bgsave_time_sec).toBe('-1');
    expect(await r.lastsave()).toBeGreaterThanOrEqual(before);
    expect(await r.call('bgsave', 'now').catch((e: Error) => e.message)).toBe('ERR syntax error');
  });

  test('a failed background save: -MISCONF on writes and PING until a save succeeds; stop-writes-on-bgsave-error no lifts it', async () => {
    const d = freshDir('misconf');
    const srv = await startServer(['--dir', d, '--save', '3600 1']);
    const r = await connect(srv.respPort);
    await r.set('k', 'v');
    // The directory replaced by a file: the writer thread cannot create its temp file.
    rmSync(d, { recursive: true });
    writeFileSync(d, 'not a directory');
    expect(await r.bgsave()).toBe('Background saving started');
    await srv.waitForStderr(/Background saving error: ENOTDIR/);
    expect((await info(r)).rdb_last_bgsave_status).toBe('err');
    await expect(r.set('k', 'w')).rejects.toThrow(MISCONF);
    await expect(r.ping()).rejects.toThrow(MISCONF);
    await expect(r.multi().set('k', 'w').exec()).rejects.toThrow(/EXECABORT/);
    expect(await r.get('k')).toBe('v'); // reads are served
    await r.config('SET', 'stop-writes-on-bgsave-error', 'no');
    expect(await r.set('k', 'w')).toBe('OK');
    await r.config('SET', 'stop-writes-on-bgsave-error', 'yes');
    await expect(r.set('k', 'x')).rejects.toThrow(MISCONF);
    // The directory back: a successful save lifts it.
    rmSync(d);
    mkdirSync(d);
    expect(await r.bgsave()).toBe('Background saving started');
    await srv.waitForStderr('Background saving terminated with success');
    expect(await r.set('k', 'x')).toBe('OK');
    expect((await info(r)).rdb_last_bgsave_status).toBe('ok');
  });

  test('a save rule "1 1" fires on its own: the log line, LASTSAVE moves, the file holds the write', async () => {
    const d = freshDir('rules');
    const srv = await startServer(['--dir', d, '--save', '1 1']);
    const r = await connect(srv.respPort);
    const first = await r.lastsave();
    expect((await r.config('GET', 'save'))).toEqual(['save', '1 1']);
    await r.set('ruled', 'yes');
    await srv.waitForStderr('1 changes in 1 seconds. Saving...', 10_000);
    await waitUntil(() => existsSync(join(d, 'dump.rdb')), 'dump.rdb');
    let last = first;
    for (let i = 0; i < 5000 && last === first; i++) last = await r.lastsave();
    expect(last).toBeGreaterThan(first);
    expect((await info(r)).rdb_changes_since_last_save).toBe('0');
    expect(readFileSync(join(d, 'dump.rdb')).includes(Buffer.from('ruled'))).toBe(true);
    // CONFIG SET save "" turns the rules off.
    await r.config('SET', 'save', '');
    expect(await r.config('GET', 'save')).toEqual(['save', '']);
  });
});

describe('SHUTDOWN and signals', () => {
  test('argument errors as Redis; ABORT: no shutdown in progress; inside MULTI refused', async () => {
    const srv = await startServer(['--dir', freshDir('args')]);
    const r = await connect(srv.respPort);
    const msg = (p: Promise<unknown>) => p.then(() => 'no error', (e: Error) => e.message);
    expect(await msg(r.call('shutdown', 'foo'))).toBe('ERR syntax error');
    expect(await msg(r.call('shutdown', 'nosave', 'save'))).toBe('ERR syntax error');
    expect(await msg(r.call('shutdown', 'abort', 'now'))).toBe('ERR syntax error');
    expect(await msg(r.call('shutdown', 'abort'))).toBe('ERR No shutdown in progress.');
    expect(await msg(r.multi().call('shutdown').exec())).toMatch(/EXECABORT|not allowed/);
    expect(await r.ping()).toBe('PONG');
  });

  test('SHUTDOWN saves when save rules are set; NOSAVE does not; SAVE does without rules', async () => {
    const d1 = freshDir('sd1');
    let srv = await startServer(['--dir', d1, '--save', '3600 1']);
    let r = await connect(srv.respPort);
    await r.set('a', '1');
    r.call('shutdown').catch(() => {});
    expect(await srv.exited()).toBe(0);
    expect(srv.stderr()).toContain('Saving the final RDB snapshot before exiting.');
    expect(readFileSync(join(d1, 'dump.rdb')).includes(Buffer.from('a'))).toBe(true);

    const d2 = freshDir('sd2');
    srv = await startServer(['--dir', d2, '--save', '3600 1']);
    r = await connect(srv.respPort);
    await r.set('a', '1');
    r.call('shutdown', 'nosave').catch(() => {});
    await srv.exited();
    expect(existsSync(join(d2, 'dump.rdb'))).toBe(false);

    const d3 = freshDir('sd3');
    srv = await startServer(['--dir', d3, '--save', '']);
    r = await connect(srv.respPort);
    await r.set('b', '2');
    r.call('shutdown', 'save', 'now').catch(() => {});
    await srv.exited();
    expect(readFileSync(join(d3, 'dump.rdb')).includes(Buffer.from('b'))).toBe(true);
  });

  test('SHUTDOWN whose save fails: an error, the server keeps serving; FORCE exits anyway', async () => {
    const d = freshDir('sdfail');
    const srv = await startServer(['--dir', d, '--save', '3600 1']);
    const r = await connect(srv.respPort);
    await r.set('a', '1');
    rmSync(d, { recursive: true });
    writeFileSync(d, 'not a directory');
    await expect(r.call('shutdown')).rejects.toThrow('ERR Errors trying to SHUTDOWN. Check logs.');
    await srv.waitForStderr("Error trying to save the DB, can't exit.");
    expect(await r.get('a')).toBe('1');
    r.call('shutdown', 'force').catch(() => {});
    expect(await srv.exited()).toBe(0);
    expect(srv.stderr()).toContain('Error trying to save the DB. Exit anyway.');
  });

  test('SIGTERM saves when save rules are set (and not with --save "")', async () => {
    const d = freshDir('sigterm');
    let srv = await startServer(['--dir', d]); // the helper adds --save "" …
    let r = await connect(srv.respPort);
    await r.set('x', '1');
    await srv.stop();
    expect(existsSync(join(d, 'dump.rdb'))).toBe(false);
    srv = await startServer(['--dir', d, '--save', '3600 1 300 100 60 10000']); // … Redis's default rules
    r = await connect(srv.respPort);
    await r.set('sig', 'saved');
    expect(await srv.stop()).toBe(0);
    expect(srv.stderr()).toMatch(/received SIGTERM, shutting down[\s\S]*DB saved on disk/);
    const again = await startServer(['--dir', d]);
    expect(await (await connect(again.respPort)).get('sig')).toBe('saved');
  });
});

describe('--trace', () => {
  test.each(['poll', 'epoll'])('the writer thread pipe sits in the poll set with its label (--loop %s)', async (loop) => {
    const srv = await startServer(['--dir', freshDir(`trace-${loop}`), '--trace', '--loop', loop]);
    const r = await connect(srv.respPort);
    await r.set('k', 'v');
    expect(await r.bgsave()).toBe('Background saving started');
    await srv.waitForStderr('Background saving terminated with success');
    const t = srv.stderr();
    const fd = /fd (\d+) bgwriter-pipe/.exec(t)![1];
    // The thread's completion woke the wait: the pipe came back readable, and the loop read it.
    const waited = loop === 'poll' ? new RegExp(`poll\\(\\[[^\\]]*\\b${fd}:IN[^\\]]*\\], \\d+, -?\\d+\\) = \\d+ \\[[^\\]]*\\b${fd}:IN`) : new RegExp(`epoll_wait\\(.*\\) = \\d+ \\[[^\\]]*\\b${fd}:IN`);
    expect(t).toMatch(waited);
    expect(t).toMatch(new RegExp(`read\\(${fd}, 4096\\) = \\d+`));
    expect(t).toContain('timers: bgsave slice');
  });
});
