// node-redis 6 as its users run it: default options, so it opens with HELLO 3
// and speaks RESP3 — maps decode to objects, doubles to numbers, `_` to null.
// Commands, a pipeline, MULTI/EXEC with WATCH, errors, on every backend.

import { createClient } from 'redis';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startServer, type TestServer } from './helpers/server.js';

const LOOPS = ['poll', 'epoll', 'libuv'] as const;

describe.each(LOOPS)('node-redis 6, default options (RESP3), --loop %s', (loop) => {
  let server: TestServer;
  const clients: ReturnType<typeof createClient>[] = [];
  /** A client with node-redis's defaults; only where the server is. */
  const connected = async () => {
    const c = createClient({ url: `redis://127.0.0.1:${server.respPort}` });
    c.on('error', () => {});
    clients.push(c);
    await c.connect();
    return c;
  };
  beforeAll(async () => {
    server = await startServer(['--quiet', '--loop', loop]);
  });
  afterAll(async () => {
    for (const c of clients) if (c.isOpen) c.destroy();
    await server.stop();
  });

  test('connects with HELLO 3: the server lists the connection as resp=3', async () => {
    const c = await connected();
    const info = String(await c.sendCommand(['CLIENT', 'INFO']));
    expect(info).toMatch(/ resp=3( |\n)/);
    expect(info).toMatch(/ lib-name=node-redis /); // its CLIENT SETINFO after HELLO was accepted
    const hello = (await c.sendCommand(['HELLO'])) as unknown as Record<string, unknown>;
    expect(hello).toMatchObject({ server: 'redis', proto: 3, mode: 'standalone', role: 'master', modules: [] });
  });

  test('commands decode to the RESP3 types', async () => {
    const c = await connected();
    expect(await c.set('nr3:s', 'v')).toBe('OK');
    expect(await c.get('nr3:s')).toBe('v');
    expect(await c.get('nr3:none')).toBeNull();
    expect(await c.exists(['nr3:s', 'nr3:none'])).toBe(1);
    expect(await c.incrByFloat('nr3:f', 1.5)).toBe('1.5');
    expect(await c.hSet('nr3:h', { a: '1', b: '2' })).toBe(2);
    expect(await c.hGetAll('nr3:h')).toEqual({ a: '1', b: '2' }); // a map
    expect(await c.hGetAll('nr3:none')).toEqual({});
    expect(await c.sAdd('nr3:set', ['x', 'y'])).toBe(2);
    expect((await c.sMembers('nr3:set')).sort()).toEqual(['x', 'y']); // a set
    expect(await c.zAdd('nr3:z', [{ score: 1.5, value: 'a' }, { score: -2, value: 'b' }])).toBe(2);
    expect(await c.zScore('nr3:z', 'a')).toBe(1.5); // a double
    expect(await c.zScore('nr3:z', 'none')).toBeNull();
    expect(await c.zIncrBy('nr3:z', 1, 'a')).toBe(2.5);
    expect(await c.zRangeWithScores('nr3:z', 0, -1)).toEqual([
      { value: 'b', score: -2 },
      { value: 'a', score: 2.5 },
    ]); // [member, double] pairs
    expect(await c.zPopMin('nr3:z')).toEqual({ value: 'b', score: -2 });
    expect(await c.lPop('nr3:none')).toBeNull();
    expect(await c.configGet('maxmemory')).toEqual({ maxmemory: '0' });
    await expect(c.lPush('nr3:s', 'x')).rejects.toThrow(/^WRONGTYPE/);
  });

  test('a pipeline: many commands written at once, replies in order', async () => {
    const c = await connected();
    const replies = await c
      .multi()
      .set('nr3:p', '1')
      .incr('nr3:p')
      .get('nr3:p')
      .hSet('nr3:ph', 'f', 'v')
      .hGetAll('nr3:ph')
      .zAdd('nr3:pz', { score: 3, value: 'm' })
      .zScore('nr3:pz', 'm')
      .get('nr3:none')
      .execAsPipeline();
    expect(replies).toEqual(['OK', 2, '2', 1, { f: 'v' }, 1, 3, null]);
    // And concurrent calls on one connection, which node-redis also pipelines.
    const many = await Promise.all(Array.from({ length: 50 }, (_, i) => c.incr(`nr3:n${i % 5}`)));
    expect(many.slice(0, 5)).toEqual([1, 1, 1, 1, 1]);
    expect(many.slice(45)).toEqual([10, 10, 10, 10, 10]);
  });

  test('MULTI/EXEC and WATCH', async () => {
    const a = await connected();
    const b = await connected();
    expect(await a.multi().set('nr3:t', '1').incr('nr3:t').hSet('nr3:th', 'k', 'v').hGetAll('nr3:th').exec()).toEqual(['OK', 2, 1, { k: 'v' }]);
    await a.watch('nr3:t');
    await b.set('nr3:t', 'changed');
    await expect(a.multi().get('nr3:t').exec()).rejects.toThrow(/watch/i); // EXEC answered `_`
    expect(await a.multi().get('nr3:t').exec()).toEqual(['changed']);
  });
});
