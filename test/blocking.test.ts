// Blocking commands through the Node clients people use and over real sockets
// on every backend (the differential suite in test/compat/blocking.test.ts
// compares the replies with redis-server's): ioredis and node-redis job-queue
// loops, a disconnected waiter that frees its place, a timeout far beyond
// 2^31 ms that does not fire early, a push on the book port serving a RESP
// waiter, and --trace showing a block, a wake-up and a timeout. In-process:
// the registry listens to the keyspace only while someone waits.
//
// "Still blocked" is established without sleeping: two PING round trips on
// another connection (see Clients.quiet in test/compat/harness.ts for why
// that is enough), then no reply may have arrived.

import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import Redis from 'ioredis';
import { createClient } from 'redis';
import { Conn } from '../src/loop/conn.js';
import { createRespCodec, encodeCommand, parseReply } from '../src/protocol/resp.js';
import type { BookValue } from '../src/protocol/book.js';
import { respTable } from '../src/commands/resp/index.js';
import type { TimerService } from '../src/commands/types.js';
import { ProtocolSession, detachedHost } from '../src/servers/session.js';
import { DEFAULT_SETTINGS, ServerState } from '../src/servers/state.js';
import { BookClient, startServer, type TestServer } from './helpers/server.js';
import { RawClient } from './compat/harness.js';

const LOOPS = ['poll', 'epoll', 'libuv'] as const;

/** Fails unless `blocked` has received nothing: two round trips on `witness` first, then Node's pending socket reads. */
async function expectQuiet(blocked: RawClient, witness: RawClient): Promise<void> {
  for (let i = 0; i < 2; i++) expect((await witness.call(['PING'])).toString()).toBe('+PONG\r\n');
  await new Promise<void>((r) => setImmediate(r));
  expect(blocked.unread().map((b) => b.toString('latin1'))).toEqual([]);
  expect(blocked.rest().length).toBe(0);
}

/** INFO's blocked_clients, read on `c`. */
async function blockedClients(c: RawClient): Promise<number> {
  const info = (await c.call(['INFO', 'clients'])).toString('latin1');
  return Number(/blocked_clients:(\d+)/.exec(info)![1]);
}

const text = (b: Buffer): string => b.toString('latin1');

