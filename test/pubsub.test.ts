// Pub/sub through the Node clients people use — ioredis's subscribe/psubscribe
// with 'message'/'pmessage' events, node-redis's subscribe/pSubscribe/sSubscribe
// listeners (RESP2) — on every backend, plus what the differential suite does
// not show: a disconnected subscriber's subscriptions are freed, and a
// subscriber that never reads is cut off at the pub/sub output limit
// (--client-output-buffer-limit-pubsub) while everyone else is still served.
//
// No sleeps: an event is awaited (it arrives); that the server has seen a
// client's close is known after two PING round trips on another connection
// (the reasoning of test/compat/harness.ts, Clients.quiet).

import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import Redis from 'ioredis';
import { createClient } from 'redis';
import { encodeCommand } from '../src/protocol/resp.js';
import { BookClient, startServer, type TestServer } from './helpers/server.js';
import { RawClient } from './compat/harness.js';

const LOOPS = ['poll', 'epoll', 'libuv'] as const;
const PUBSUB_LIMIT = 256 * 1024;

/** Resolves with the first n values pushed, in order. */
function collector<T>(n: number): { push(v: T): void; done: Promise<T[]>; got: T[] } {
  const got: T[] = [];
  let resolve!: (v: T[]) => void;
  const done = new Promise<T[]>((r) => (resolve = r));
  return {
    got,
    done,
    push(v) {
      got.push(v);
      if (got.length === n) resolve(got.slice());
    },
  };
}

