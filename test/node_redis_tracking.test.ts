// node-redis 6's client-side caching (its `clientSideCache` option, RESP3)
// against redloop: the client turns CLIENT TRACKING on when it connects,
// serves repeated reads from its cache, and drops an entry when redloop's
// `invalidate` push arrives (another client's write, an expiry, FLUSHALL).
//
// No sleeping: redloop queues the push to the caching connection while it
// runs the other client's write, so a PING on the caching connection, sent
// after that write's reply, is answered after the push — node-redis has
// handled the push by the time the PING resolves.
import { BasicClientSideCache, createClient } from 'redis';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startServer, type TestServer } from './helpers/server.js';

const LOOPS = ['poll', 'epoll', 'libuv'] as const;

describe.each(LOOPS)('node-redis 6 clientSideCache against redloop, --loop %s', (loop) => {
  let server: TestServer;
  const clients: ReturnType<typeof createClient>[] = [];
  const connect = async (opts: Parameters<typeof createClient>[0] = {}) => {
    const c = createClient({ url: `redis://127.0.0.1:${server.respPort}`, ...opts });
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

  test('reads are cached; another client\'s write, and FLUSHALL, invalidate them', async () => {
    const cache = new BasicClientSideCache({ ttl: 0, maxEntries: 0 });
    const cached = await connect({ RESP: 3, clientSideCache: cache });
    const writer = await connect();
    const info = String(await writer.sendCommand(['CLIENT', 'LIST']));
    expect(info).toMatch(/ flags=t /); // the caching connection turned tracking on

    await writer.set('a', '1');
    expect(await cached.get('a')).toBe('1');
    expect(await cached.get('a')).toBe('1');
    expect(cache.stats().hitCount).toBe(1);
    expect(cache.stats().missCount).toBe(1);

    await writer.set('a', '2');
    await cached.ping();
    expect(cache.size()).toBe(0); // the invalidate push dropped the entry
    expect(await cached.get('a')).toBe('2');
    expect(cache.stats().missCount).toBe(2);

    await cached.hSet('h', 'f', 'v');
    expect(await cached.hGetAll('h')).toEqual({ f: 'v' });
    expect(await cached.get('a')).toBe('2');
    expect(cache.size()).toBe(2);
    await writer.hSet('h', 'g', 'w'); // in place: the hash already exists
    await cached.ping();
    expect(cache.size()).toBe(1);
    expect(await cached.hGetAll('h')).toEqual({ f: 'v', g: 'w' });

    await writer.flushAll();
    await cached.ping();
    expect(cache.size()).toBe(0); // the null invalidation clears everything
    expect(await cached.get('a')).toBe(null);
  });

  test('an expiring key is invalidated when it expires', async () => {
    const cache = new BasicClientSideCache({ ttl: 0, maxEntries: 0 });
    const cached = await connect({ RESP: 3, clientSideCache: cache });
    const writer = await connect();
    // Long enough that the tracked GET reads the value before it expires, even on a loaded machine
    // (if it read nothing, no expiry would follow to invalidate it).
    await writer.set('e', 'v', { PX: 1000 });
    expect(await cached.get('e')).toBe('v');
    const gone = new Promise<unknown>((resolve) => cache.once('invalidate', resolve));
    // Active expiry sends it without any further request; the promise waits for it.
    expect(String(await gone)).toBe('e');
    expect(cache.size()).toBe(0);
  });
});
