// maxmemory against the spawned server, on each loop backend: a write load
// many times maxmemory keeps used_memory under maxmemory (plus the slack of
// one command and the clients' buffers, stated below) and RSS bounded; keys
// are evicted per policy (allkeys-lru keeps a key read every round while the
// LRU clock ticks; volatile-* keeps keys without a TTL); noeviction answers
// -OOM to writes while reads and DEL still work; CONFIG SET takes effect live.

import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import Redis from 'ioredis';
import { startServer, type TestServer } from './helpers/server.js';
import { procStatusBytes, RawClient } from './helpers/proc.js';

const MiB = 1 << 20;
const MAXMEMORY = 4 * MiB;
/**
 * How far over maxmemory used_memory may read between commands: evictions
 * run before each command, so the last write (a 1 KiB value here) and the
 * pipelined requests still buffered may be on top.
 */
const SLACK = 256 * 1024;

async function infoField(r: Redis, section: string, field: string): Promise<string> {
  const text = await r.info(section);
  const line = text.split('\r\n').find((l) => l.startsWith(`${field}:`));
  if (line === undefined) throw new Error(`INFO ${section} has no ${field}`);
  return line.slice(field.length + 1);
}

/** Writes n keys `prefix:i` of `size` bytes in pipelines of 100; returns the OOM errors seen. */
async function writeKeys(r: Redis, prefix: string, n: number, size: number, ttlSeconds = 0): Promise<number> {
  const value = 'v'.repeat(size);
  let oom = 0;
  for (let i = 0; i < n; i += 100) {
    const p = r.pipeline();
    for (let j = i; j < Math.min(n, i + 100); j++) {
      if (ttlSeconds > 0) p.set(`${prefix}:${j}`, value, 'EX', ttlSeconds);
      else p.set(`${prefix}:${j}`, value);
    }
    for (const [err] of (await p.exec())!) if (err !== null && /^OOM /.test(err.message)) oom++;
  }
  return oom;
}