describe.each(LOOPS)('--loop %s', (loop) => {
  let server: TestServer;
  const open: Redis[] = [];
  const client = (): Redis => {
    const r = new Redis({ port: server.respPort, host: '127.0.0.1', maxRetriesPerRequest: 0, retryStrategy: () => null });
    r.on('error', () => {});
    open.push(r);
    return r;
  };
  /** Two PING round trips on `via`: whatever another client sent before them (its close included) has been handled. */
  const settled = async (via: Redis) => {
    await via.ping();
    await via.ping();
  };
  beforeAll(async () => {
    server = await startServer(['--loop', loop, '--client-output-buffer-limit-pubsub', String(PUBSUB_LIMIT)]);
  });
  afterAll(async () => {
    for (const r of open) r.disconnect();
    await server.stop();
  });

  test('ioredis: subscribe and psubscribe deliver message and pmessage events; PUBLISH counts both', async () => {
    const sub = client();
    const pub = client();
    const messages = collector<[string, string]>(3);
    const pmessages = collector<[string, string, string]>(2);
    sub.on('message', (channel: string, message: string) => messages.push([channel, message]));
    sub.on('pmessage', (pattern: string, channel: string, message: string) => pmessages.push([pattern, channel, message]));
    expect(await sub.subscribe('io:news', 'io:sport')).toBe(2);
    expect(await sub.psubscribe('io:n*')).toBe(3);

    expect(await pub.publish('io:news', 'hello')).toBe(2); // the channel and the pattern
    expect(await pub.publish('io:sport', 'goal')).toBe(1);
    expect(await pub.publish('io:nothing', 'x')).toBe(1); // the pattern only
    expect(await pub.publish('elsewhere', 'x')).toBe(0);
    expect(await pub.publish('io:news', 'é€'.repeat(1000))).toBe(2);

    expect(await messages.done).toEqual([
      ['io:news', 'hello'],
      ['io:sport', 'goal'],
      ['io:news', 'é€'.repeat(1000)],
    ]);
    expect(pmessages.got.slice(0, 2)).toEqual([
      ['io:n*', 'io:news', 'hello'],
      ['io:n*', 'io:nothing', 'x'],
    ]);
    expect(await pub.pubsub('NUMSUB', 'io:news', 'io:sport')).toEqual(['io:news', 1, 'io:sport', 1]);
    expect(await pub.pubsub('NUMPAT')).toBe(1);

    // Leaving subscribed mode: the connection takes ordinary commands again.
    // (ioredis resolves an UNSUBSCRIBE without names only once the count reaches 0,
    // so the channels are named; PUNSUBSCRIBE without names takes the last one.)
    expect(await sub.unsubscribe('io:news', 'io:sport')).toBe(1);
    expect(await sub.punsubscribe()).toBe(0);
    expect(await sub.set('io:after', 'ok')).toBe('OK');
    expect(await pub.pubsub('NUMSUB', 'io:news')).toEqual(['io:news', 0]);
  });

  test('node-redis (RESP2): subscribe, pSubscribe and sSubscribe listeners; publish and sPublish', async () => {
    const opts = { socket: { port: server.respPort, host: '127.0.0.1' }, RESP: 2 as const };
    const pub = createClient(opts);
    pub.on('error', () => {});
    await pub.connect();
    const sub = pub.duplicate();
    sub.on('error', () => {});
    await sub.connect();
    try {
      const plain = collector<[string, string]>(2);
      const byPattern = collector<[string, string]>(2);
      const shard = collector<[string, string]>(1);
      await sub.subscribe('nr:a', (message, channel) => plain.push([channel, message]));
      await sub.pSubscribe('nr:*', (message, channel) => byPattern.push([channel, message]));
      await sub.sSubscribe('nr:s', (message, channel) => shard.push([channel, message]));
      expect(await pub.publish('nr:a', 'one')).toBe(2);
      expect(await pub.publish('nr:b', 'two')).toBe(1);
      expect(await pub.publish('nr:a', 'three')).toBe(2);
      expect(await pub.sPublish('nr:s', 'four')).toBe(1);
      expect(await plain.done).toEqual([
        ['nr:a', 'one'],
        ['nr:a', 'three'],
      ]);
      expect(await byPattern.done).toEqual([
        ['nr:a', 'one'],
        ['nr:b', 'two'],
      ]);
      expect(await shard.done).toEqual([['nr:s', 'four']]);
      expect(await pub.pubSubNumSub(['nr:a'])).toEqual({ 'nr:a': 1 });
      expect(await pub.pubSubShardChannels()).toEqual(['nr:s']);
      await sub.unsubscribe('nr:a');
      await sub.pUnsubscribe();
      await sub.sUnsubscribe();
      expect(await pub.publish('nr:a', 'unheard')).toBe(0);
      // (node-redis 6 hands this connection's replies back as Buffers after pub/sub, against redis-server too.)
      expect(String(await sub.set('nr:after', 'ok'))).toBe('OK');
      expect(String(await sub.get('nr:after'))).toBe('ok');
    } finally {
      pub.destroy();
      sub.destroy();
    }
  });

  test('node-redis 6 with its default options (RESP3): messages arrive as pushes, and the subscribed connection keeps serving commands', async () => {
    const pub = createClient({ socket: { port: server.respPort, host: '127.0.0.1' } });
    pub.on('error', () => {});
    await pub.connect();
    const sub = pub.duplicate();
    sub.on('error', () => {});
    await sub.connect();
    try {
      const plain = collector<[string, string]>(2);
      const byPattern = collector<[string, string]>(1);
      await sub.subscribe('n3:a', (message, channel) => plain.push([channel, message]));
      await sub.pSubscribe('n3:b*', (message, channel) => byPattern.push([channel, message]));
      // RESP3: the subscribed connection is not restricted; its own replies and the pushes interleave.
      expect(await sub.set('n3:k', 'v')).toBe('OK');
      expect(await pub.publish('n3:a', 'one')).toBe(1);
      expect(await sub.get('n3:k')).toBe('v');
      expect(await pub.publish('n3:bee', 'two')).toBe(1);
      expect(await pub.publish('n3:a', 'three')).toBe(1);
      expect(await plain.done).toEqual([
        ['n3:a', 'one'],
        ['n3:a', 'three'],
      ]);
      expect(await byPattern.done).toEqual([['n3:bee', 'two']]);
      // A transaction on the RESP3 connection.
      expect(await pub.multi().set('n3:t', '1').incr('n3:t').exec()).toEqual(['OK', 2]);
      await sub.unsubscribe('n3:a');
      await sub.pUnsubscribe('n3:b*');
      expect(await pub.publish('n3:a', 'unheard')).toBe(0);
    } finally {
      pub.destroy();
      sub.destroy();
    }
  });

  test('a disconnected subscriber holds nothing: NUMSUB and NUMPAT drop to 0, PUBLISH reaches nobody', async () => {
    const sub = client();
    const pub = client();
    const patternsBefore = (await pub.pubsub('NUMPAT')) as number;
    await sub.subscribe('dc:chan', 'dc:other');
    await sub.psubscribe('dc:*');
    await sub.ssubscribe('dc:shard');
    expect(await pub.pubsub('NUMSUB', 'dc:chan', 'dc:other')).toEqual(['dc:chan', 1, 'dc:other', 1]);
    expect(await pub.pubsub('NUMPAT')).toBe(patternsBefore + 1);
    expect(await pub.pubsub('SHARDNUMSUB', 'dc:shard')).toEqual(['dc:shard', 1]);

    const ended = new Promise<void>((r) => sub.once('end', () => r()));
    sub.disconnect();
    await ended;
    await settled(pub);
    expect(await pub.pubsub('NUMSUB', 'dc:chan', 'dc:other')).toEqual(['dc:chan', 0, 'dc:other', 0]);
    expect(await pub.pubsub('NUMPAT')).toBe(patternsBefore);
    expect(await pub.pubsub('SHARDNUMSUB', 'dc:shard')).toEqual(['dc:shard', 0]);
    expect(await pub.publish('dc:chan', 'x')).toBe(0);
    expect(await pub.pubsub('CHANNELS', 'dc:*')).toEqual([]);
  });

  test('CLIENT LIST counts a subscriber\'s channels, patterns and shard channels (flag P); RESET frees them all', async () => {
    const sub = await RawClient.connect(server.respPort);
    const admin = client();
    try {
      await sub.call(['CLIENT', 'SETNAME', 'listed-sub']);
      sub.write(encodeCommand(['SUBSCRIBE', 'cl:a', 'cl:b']));
      await sub.next(2);
      await sub.call(['PSUBSCRIBE', 'cl:*']);
      await sub.call(['SSUBSCRIBE', 'cl:s']);
      const line = ((await admin.client('LIST')) as string).split('\n').find((l) => l.includes('name=listed-sub'))!;
      const fields = Object.fromEntries(line.split(' ').map((kv) => kv.split('=') as [string, string]));
      expect([fields.flags, fields.sub, fields.psub, fields.ssub]).toEqual(['P', '2', '1', '1']);

      expect((await sub.call(['RESET'])).toString()).toBe('+RESET\r\n');
      expect(await admin.pubsub('NUMSUB', 'cl:a', 'cl:b')).toEqual(['cl:a', 0, 'cl:b', 0]);
      expect(await admin.pubsub('SHARDNUMSUB', 'cl:s')).toEqual(['cl:s', 0]);
      expect(await admin.pubsub('CHANNELS', 'cl:*')).toEqual([]);
      const after = ((await admin.client('LIST')) as string).split('\n').find((l) => l.startsWith(`id=${fields.id} `))!;
      const again = Object.fromEntries(after.split(' ').map((kv) => kv.split('=') as [string, string]));
      expect([again.flags, again.sub, again.psub, again.ssub]).toEqual(['N', '0', '0', '0']);
      expect((await sub.call(['GET', 'cl:none'])).toString()).toBe('$-1\r\n');
    } finally {
      sub.close();
    }
  });

  test('the book port has no pub/sub: the commands are unknown there', async () => {
    const c = await BookClient.connect(server.bookPort);
    try {
      for (const cmd of [['subscribe', 'b'], ['publish', 'b', 'm'], ['psubscribe', '*'], ['pubsub', 'numpat']]) {
        expect(await c.call(...cmd)).toEqual({ type: 'err', code: 1, msg: 'unknown command' });
      }
      expect(await c.call('get', 'book:none')).toEqual({ type: 'nil' });
    } finally {
      c.close();
    }
  });

  test('a subscriber that never reads is cut off at the pub/sub output limit; the others are still served', async () => {
    // The slow one: subscribes, then stops reading (its socket paused: the
    // kernel buffers fill, then the server's output buffer for it grows).
    const slow: Socket = connect({ port: server.respPort, host: '127.0.0.1' });
    let slowBytes = 0;
    const slowClosed = new Promise<void>((r) => slow.once('close', () => r()));
    slow.on('error', () => {});
    const confirmed = new Promise<void>((r) => slow.once('data', () => r()));
    slow.on('data', (d: Buffer) => (slowBytes += d.length));
    slow.write(encodeCommand(['SUBSCRIBE', 'flood']));
    await confirmed;
    slow.pause();

    // A subscriber that keeps up, and the publisher.
    const fast = client();
    const pub = client();
    const payload = 'p'.repeat(128 * 1024);
    let fastCount = 0;
    let fastIntact = true;
    let published = 0;
    let publishing = true;
    let fastAll!: () => void;
    const allArrived = new Promise<void>((r) => (fastAll = r));
    fast.on('message', (_c: string, m: string) => {
      fastIntact &&= m === payload;
      fastCount++;
      if (!publishing && fastCount === published) fastAll();
    });
    await fast.subscribe('flood');
    expect(await pub.pubsub('NUMSUB', 'flood')).toEqual(['flood', 2]);

    // Publish until only the fast one is left. Kernel buffers take tens of
    // MiB at most before the server holds anything; the bound only stops a
    // broken limit from running forever.
    let receivers = 2;
    while (receivers === 2 && published < 2000) {
      receivers = await pub.publish('flood', payload);
      published++;
    }
    publishing = false;
    expect(receivers).toBe(1);
    await server.waitForStderr(new RegExp(`output buffer over the limit \\(\\d+ > ${PUBSUB_LIMIT} bytes\\)`));

    // The fast subscriber got every message, the publisher and others are served.
    if (fastCount < published) await allArrived;
    expect(fastCount).toBe(published);
    expect(fastIntact).toBe(true);
    expect(await pub.pubsub('NUMSUB', 'flood')).toEqual(['flood', 1]);
    expect(await pub.set('still', 'served')).toBe('OK');
    expect(await pub.get('still')).toBe('served');

    // The slow one finds its connection closed once it reads again, short of what was published.
    slow.resume();
    await slowClosed;
    expect(slowBytes).toBeLessThan(published * payload.length);
  });
});
