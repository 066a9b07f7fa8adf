// Never V8's heap limit (issue #11): a server started with a small heap and no
// maxmemory is filled by writers until -OOM — SET of 64 KiB values, SETRANGE
// far past the end, APPEND of 1 MiB chunks, HSET into one growing hash — and
// afterwards still answers reads and DEL, keeps its keys, accepts writes again
// once keys are deleted, and has not aborted. On each loop backend. Also: the
// start-up line states the limits, and the default start chooses the heap from
// the machine's memory (same pid, re-executed).

import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import v8 from 'node:v8';
import net from 'node:net';
import os from 'node:os';
import Redis from 'ioredis';
import { startServer, type TestServer } from './helpers/server.js';

const HEAP_MB = 192;
const OOM = /^OOM command not allowed/;

async function infoField(r: Redis, field: string): Promise<string> {
  const text = await r.info('memory');
  const line = text.split('\r\n').find((l) => l.startsWith(`${field}:`));
  if (line === undefined) throw new Error(`INFO memory has no ${field}`);
  return line.slice(field.length + 1);
}

/** Runs `write(i)` in pipelines of `batch` until a reply is -OOM; returns how many succeeded. */
async function fillUntilOom(r: Redis, batch: number, write: (p: ReturnType<Redis['pipeline']>, i: number) => void, max = 1_000_000): Promise<number> {
  let ok = 0;
  for (let i = 0; i < max; i += batch) {
    const p = r.pipeline();
    for (let j = i; j < i + batch; j++) write(p, j);
    let oom = false;
    for (const [err] of (await p.exec())!) {
      if (err === null) ok++;
      else if (OOM.test(err.message)) oom = true;
      else throw err;
    }
    if (oom) return ok;
  }
  throw new Error(`no -OOM after ${max} writes`);
}

describe.each(['poll', 'epoll', 'libuv'])('heap guard, --max-old-space-size=%s MB, no maxmemory (--loop %s)'.replace('%s MB', `${HEAP_MB} MB`), (loop) => {
  let srv: TestServer;
  let r: Redis;
  beforeAll(async () => {
    srv = await startServer(['--loop', loop], { nodeArgs: [`--max-old-space-size=${HEAP_MB}`] });
    r = new Redis({ port: srv.respPort, lazyConnect: true, maxRetriesPerRequest: 0 });
    await r.connect();
  });
  afterAll(async () => {
    r.disconnect();
    expect(srv.proc.exitCode).toBe(null); // still running: it never aborted
    expect(await srv.stop()).toBe(0);
  });

  test('the start-up line states the heap limit and where writes stop', async () => {
    await srv.waitForStderr(/memory: V8 heap limit [\d.]+ MiB \(the heap size node was given\); writes are refused with -OOM/);
    const limit = Number(await infoField(r, 'redloop_heap_limit'));
    expect(limit).toBeLessThan(HEAP_MB * 1.5 * 2 ** 20);
    expect(Number(await infoField(r, 'redloop_effective_maxmemory'))).toBeLessThan(limit * 0.7);
  });

  test('SET of 64 KiB values until -OOM; then reads, DEL, and writes again after DEL', async () => {
    const value = Buffer.alloc(64 * 1024, 'v').toString();
    const ok = await fillUntilOom(r, 16, (p, i) => p.set(`big:${i}`, value));
    expect(ok).toBeGreaterThan(100); // a real fill, not an early refusal
    // Values of 64 KiB live off V8's heap (store/bytes.ts): what stops them for good is the
    // cap on used_memory. The first refusal can come before it: from V8's sampled figures
    // (garbage — the decoder's strings — that a GC then frees), or with used_memory counting
    // the pipeline's query buffers, gone once it is served. So write on, one value at a time
    // (refusals allowed), until the keys alone — used_memory without the clients' buffers,
    // which shrink — are past the cap.
    const usedOverCap = async (): Promise<boolean> =>
      Number(await infoField(r, 'used_memory')) - Number(await infoField(r, 'mem_clients_normal')) >
      Number(await infoField(r, 'redloop_effective_maxmemory'));
    let extra = 0;
    for (let i = 0; !(await usedOverCap()); i++) {
      expect(i).toBeLessThan(5000);
      await r.set(`more:${i}`, value).then(
        () => extra++,
        (e: Error) => expect(e.message).toMatch(OOM),
      );
    }
    // Writing on is refused again and again, never a crash.
    for (let round = 0; round < 3; round++) await expect(r.set(`more:x${round}`, value)).rejects.toThrow(OOM);
    // The data is intact and readable; reads are not refused.
    expect(await r.get('big:0')).toBe(value);
    expect(await r.get(`big:${ok - 1}`)).toBe(value);
    expect(await r.strlen(`big:${ok >> 1}`)).toBe(value.length);
    expect(await r.dbsize()).toBe(ok + extra);
    // DEL frees room; writes succeed again.
    const dels = [];
    for (let i = 0; i < ok; i += 2) dels.push(`big:${i}`);
    expect(await r.del(...dels)).toBe(dels.length);
    expect(await r.set('after', value)).toBe('OK');
    await r.flushall();
  });

  test('SETRANGE far past the end and APPEND of 1 MiB chunks are refused before the heap fills', async () => {
    // Each SETRANGE asks for a 4 MB string with a ~20-byte request.
    const ranged = await fillUntilOom(r, 1, (p, i) => p.setrange(`range:${i}`, 4_000_000, 'x'));
    expect(ranged).toBeGreaterThan(3);
    expect(await r.strlen('range:0')).toBe(4_000_001);
    await expect(r.setrange('range:more', 4_000_000, 'x')).rejects.toThrow(OOM);
    await expect(r.exists('range:more')).resolves.toBe(0); // refused before anything was stored
    await r.flushall();
    const chunk = Buffer.alloc(1024 * 1024, 'a').toString();
    const appended = await fillUntilOom(r, 1, (p) => p.append('grow', chunk));
    expect(appended).toBeGreaterThan(3);
    expect(await r.strlen('grow')).toBe(appended * chunk.length); // a refused APPEND changed nothing
    expect(await r.getrange('grow', -3, -1)).toBe('aaa');
    expect(await r.del('grow')).toBe(1);
    expect(await r.append('grow', chunk)).toBe(chunk.length);
    await r.flushall();
  });

  test('partial requests that never complete: all clients together are held under half the cap (clients closed)', async () => {
    const cap = Number(await infoField(r, 'redloop_effective_maxmemory'));
    const before = Number((await r.info('stats')).match(/evicted_clients:(\d+)/)![1]);
    // Three clients each send 40% of the clients' limit (half the cap) of a bulk that never ends.
    const part = Math.floor(cap * 0.2);
    const socks = await Promise.all(
      [0, 1, 2].map(
        () =>
          new Promise<net.Socket>((resolve) => {
            const s = net.connect(srv.respPort, '127.0.0.1', () => resolve(s));
            s.on('error', () => {});
          }),
      ),
    );
    const closed = socks.map((s) => new Promise<void>((resolve) => s.on('close', () => resolve())));
    for (const s of socks) {
      s.write(`*3\r\n$3\r\nSET\r\n$4\r\nhuge\r\n$${part * 4}\r\n`);
      s.write(Buffer.alloc(part, 'p'));
    }
    await Promise.race(closed); // at least one is closed by the server
    expect(Number((await r.info('stats')).match(/evicted_clients:(\d+)/)![1])).toBeGreaterThan(before);
    expect(await r.ping()).toBe('PONG');
    expect(await r.exists('huge')).toBe(0);
    for (const s of socks) s.destroy();
    await Promise.all(closed);
  });

  test('a script looping over SETs gets -OOM from redis.call before the heap fills', async () => {
    const script = "local v = string.rep('x', 1048576) for i = 1, 100000 do redis.call('SET', 'lua:' .. i, v) end return 'done'";
    await expect(r.eval(script, 0)).rejects.toThrow(/OOM command not allowed/);
    expect(Number(await r.dbsize())).toBeGreaterThan(10); // it wrote until refused
    expect(await r.strlen('lua:1')).toBe(1048576);
    await r.flushall();
    expect(await r.set('after', 'x')).toBe('OK');
    await r.flushall();
  });

  test('HSET into one growing hash until -OOM; HGET and DEL still work', async () => {
    const ok = await fillUntilOom(r, 200, (p, i) => p.hset('h', `field:${i}`, `value:${i}:${'x'.repeat(4000)}`));
    expect(ok).toBeGreaterThan(1000);
    expect(await r.hget('h', 'field:7')).toBe(`value:7:${'x'.repeat(4000)}`);
    expect(await r.hlen('h')).toBe(ok);
    expect(await r.del('h')).toBe(1);
    expect(await r.set('after', 'x')).toBe('OK');
    await r.flushall();
  });
});

