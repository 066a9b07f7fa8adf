// Transactions and client control through the Node clients people use
// (ioredis 6's multi()/watch(), node-redis 6's multi()/watch() on RESP2) on
// every backend, plus what the differential suite cannot compare: a client
// killed mid-transaction leaves no trace, CLIENT LIST reports real fields,
// MONITOR streams, CLIENT PAUSE holds writes, and MULTI/EXEC on the book port.

import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import Redis from 'ioredis';
import { createClient } from 'redis';
import { BookClient, startServer, type TestServer } from './helpers/server.js';
import type { BookValue } from '../src/protocol/book.js';

const str = (s: string): BookValue => ({ type: 'str', value: Buffer.from(s, 'latin1') });
const nil: BookValue = { type: 'nil' };

const LOOPS = ['poll', 'epoll', 'libuv'] as const;

describe.each(LOOPS)('--loop %s', (loop) => {
  let server: TestServer;
  const open: Redis[] = [];
  const client = (): Redis => {
    const r = new Redis({ port: server.respPort, host: '127.0.0.1', maxRetriesPerRequest: 0, lazyConnect: true });
    open.push(r);
    return r;
  };
  beforeAll(async () => {
    server = await startServer(['--loop', loop]);
  });
  afterAll(async () => {
    for (const r of open) r.disconnect();
    await server.stop();
  });

  test('ioredis multi() runs atomically and returns every reply', async () => {
    const r = client();
    const res = await r.multi().set('t:a', '1').incr('t:a').lpush('t:a', 'x').get('t:a').exec();
    expect(res![0]).toEqual([null, 'OK']);
    expect(res![1]).toEqual([null, 2]);
    expect(res![2][0]).toBeInstanceOf(Error);
    expect((res![2][0] as Error).message).toMatch(/^WRONGTYPE/);
    expect(res![3]).toEqual([null, '2']);
  });

  test('ioredis watch(): a write by another client makes exec() resolve to null; untouched, it runs', async () => {
    const a = client();
    const b = client();
    await a.set('t:w', '10');
    await a.watch('t:w');
    await b.incr('t:w');
    expect(await a.multi().incr('t:w').exec()).toBeNull();
    expect(await a.get('t:w')).toBe('11');

    await a.watch('t:w');
    expect(await a.multi().incr('t:w').exec()).toEqual([[null, 12]]);
  });

  test('node-redis 6 multi() and watch() (RESP2)', async () => {
    const a = createClient({ socket: { port: server.respPort, host: '127.0.0.1' }, RESP: 2 });
    const b = createClient({ socket: { port: server.respPort, host: '127.0.0.1' }, RESP: 2 });
    a.on('error', () => {});
    b.on('error', () => {});
    await a.connect();
    await b.connect();
    try {
      expect(await a.multi().set('t:nr', '1').incr('t:nr').exec()).toEqual(['OK', 2]);
      // `a` is a connection of its own: WATCH applies to it.
      await a.watch('t:nr');
      await b.set('t:nr', 'changed');
      await expect(a.multi().get('t:nr').exec()).rejects.toThrow(/watch/i);
      expect(await a.multi().get('t:nr').exec()).toEqual(['changed']);
    } finally {
      a.destroy();
      b.destroy();
    }
  });

  test('a client killed mid-transaction leaves no trace; the killer gets the count', async () => {
    const victim = new Redis({ port: server.respPort, host: '127.0.0.1', maxRetriesPerRequest: 0, retryStrategy: () => null });
    open.push(victim);
    const killer = client();
    await victim.client('SETNAME', 'victim');
    const id = await victim.client('ID');
    victim.on('error', () => {});
    const closed = new Promise<void>((resolve) => victim.once('close', () => resolve()));
    await victim.call('MULTI');
    await victim.call('SET', 't:never', '1');
    expect(await killer.client('KILL', 'ID', String(id))).toBe(1);
    await closed; // the server closed the victim's connection
    expect(await killer.exists('t:never')).toBe(0);
    const list = (await killer.client('LIST')) as string;
    expect(list).not.toContain('name=victim');
  });

  test('CLIENT LIST shows the real fd, flags, multi count and command of each client', async () => {
    const a = client();
    const b = client();
    await a.client('SETNAME', 'in-multi');
    await a.call('MULTI');
    await a.call('SET', 'x', '1');
    await a.call('SET', 'y', '2');
    const line = ((await b.client('LIST')) as string).split('\n').find((l) => l.includes('name=in-multi'))!;
    const fields = Object.fromEntries(line.split(' ').map((kv) => kv.split('=') as [string, string]));
    expect(fields.flags).toBe('x');
    expect(fields.multi).toBe('2');
    expect(fields.cmd).toBe('set'); // the last command looked up, queued included (Redis's lastcmd)
    expect(Number(fields.fd)).toBeGreaterThan(2);
    expect(Number(fields['multi-mem'])).toBe('SETx1SETy2'.length);
    const own = (await b.client('INFO')) as string;
    expect(own).toMatch(/ cmd=client\|info /);
    expect(own).toMatch(/ argv-mem=10 /);
    await a.call('DISCARD');
  });

  test('MONITOR streams every command another client runs', async () => {
    const mon = client();
    const lines: string[] = [];
    const monitor = await mon.monitor();
    const got = new Promise<void>((resolve) =>
      monitor.on('monitor', (_time: string, args: string[]) => {
        lines.push(args.join(' '));
        if (args[0] === 'get') resolve();
      }),
    );
    const other = client();
    await other.set('t:m', 'v');
    await other.get('t:m');
    await got;
    expect(lines).toContain('set t:m v');
    expect(lines).toContain('get t:m');
    monitor.disconnect();
  });

  test('CLIENT PAUSE WRITE: reads are served, a write waits until UNPAUSE', async () => {
    const admin = client();
    const writer = client();
    const reader = client();
    await Promise.all([writer.ping(), reader.ping()]); // connected before the pause
    await admin.client('PAUSE', '60000', 'WRITE');
    let done = false;
    const pending = writer.set('t:p', 'v').then((r) => ((done = true), r));
    expect(await reader.get('t:p')).toBeNull(); // served while the write waits
    // The write was sent before the GET above on another connection and is still waiting.
    const list = (await admin.client('LIST')) as string;
    expect(list).toMatch(/flags=b .* cmd=set /);
    expect(done).toBe(false);
    await admin.client('UNPAUSE');
    expect(await pending).toBe('OK');
    expect(await reader.get('t:p')).toBe('v');
  });
});