describe.each(['poll', 'epoll', 'libuv'])('maxmemory (--loop %s)', (loop) => {
  let srv: TestServer;
  let r: Redis;
  beforeAll(async () => {
    srv = await startServer(['--loop', loop, '--maxmemory', String(MAXMEMORY), '--maxmemory-policy', 'allkeys-lru']);
    r = new Redis({ port: srv.respPort, lazyConnect: true, maxRetriesPerRequest: 0 });
    await r.connect();
  });
  afterAll(async () => {
    r.disconnect();
    await srv.stop();
  });

  test('allkeys-lru: writing 20x maxmemory keeps used_memory under maxmemory + slack, RSS bounded', async () => {
    await r.flushall();
    const rssBefore = procStatusBytes(srv.pid, 'VmRSS');
    let rssHalfway = 0;
    for (let round = 0; round < 20; round++) {
      if (round === 10) rssHalfway = procStatusBytes(srv.pid, 'VmRSS');
      expect(await writeKeys(r, `load${round}`, 4000, 1024)).toBe(0);
      const used = Number(await infoField(r, 'memory', 'used_memory'));
      expect(used).toBeLessThanOrEqual(MAXMEMORY + SLACK);
    }
    expect(Number(await infoField(r, 'stats', 'evicted_keys'))).toBeGreaterThan(70_000);
    expect(await r.dbsize()).toBeLessThan(4000);
    // 80 MiB written; the process grows by far less, and not in proportion (loosely: V8's
    // young generation and uncollected garbage come on top of the bounded data).
    const rssAfter = procStatusBytes(srv.pid, 'VmRSS');
    expect(rssAfter - rssBefore).toBeLessThan(64 * MiB);
    expect(rssAfter - rssHalfway).toBeLessThan(24 * MiB); // measured: 6-8 MiB (the first half: ~40)
  });

  test('allkeys-lru keeps a key read every round while the LRU clock ticks', async () => {
    await r.flushall();
    await r.set('hot', 'x');
    const survived: boolean[] = [];
    for (let round = 0; round < 4; round++) {
      // Wait for the next second of the 24-bit LRU clock (its resolution), so this round's keys are younger.
      const clock = await infoField(r, 'server', 'lru_clock');
      while ((await infoField(r, 'server', 'lru_clock')) === clock) await r.ping();
      expect(await r.get('hot')).toBe('x');
      await writeKeys(r, `round${round}`, 2500, 1024);
      survived.push((await r.exists('hot')) === 1);
    }
    expect(survived).toEqual([true, true, true, true]);
    // Most of the first round's keys have gone.
    let first = 0;
    for (let i = 0; i < 2500; i += 25) first += await r.exists(`round0:${i}`);
    expect(first).toBeLessThan(20);
  });

  test('volatile-lru evicts only keys with a TTL; with none left, -OOM', async () => {
    await r.flushall();
    await r.config('SET', 'maxmemory-policy', 'volatile-lru');
    expect(await writeKeys(r, 'keep', 500, 1024)).toBe(0);
    expect(await writeKeys(r, 'ttl', 8000, 1024, 1000)).toBe(0);
    for (let i = 0; i < 500; i++) expect(await r.exists(`keep:${i}`)).toBe(1);
    expect(Number(await infoField(r, 'keyspace', 'db0').then((s) => /expires=(\d+)/.exec(s)![1]))).toBeLessThan(8000);
    // Only persistent keys would be left to evict: writes past the limit are refused.
    const oom = await writeKeys(r, 'more', 8000, 1024);
    expect(oom).toBeGreaterThan(0);
    for (let i = 0; i < 500; i++) expect(await r.exists(`keep:${i}`)).toBe(1);
    await r.config('SET', 'maxmemory-policy', 'allkeys-lru');
  });

  test('noeviction: writes answer -OOM, reads and DEL work, and freeing memory lets writes in again', async () => {
    await r.flushall();
    await r.config('SET', 'maxmemory-policy', 'noeviction');
    const oom = await writeKeys(r, 'fill', 8000, 1024);
    expect(oom).toBeGreaterThan(0);
    await expect(r.set('one-more', 'x')).rejects.toThrow("OOM command not allowed when used memory > 'maxmemory'.");
    expect(await r.get('fill:0')).toBe('v'.repeat(1024));
    expect(await r.del(...Array.from({ length: 1000 }, (_, i) => `fill:${i}`))).toBe(1000);
    expect(await r.set('one-more', 'x')).toBe('OK');
    expect(Number(await infoField(r, 'memory', 'used_memory'))).toBeLessThanOrEqual(MAXMEMORY + SLACK);
    await r.config('SET', 'maxmemory-policy', 'allkeys-lru');
  });

  test('CONFIG SET maxmemory lower evicts at once; 0 lifts the limit', async () => {
    await r.flushall();
    await writeKeys(r, 'k', 3000, 1024);
    await r.config('SET', 'maxmemory', String(MiB));
    // One eviction run stops at maxmemory-eviction-tenacity's time limit (500 µs) and a timer
    // carries on, as in Redis: each INFO also runs evictions first. Wait for the result.
    let used = Infinity;
    for (let tries = 0; tries < 1000 && used > MiB + SLACK; tries++) used = Number(await infoField(r, 'memory', 'used_memory'));
    expect(used).toBeLessThanOrEqual(MiB + SLACK);
    expect(await infoField(r, 'memory', 'maxmemory_human')).toBe('1.00M');
    await r.config('SET', 'maxmemory', '0');
    expect(await writeKeys(r, 'big', 8000, 1024)).toBe(0);
    expect(await r.dbsize()).toBeGreaterThanOrEqual(8000);
    expect(Number(await infoField(r, 'memory', 'used_memory'))).toBeGreaterThan(8000 * 1024);
    await r.config('SET', 'maxmemory', String(MAXMEMORY));
  });
});

describe.each(['poll', 'epoll', 'libuv'])('maxmemory-clients (--loop %s)', (loop) => {
  let srv: TestServer;
  beforeAll(async () => {
    srv = await startServer(['--loop', loop, '--maxmemory-clients', '1mb']);
  });
  afterAll(async () => {
    await srv.stop();
  });

  test('the client holding the most memory is evicted; CLIENT NO-EVICT exempts; evicted_clients counts', async () => {
    const hog = await RawClient.connect(srv.respPort);
    const exempt = await RawClient.connect(srv.respPort);
    exempt.sock.write('CLIENT NO-EVICT on\r\n');
    await exempt.waitFor(() => exempt.received.toString().includes('+OK'), 'NO-EVICT reply');
    // Each sends 2 MB of a 5 MB bulk: the server holds it in their query buffers.
    const partial = '*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5000000\r\n' + 'x'.repeat(2_000_000);
    hog.sock.write(partial);
    exempt.sock.write(partial);
    const r = new Redis({ port: srv.respPort, lazyConnect: true, maxRetriesPerRequest: 0 });
    await r.connect();
    // Clients' memory is summed every 100 ms at most, before a command: keep commands coming until the hog is gone.
    for (let i = 0; i < 10_000 && !hog.closed; i++) await r.ping();
    expect(hog.closed).toBe(true);
    expect(exempt.closed).toBe(false);
    expect(await infoField(r, 'stats', 'evicted_clients')).toBe('1');
    expect(await r.ping()).toBe('PONG');
    r.disconnect();
    exempt.sock.destroy();
  });
});