describe('heap chosen at start', () => {
  test('without a heap size, the server runs itself again with one from the machine memory (same pid)', async () => {
    const srv = await startServer(['--loop', 'poll']);
    const r = new Redis({ port: srv.respPort, lazyConnect: true, maxRetriesPerRequest: 0 });
    try {
      await r.connect();
      // On a machine whose 75% is not above V8's default heap (×1.1), there is nothing to choose.
      if (os.totalmem() * 0.75 <= v8.getHeapStatistics().heap_size_limit * 1.1) {
        await srv.waitForStderr(/memory: V8 heap limit [\d.]+ GiB \(V8's default\)/);
        return;
      }
      await srv.waitForStderr(/memory: V8 heap limit [\d.]+ GiB \(--max-old-space-size=\d+, 75% of/);
      const m = /--max-old-space-size=(\d+)/.exec(srv.stderr())!;
      // Its heap limit follows the flag (V8 adds the young generation on top).
      const limit = Number(await infoField(r, 'redloop_heap_limit'));
      expect(limit).toBeGreaterThanOrEqual(Number(m[1]) * 2 ** 20);
      expect(srv.pid).toBe(srv.proc.pid);
      expect(await r.ping()).toBe('PONG');
    } finally {
      r.disconnect();
      await srv.stop();
    }
  });

  test('REDLOOP_HEAP=keep keeps V8\'s default heap', async () => {
    const srv = await startServer(['--loop', 'poll'], { env: { REDLOOP_HEAP: 'keep' } });
    try {
      await srv.waitForStderr(`(V8's default (REDLOOP_HEAP=keep))`);
      // This test process runs with node's default heap too.
      const m = /V8 heap limit ([\d.]+) GiB/.exec(srv.stderr())!;
      expect(Math.abs(Number(m[1]) - v8.getHeapStatistics().heap_size_limit / 2 ** 30)).toBeLessThan(0.2);
    } finally {
      await srv.stop();
    }
  });
});