describe.each(LOOPS)('--loop %s', (loop) => {
  let server: TestServer;
  const cleanup: (() => void)[] = [];
  const raw = async (): Promise<RawClient> => {
    const c = await RawClient.connect(server.respPort);
    cleanup.push(() => c.close());
    return c;
  };
  beforeAll(async () => {
    server = await startServer(['--loop', loop, '--quiet']);
  });
  afterAll(async () => {
    for (const f of cleanup) f();
    await server.stop();
  });

  test('ioredis: a worker loops on BLPOP while a producer RPUSHes 200 jobs; all arrive, in order, then BLPOP times out with null', async () => {
    const worker = new Redis({ port: server.respPort, host: '127.0.0.1', maxRetriesPerRequest: 0 });
    const producer = new Redis({ port: server.respPort, host: '127.0.0.1', maxRetriesPerRequest: 0 });
    cleanup.push(() => worker.disconnect(), () => producer.disconnect());
    await Promise.all([worker.ping(), producer.ping()]);
    const N = 200;
    const received: string[] = [];
    const first = worker.blpop('io:jobs', 0);
    // The worker's BLPOP was written before these round trips: it is blocked now.
    await producer.ping();
    await producer.ping();
    expect(Number(/blocked_clients:(\d+)/.exec(await producer.info('clients'))![1])).toBe(1);
    const done = (async () => {
      let next: Promise<[string, string] | null> = first;
      for (;;) {
        const got = await next;
        if (got === null) return;
        expect(got[0]).toBe('io:jobs');
        received.push(got[1]);
        next = worker.blpop('io:jobs', received.length === N ? 0.05 : 0);
      }
    })();
    // Pipelined: some jobs find the worker waiting, others queue up in the list.
    const pushes = Array.from({ length: N }, (_, i) => producer.rpush('io:jobs', `job-${i}`));
    await Promise.all(pushes);
    await done;
    expect(received).toEqual(Array.from({ length: N }, (_, i) => `job-${i}`));
    expect(await producer.exists('io:jobs')).toBe(0);
  });

  test('ioredis: LPUSH producer, BRPOP worker — first in, first out; BLMOVE into a processing list', async () => {
    const worker = new Redis({ port: server.respPort, host: '127.0.0.1', maxRetriesPerRequest: 0 });
    const producer = new Redis({ port: server.respPort, host: '127.0.0.1', maxRetriesPerRequest: 0 });
    cleanup.push(() => worker.disconnect(), () => producer.disconnect());
    await Promise.all([worker.ping(), producer.ping()]);
    const N = 100;
    const received: string[] = [];
    const done = (async () => {
      while (received.length < N) {
        const got = await worker.brpop('io:lq', 0);
        received.push(got![1]);
      }
    })();
    for (let i = 0; i < N; i++) void producer.lpush('io:lq', `j${i}`);
    await done;
    expect(received).toEqual(Array.from({ length: N }, (_, i) => `j${i}`));

    // The reliable-queue pattern: BLMOVE a job into a processing list, then LREM it.
    const moved = worker.blmove('io:q2', 'io:processing', 'LEFT', 'RIGHT', 0);
    await producer.ping();
    await producer.ping();
    await producer.rpush('io:q2', 'task');
    expect(await moved).toBe('task');
    expect(await producer.lrange('io:processing', 0, -1)).toEqual(['task']);
    expect(await worker.brpoplpush('io:none', 'io:processing', 0.02)).toBeNull();
  });

  test('node-redis (RESP2, and its RESP3 defaults): blPop worker and rPush producer, bzPopMin/bzPopMax on a sorted set, null on timeout', async () => {
    const opts = { socket: { port: server.respPort, host: '127.0.0.1' }, RESP: 2 as const };
    const worker = createClient(opts);
    const producer = createClient(opts);
    worker.on('error', () => {});
    producer.on('error', () => {});
    await worker.connect();
    await producer.connect();
    cleanup.push(() => void worker.destroy(), () => void producer.destroy());
    const N = 100;
    const received: string[] = [];
    const done = (async () => {
      while (received.length < N) {
        const got = await worker.blPop('nr:jobs', 0);
        expect(got!.key).toBe('nr:jobs');
        received.push(got!.element);
      }
    })();
    await Promise.all(Array.from({ length: N }, (_, i) => producer.rPush('nr:jobs', `job-${i}`)));
    await done;
    expect(received).toEqual(Array.from({ length: N }, (_, i) => `job-${i}`));

    const popped = worker.bzPopMin('nr:z', 0);
    await producer.ping();
    await producer.ping();
    await producer.zAdd('nr:z', [{ score: 2, value: 'b' }, { score: 1, value: 'a' }]);
    expect(await popped).toEqual({ key: 'nr:z', value: 'a', score: 1 });
    expect(await worker.blPop('nr:empty', 0.02)).toBeNull();
    expect(await worker.blMove('nr:empty', 'nr:dst', 'LEFT', 'RIGHT', 0.02)).toBeNull();

    // node-redis's defaults speak RESP3 (HELLO 3): the same loop and pops there.
    const worker3 = createClient({ socket: opts.socket });
    worker3.on('error', () => {});
    await worker3.connect();
    cleanup.push(() => void worker3.destroy());
    const got3: string[] = [];
    const done3 = (async () => {
      while (got3.length < 20) got3.push((await worker3.blPop('nr:jobs3', 0))!.element);
    })();
    await Promise.all(Array.from({ length: 20 }, (_, i) => producer.rPush('nr:jobs3', `j${i}`)));
    await done3;
    expect(got3).toEqual(Array.from({ length: 20 }, (_, i) => `j${i}`));
    const popped3 = worker3.bzPopMax('nr:z3', 0);
    await producer.ping();
    await producer.ping();
    await producer.zAdd('nr:z3', [{ score: 1.5, value: 'a' }, { score: 7, value: 'b' }]);
    expect(await popped3).toEqual({ key: 'nr:z3', value: 'b', score: 7 });
    expect(await worker3.blPop('nr:empty', 0.02)).toBeNull();
  });

  test('a blocked client that disconnects frees its waiter: the next push stays in the list', async () => {
    const waiter = await raw();
    const other = await raw();
    waiter.write(encodeCommand(['BLPOP', 'gone:q', '0']));
    await expectQuiet(waiter, other);
    expect(await blockedClients(other)).toBe(1);
    waiter.close();
    // The FIN was queued before these round trips: the server has closed the waiter.
    await other.call(['PING']);
    await other.call(['PING']);
    expect(await blockedClients(other)).toBe(0);
    expect(text(await other.call(['RPUSH', 'gone:q', 'kept']))).toBe(':1\r\n');
    expect(text(await other.call(['LRANGE', 'gone:q', '0', '-1']))).toBe('*1\r\n$4\r\nkept\r\n');
    // A new waiter takes it at once.
    expect(text(await other.call(['BLPOP', 'gone:q', '0']))).toBe('*2\r\n$6\r\ngone:q\r\n$4\r\nkept\r\n');
  });

  test('a timeout past 2^31 ms waits (poll takes an int; Node fires longer timers after 1 ms)', async () => {
    const patient = await raw();
    const brief = await raw();
    const other = await raw();
    patient.write(encodeCommand(['BLPOP', 'long:q', '3000000'])); // 34.7 days
    brief.write(encodeCommand(['BLPOP', 'long:r', '0.05']));
    // The 50 ms timeout fires first, and the long one is still waiting after it.
    expect(text((await brief.next())[0])).toBe('*-1\r\n');
    await expectQuiet(patient, other);
    await other.call(['RPUSH', 'long:q', 'x']);
    expect(text((await patient.next())[0])).toBe('*2\r\n$6\r\nlong:q\r\n$1\r\nx\r\n');
  });

  test('a push on the book port serves a RESP waiter; the book port has no blocking commands', async () => {
    const waiter = await raw();
    const other = await raw();
    waiter.write(encodeCommand(['BRPOP', 'book:q', '0']));
    await expectQuiet(waiter, other);
    const book = await BookClient.connect(server.bookPort);
    try {
      book.send(['rpush', 'book:q', 'from-book'], ['blpop', 'book:q', '0']);
      const replies = await book.waitReplies(2);
      expect(replies[0]).toEqual({ type: 'int', value: 1n } satisfies BookValue);
      expect(replies[1]).toMatchObject({ type: 'err', code: 1 });
    } finally {
      book.close();
    }
    expect(text((await waiter.next())[0])).toBe('*2\r\n$6\r\nbook:q\r\n$9\r\nfrom-book\r\n');
  });
});