describe('limits', () => {
  test('a MULTI queue is bounded by the client query buffer limit: past it, an error and the connection closes', async () => {
    const server = await startServer(['--client-query-buffer-limit', '1000']);
    try {
      const r = new Redis({ port: server.respPort, host: '127.0.0.1', maxRetriesPerRequest: 0, retryStrategy: () => null });
      r.on('error', () => {});
      const closed = new Promise<void>((resolve) => r.once('close', () => resolve()));
      await r.call('MULTI');
      const value = 'v'.repeat(300);
      expect(await r.call('SET', 'a', value)).toBe('QUEUED');
      expect(await r.call('SET', 'b', value)).toBe('QUEUED');
      expect(await r.call('SET', 'c', value)).toBe('QUEUED');
      await expect(r.call('SET', 'd', value)).rejects.toThrow(/MULTI queue over the client query buffer limit/);
      await closed;
      const other = new Redis({ port: server.respPort, host: '127.0.0.1' });
      expect(await other.exists('a', 'b', 'c', 'd')).toBe(0);
      other.disconnect();
    } finally {
      await server.stop();
    }
  });
});

describe('MULTI/EXEC on the book port', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer(['--no-resp']);
  });
  afterAll(async () => {
    await server.stop();
  });

  test('queued replies are strs; EXEC is one arr of the queued replies', async () => {
    const c = await BookClient.connect(server.bookPort);
    expect(await c.call('multi')).toEqual(str('OK'));
    expect(await c.call('set', 'k', 'v')).toEqual(str('QUEUED'));
    expect(await c.call('get', 'k')).toEqual(str('QUEUED'));
    expect(await c.call('exec')).toEqual({ type: 'arr', items: [nil, str('v')] });
    expect(await c.call('exec')).toEqual({ type: 'err', code: 1, msg: 'ERR EXEC without MULTI' });
    c.close();
  });
});