describe('--trace', () => {
  /** Asserts that the patterns occur in `t` in this order. */
  function expectInOrder(t: string, patterns: (string | RegExp)[]): void {
    let at = 0;
    for (const p of patterns) {
      const rest = t.slice(at);
      const m = typeof p === 'string' ? { index: rest.indexOf(p), len: p.length } : ((r) => (r ? { index: r.index, len: r[0].length } : { index: -1, len: 0 }))(p.exec(rest));
      if (m.index < 0) throw new Error(`trace: expected ${p} after offset ${at}, in:\n${t.slice(at, at + 4000)}`);
      at += m.index + m.len;
    }
  }

  test.each(['poll', 'epoll'])('--loop %s: a block, a wake-up by another client, a timeout set as poll\'s timeout and fired; a far deadline capped at 2^31 - 1 ms', async (loop) => {
    const server = await startServer(['--loop', loop, '--trace']);
    const waiter = await RawClient.connect(server.respPort);
    const pusher = await RawClient.connect(server.respPort);
    try {
      const id = text(await waiter.call(['CLIENT', 'ID'])).slice(1, -2);
      waiter.write(encodeCommand(['BLPOP', 'tq', '0']));
      await expectQuiet(waiter, pusher);
      await pusher.call(['RPUSH', 'tq', 'job']);
      expect(text((await waiter.next())[0])).toBe('*2\r\n$2\r\ntq\r\n$3\r\njob\r\n');
      // No client does anything from here: the loop's timer answers.
      waiter.write(encodeCommand(['BLPOP', 'tq', '0.05']));
      expect(text((await waiter.next())[0])).toBe('*-1\r\n');
      await server.waitForStderr(`client ${id}: BLPOP timed out after 50 ms`);
      expectInOrder(server.stderr(), [
        `client ${id}: BLPOP blocked on 'tq' (no timeout)`,
        /fd \d+: blocked \(BLPOP\): waiting for a reply from elsewhere/,
        `client ${id}: BLPOP woken: served from 'tq'`,
        `client ${id}: BLPOP blocked on 'tq' (timeout 50 ms)`,
        new RegExp(`^#\\d+ timeout \\d+ \\(BLPOP timeout of client ${id}\\)$`, 'm'),
        `timers: BLPOP timeout of client ${id}`,
        `client ${id}: BLPOP timed out after 50 ms`,
      ]);
      // A deadline 34.7 days away: poll's timeout is an int, so the loop waits 2^31 - 1 ms at most, then looks again.
      waiter.write(encodeCommand(['BLPOP', 'tq', '3000000']));
      await expectQuiet(waiter, pusher);
      await server.waitForStderr(new RegExp(`^#\\d+ timeout 2147483647 \\(BLPOP timeout of client ${id}\\)$`, 'm'));
    } finally {
      waiter.close();
      pusher.close();
      await server.stop();
    }
  });
});

describe('in process', () => {
  /** A server state with hand-driven timers and sessions whose output stays in their buffers. */
  function harness() {
    let now = 0;
    const pending = new Set<{ at: number; fire: () => void }>();
    const timers: TimerService = {
      now: () => now,
      add(at, fire) {
        const t = { at, fire };
        pending.add(t);
        return t;
      },
      cancel: (t) => void pending.delete(t as { at: number; fire: () => void }),
    };
    const state = new ServerState({ ...DEFAULT_SETTINGS }, () => {});
    state.timers = timers;
    const codec = createRespCodec(state.settings);
    const open = () => {
      const conn = new Conn(-1);
      const session = new ProtocolSession(codec, respTable, state, state.newClient(0, () => 'test:0'), conn, detachedHost);
      return {
        conn,
        session,
        /** Sends one command and runs it; returns what the connection has received since the last call. */
        send(...args: string[]): string {
          conn.incoming.append(encodeCommand(args));
          return this.drain();
        },
        /** Runs the requests in the input buffer (as the pipeline does unless the client waits); returns the output. */
        drain(): string {
          while (!session.waiting && session.tryOneRequest(conn));
          return this.take();
        },
        take(): string {
          const out = conn.outgoing.toBuffer().toString('latin1');
          conn.outgoing.clear();
          return out;
        },
      };
    };
    const advance = (ms: number) => {
      now += ms;
      for (const t of [...pending]) if (t.at <= now) (pending.delete(t), t.fire());
    };
    return { state, open, advance, pending };
  }

  test('a served pop is measured again: used_memory counts what is left of the list', () => {
    const { state, open } = harness();
    const a = open();
    const b = open();
    expect(a.send('BLPOP', 'q', '0')).toBe('');
    b.send('RPUSH', 'q', 'x'.repeat(10_000), 'y'.repeat(100));
    expect(a.take().length).toBeGreaterThan(10_000);
    // The same list built directly: the estimate depends only on the contents.
    const fresh = harness();
    fresh.open().send('RPUSH', 'q', 'y'.repeat(100));
    expect(state.memory.datasetBytes()).toBe(fresh.state.memory.datasetBytes());
  });

  test('the keyspace listener and the after-command hook exist only while someone waits', () => {
    const { state, open, advance, pending } = harness();
    const a = open();
    const b = open();
    expect(state.store.onChange).toBeNull();
    expect(a.send('BLPOP', 'q', '0')).toBe('');
    expect(a.session.waiting).toBe(true);
    expect(state.store.onChange).not.toBeNull();
    expect(b.send('RPUSH', 'q', 'x', 'y')).toBe(':2\r\n');
    expect(a.take()).toBe('*2\r\n$1\r\nq\r\n$1\r\nx\r\n');
    expect(a.session.waiting).toBe(false);
    expect(state.store.onChange).toBeNull();
    expect(state.context.hooks.afterCommand).toBeNull();

    // A timeout: its timer is the only one, and firing it ends everything.
    expect(a.send('BZPOPMIN', 'z', '1.5')).toBe('');
    expect([...pending].map((t) => t.at)).toEqual([1500]);
    advance(1499);
    expect(a.take()).toBe('');
    advance(1);
    expect(a.take()).toBe('*-1\r\n');
    expect(pending.size).toBe(0);
    expect(state.store.onChange).toBeNull();

    // A disconnect: the waiter and its timer go; nothing listens any more.
    expect(a.send('BLMOVE', 'm', 'n', 'LEFT', 'LEFT', '10')).toBe('');
    expect(pending.size).toBe(1);
    a.session.closed();
    expect(pending.size).toBe(0);
    expect(state.store.onChange).toBeNull();
    expect(b.send('RPUSH', 'm', 'kept')).toBe(':1\r\n');
    expect(b.send('LLEN', 'm')).toBe(':1\r\n');
  });

  test('served, a client runs the requests it sent while blocked; WATCH sees a BLMOVE push into an existing list', () => {
    const { open } = harness();
    const a = open();
    const b = open();
    const c = open();
    a.conn.incoming.append(Buffer.concat([encodeCommand(['BLMOVE', 'src', 'dst', 'LEFT', 'RIGHT', '0']), encodeCommand(['LRANGE', 'dst', '0', '-1'])]));
    expect(a.drain()).toBe('');
    expect(b.send('RPUSH', 'dst', 'old')).toBe(':1\r\n');
    expect(c.send('WATCH', 'dst')).toBe('+OK\r\n');
    expect(b.send('RPUSH', 'src', 'new')).toBe(':1\r\n');
    expect(a.take()).toBe('$3\r\nnew\r\n');
    expect(a.drain()).toBe('*2\r\n$3\r\nold\r\n$3\r\nnew\r\n');
    expect(c.send('MULTI')).toBe('+OK\r\n');
    expect(c.send('PING')).toBe('+QUEUED\r\n');
    expect(c.send('EXEC')).toBe('*-1\r\n');
    expect(parseReply(Buffer.from(b.send('EXISTS', 'src'), 'latin1'))!.reply).toEqual({ type: 'int', value: 0n });
  });
});
