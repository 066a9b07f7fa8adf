// Differential: CLIENT TRACKING against a real redis-server, byte for byte,
// over several connections — default mode (keys read are remembered, one
// invalidation per change, then forgotten), BCAST with and without prefixes,
// OPTIN/OPTOUT with CLIENT CACHING, NOLOOP, expiry, FLUSHALL/FLUSHDB's null
// invalidation, the option errors, CLIENT TRACKINGINFO/GETREDIR, and RESP2
// clients redirecting to a `__redis__:invalidate` subscriber.
//
// Nothing sleeps to synchronise: an invalidation is known sent because it is
// read ({ reply: c } waits for it); that none was sent is the harness's quiet
// check. Client ids differ between the two servers, so steps naming an id
// (REDIRECT, tracking-redir-broken) are sent to each server with its own id
// and compared after substituting the id.
import { describe, expect, test } from 'vitest';
import { type ClientStep, type Clients, type Servers, useServers } from './harness.js';

const ON = ['CLIENT', 'TRACKING', 'ON'];

/** Runs steps over n fresh connections after setup (which may send per-server commands). */
async function withClients(s: Servers, n: number, setup: (cl: Clients) => Promise<void>, steps: ClientStep[]): Promise<void> {
  await s.redis.call(['FLUSHALL']);
  await s.ours.call(['FLUSHALL']);
  const cl = await s.clients(n);
  try {
    await setup(cl);
    await cl.run(steps);
    await cl.quiet();
  } finally {
    cl.close();
  }
}

/** CLIENT ID of connection c on each server. */
async function ids(cl: Clients, c: number): Promise<[string, string]> {
  const id = (b: Buffer) => /^:(\d+)\r\n$/.exec(b.toString('latin1'))![1];
  return [id(await cl.redis[c].call(['CLIENT', 'ID'])), id(await cl.ours[c].call(['CLIENT', 'ID']))];
}

/** Sends cmd(id) to connection c of each server with that server's id of connection `of`; the replies must be equal. */
async function withId(cl: Clients, c: number, of: number | [string, string], cmd: (id: string) => string[]): Promise<void> {
  const [r, o] = typeof of === 'number' ? await ids(cl, of) : of;
  const [a, b] = await Promise.all([cl.redis[c].call(cmd(r)), cl.ours[c].call(cmd(o))]);
  expect(b.toString('latin1')).toBe(a.toString('latin1'));
}

describe('CLIENT TRACKING (RESP3)', () => {
  const s = useServers([], { resp: 3 });

  test('default mode: a read key is invalidated once on change, then forgotten; own writes too, after the reply', () =>
    s.script(2, [
      [0, ON],
      [0, ['GET', 'a']],
      [1, ['SET', 'a', '1']],
      { reply: 0 },
      [1, ['SET', 'a', '2']],
      { quiet: 0 },
      [0, ['GET', 'a']],
      [1, ['SET', 'a', '2']], // the same value: still a change to Redis
      { reply: 0 },
      [0, ['MGET', 'a', 'b', 'c']],
      [1, ['MSET', 'a', '1', 'c', '3']],
      { reply: 0 },
      { reply: 0 },
      [1, ['DEL', 'b']], // missing: no change
      { quiet: 0 },
      [1, ['SET', 'b', 'x']],
      { reply: 0 },
      [0, ['GET', 'a']],
      [0, ['SET', 'a', 'mine']], // +OK first, then the invalidation
      { reply: 0 },
      [0, ['STRLEN', 'a']],
      [0, ['APPEND', 'a', 'x']],
      { reply: 0 },
    ]));

  test('default mode: in-place changes of lists, sets, hashes, zsets; no-op writes send nothing', () =>
    s.script(2, [
      [0, ON],
      [1, ['RPUSH', 'l', 'a']],
      [1, ['SADD', 's', 'a']],
      [1, ['HSET', 'h', 'f', 'v']],
      [1, ['ZADD', 'z', '1', 'm']],
      [0, ['LRANGE', 'l', '0', '-1']],
      [0, ['SMEMBERS', 's']],
      [0, ['HGET', 'h', 'f']],
      [0, ['ZSCORE', 'z', 'm']],
      [1, ['SREM', 's', 'nope']],
      [1, ['HDEL', 'h', 'nope']],
      { quiet: 0 },
      [1, ['RPUSH', 'l', 'b']],
      { reply: 0 },
      [1, ['SADD', 's', 'b']],
      { reply: 0 },
      [1, ['HSET', 'h', 'g', 'w']],
      { reply: 0 },
      [1, ['ZINCRBY', 'z', '2', 'm']],
      { reply: 0 },
      [0, ['LLEN', 'l']],
      [1, ['LPOP', 'l', '2']], // emptied: deleted
      { reply: 0 },
      [0, ['TYPE', 's']],
      [1, ['RENAME', 's', 's2']],
      { reply: 0 },
      [0, ['EXISTS', 'h']],
      [1, ['EXPIRE', 'h', '100']],
      { reply: 0 },
      [0, ['GET', 'h']], // a wrong-type error still remembers the key
      [1, ['DEL', 'h']],
      { reply: 0 },
    ]));

  test('default mode: the keys of movable-key reads (numkeys) are remembered', () =>
    s.script(2, [
      [0, ON],
      [0, ['ZUNION', '2', 'z1', 'z2']],
      [0, ['SINTERCARD', '2', 's1', 's2', 'LIMIT', '1']],
      [1, ['ZADD', 'z2', '1', 'm']],
      { reply: 0 },
      [1, ['SADD', 's1', 'm']],
      { reply: 0 },
      [1, ['SADD', 'LIMIT', 'm']], // not a key of SINTERCARD
      { quiet: 0 },
      [0, ['XREAD', 'COUNT', '1', 'STREAMS', 'x1', 'x2', '0', '0']],
      [1, ['XADD', 'x2', '1-1', 'f', 'v']],
      { reply: 0 },
      [0, ['XRANGE', 'x2', '-', '+']],
      [1, ['XADD', 'x2', '1-2', 'f', 'v']], // in place
      { reply: 0 },
    ]));

  test('tracking off and on again: keys read before are still in the table (ids, as Redis keeps them)', () =>
    s.script(3, [
      [1, ON], // keeps the table in use meanwhile
      [0, ON],
      [0, ['GET', 'a']],
      [0, ['CLIENT', 'TRACKING', 'OFF']],
      [0, ON],
      [2, ['SET', 'a', '1']],
      { reply: 0 },
      [0, ['GET', 'b']],
      [0, ['CLIENT', 'TRACKING', 'OFF']],
      [2, ['SET', 'b', '1']], // off: not told, and the key is forgotten
      { quiet: 0 },
      [0, ON],
      [2, ['SET', 'b', '2']],
      { quiet: 0 },
    ]));

  test('transactions: writes inside EXEC invalidate; reads inside EXEC are remembered', () =>
    s.script(2, [
      [0, ON],
      [0, ['MULTI']],
      [0, ['GET', 'a']],
      [0, ['GET', 'b']],
      [0, ['EXEC']],
      [1, ['MULTI']],
      [1, ['SET', 'a', '1']],
      [1, ['INCR', 'b']],
      [1, ['EXEC']],
      { reply: 0 },
      { reply: 0 },
    ]));

  test('BCAST with prefixes: every change under a prefix, batched per prefix; other keys not; without prefixes every key', () =>
    s.script(3, [
      [0, [...ON, 'BCAST', 'PREFIX', 'user:', 'PREFIX', 'obj:']],
      [1, [...ON, 'BCAST']],
      [0, ['CLIENT', 'TRACKINGINFO']],
      [1, ['CLIENT', 'TRACKINGINFO']],
      [2, ['SET', 'user:1', 'x']],
      { reply: 0 },
      { reply: 1 },
      [2, ['SET', 'other', 'x']],
      { reply: 1 },
      { quiet: 0 },
      [2, ['MSET', 'user:1', 'a', 'obj:2', 'b', 'user:3', 'c', 'zz', 'd']],
      { reply: 0 },
      { reply: 0 },
      { reply: 1 },
      [2, ['SET', 'user:1', 'a']], // no read needed, and sent every time
      { reply: 0 },
      { reply: 1 },
      [2, ['LPUSH', 'obj:list', 'a']],
      { reply: 0 },
      { reply: 1 },
      [2, ['LPUSH', 'obj:list', 'b']],
      { reply: 0 },
      { reply: 1 },
      [0, ['GET', 'user:1']], // BCAST clients remember nothing
      [0, [...ON, 'BCAST', 'PREFIX', 'x']],
      [0, ['CLIENT', 'TRACKINGINFO']],
      [2, ['SET', 'xy', '1']],
      { reply: 0 },
      { reply: 1 },
      [0, ['CLIENT', 'TRACKING', 'OFF']],
      [0, ['CLIENT', 'TRACKINGINFO']],
      [2, ['SET', 'user:1', 'b']],
      { reply: 1 },
      { quiet: 0 },
    ]));

  test('OPTIN: only after CLIENT CACHING YES, for one command (a transaction counts as one)', () =>
    s.script(2, [
      [0, [...ON, 'OPTIN']],
      [0, ['GET', 'a']],
      [1, ['SET', 'a', '1']],
      { quiet: 0 },
      [0, ['CLIENT', 'CACHING', 'YES']],
      [0, ['CLIENT', 'TRACKINGINFO']],
      [0, ['GET', 'a']],
      [0, ['CLIENT', 'TRACKINGINFO']],
      [1, ['SET', 'a', '2']],
      { reply: 0 },
      [0, ['CLIENT', 'CACHING', 'yes']],
      [0, ['PING']],
      [0, ['GET', 'b']],
      [1, ['SET', 'b', '1']],
      { quiet: 0 },
      [0, ['CLIENT', 'CACHING', 'yes']],
      [0, ['MULTI']],
      [0, ['GET', 'c']],
      [0, ['GET', 'd']],
      [0, ['EXEC']],
      [1, ['MSET', 'c', '1', 'd', '2']],
      { reply: 0 },
      { reply: 0 },
      [0, ['CLIENT', 'CACHING', 'no']],
    ]));

  test('OPTOUT: every read but the one after CLIENT CACHING NO', () =>
    s.script(2, [
      [0, [...ON, 'OPTOUT']],
      [0, ['GET', 'a']],
      [1, ['SET', 'a', '1']],
      { reply: 0 },
      [0, ['CLIENT', 'CACHING', 'NO']],
      [0, ['CLIENT', 'TRACKINGINFO']],
      [0, ['GET', 'b']],
      [1, ['SET', 'b', '1']],
      { quiet: 0 },
      [0, ['GET', 'b']],
      [1, ['SET', 'b', '2']],
      { reply: 0 },
      [0, ['CLIENT', 'CACHING', 'yes']],
    ]));

  test('NOLOOP: not for the own writes, in default and BCAST mode', () =>
    s.script(2, [
      [0, [...ON, 'NOLOOP']],
      [0, ['CLIENT', 'TRACKINGINFO']],
      [0, ['GET', 'a']],
      [0, ['SET', 'a', '1']],
      { quiet: 0 },
      [0, ['GET', 'a']],
      [1, ['SET', 'a', '2']],
      { reply: 0 },
      [1, [...ON, 'BCAST', 'NOLOOP']],
      [1, ['SET', 'k', '1']],
      { quiet: 1 },
      [0, ['SET', 'k', '2']],
      { reply: 1 },
      [1, ['MSET', 'k', '3', 'j', '4']],
      [0, ['SET', 'j', '5']],
      { reply: 1 },
    ]));

  test('expiry invalidates (active, or lazy on the next read)', () =>
    s.script(2, [
      [0, ON],
      [1, ['SET', 'e', 'v', 'PX', '30']],
      [0, ['GET', 'e'], 'shape'], // the value, or nil if already expired
      { sleepMs: 60 }, // only to let the TTL pass
      [1, ['GET', 'e']],
      { reply: 0 },
    ]));

  test('FLUSHALL and FLUSHDB: a null invalidation to every tracking client (the flusher after its reply)', () =>
    s.script(3, [
      [0, ON],
      [1, [...ON, 'BCAST', 'PREFIX', 'p']],
      [0, ['GET', 'a']],
      [1, ['FLUSHALL']],
      { reply: 1 },
      { reply: 0 },
      [2, ['FLUSHDB']],
      { reply: 0 },
      { reply: 1 },
      [1, ['SET', 'a', '1']], // the table was emptied: connection 0 is not told
      { quiet: 0 },
    ]));

  test('option errors, CLIENT CACHING errors, GETREDIR and TRACKINGINFO', () =>
    s.script(1, [
      [0, ['CLIENT', 'TRACKING']],
      [0, ['CLIENT', 'TRACKING', 'maybe']],
      [0, ['CLIENT', 'TRACKING', 'ON', 'FOO']],
      [0, ['CLIENT', 'TRACKING', 'ON', 'PREFIX']],
      [0, ['CLIENT', 'TRACKING', 'ON', 'PREFIX', 'a']],
      [0, ['CLIENT', 'TRACKING', 'ON', 'BCAST', 'OPTIN']],
      [0, ['CLIENT', 'TRACKING', 'ON', 'BCAST', 'OPTOUT']],
      [0, ['CLIENT', 'TRACKING', 'ON', 'OPTIN', 'OPTOUT']],
      [0, ['CLIENT', 'TRACKING', 'ON', 'REDIRECT', 'x']],
      [0, ['CLIENT', 'TRACKING', 'ON', 'REDIRECT', '987654321']],
      [0, ['CLIENT', 'TRACKING', 'ON', 'BCAST', 'PREFIX', 'ab', 'PREFIX', 'a']],
      // (Not 'PREFIX a PREFIX b PREFIX bc': Redis 7.0.15 answers that with the error and then +OK, two replies, and enables tracking.)
      [0, ['CLIENT', 'TRACKING', 'ON', 'BCAST', 'PREFIX', 'bc', 'PREFIX', 'b']],
      [0, ['CLIENT', 'CACHING', 'yes']],
      [0, ['CLIENT', 'CACHING']],
      [0, ['CLIENT', 'GETREDIR']],
      [0, ['CLIENT', 'TRACKINGINFO']],
      [0, ['CLIENT', 'TRACKINGINFO', 'x']],
      [0, ON],
      [0, ['CLIENT', 'GETREDIR']],
      [0, ['CLIENT', 'CACHING', 'yes']],
      [0, ['CLIENT', 'CACHING', 'no']],
      [0, ['CLIENT', 'CACHING', 'maybe']],
      [0, [...ON, 'BCAST']],
      [0, [...ON, 'OPTIN']],
      [0, ['CLIENT', 'TRACKINGINFO']],
      [0, [...ON, 'OPTOUT']],
      [0, ['CLIENT', 'TRACKING', 'OFF']],
      [0, [...ON, 'BCAST', 'PREFIX', 'a']],
      [0, [...ON, 'BCAST', 'PREFIX', 'ab']],
      [0, [...ON, 'BCAST', 'PREFIX', 'x', 'PREFIX', 'ab']],
      [0, [...ON, 'BCAST', 'PREFIX', 'a']],
      [0, [...ON, 'BCAST', 'PREFIX', 'b']],
      [0, [...ON]],
      [0, ['CLIENT', 'TRACKINGINFO']],
      [0, ['CLIENT', 'TRACKING', 'off']],
      [0, ['CLIENT', 'TRACKING', 'off']],
      [0, ['CLIENT', 'GETREDIR']],
      [0, ['CLIENT', 'TRACKINGINFO']],
      [0, ['RESET']],
      [0, ['CONFIG', 'GET', 'tracking-table-max-keys']],
      [0, ['CONFIG', 'SET', 'tracking-table-max-keys', 'x']],
      [0, ['CONFIG', 'SET', 'tracking-table-max-keys', '-1']],
    ]));

  test('RESET turns tracking off', () =>
    s.script(2, [
      [0, ON],
      [0, ['GET', 'a']],
      [0, ['RESET']],
      [0, ['HELLO', '3'], 'hello'],
      [0, ['CLIENT', 'TRACKINGINFO']],
      [1, ['SET', 'a', '1']],
      { quiet: 0 },
    ]));

  test('CLIENT INFO: flags t and B, redir=', async () => {
    const cl = await s.clients(1);
    try {
      for (const [cmd, flags, redir] of [
        [ON, 't', '0'],
        [['CLIENT', 'TRACKING', 'OFF'], 'N', '-1'],
        [[...ON, 'BCAST'], 'tB', '0'],
      ] as const) {
        for (const c of [cl.redis[0], cl.ours[0]]) {
          expect((await c.call([...cmd])).toString()).toBe('+OK\r\n');
          const info = (await c.call(['CLIENT', 'INFO'])).toString();
          expect(info).toContain(` flags=${flags} `);
          expect(info).toContain(` redir=${redir} `);
        }
      }
    } finally {
      cl.close();
    }
  });

  test('REDIRECT to a RESP3 client; a redirect target that is gone gives tracking-redir-broken', async () => {
    await withClients(
      s,
      3,
      async (cl) => {
        await withId(cl, 0, 1, (id) => [...ON, 'REDIRECT', id]);
        const [r1, o1] = await ids(cl, 1);
        expect((await cl.redis[0].call(['CLIENT', 'GETREDIR'])).toString()).toBe(`:${r1}\r\n`);
        expect((await cl.ours[0].call(['CLIENT', 'GETREDIR'])).toString()).toBe(`:${o1}\r\n`);
      },
      [[0, ['GET', 'a']], [2, ['SET', 'a', '1']], { reply: 1 }, { quiet: 0 }, [0, ['GET', 'a']]],
    );
  });

  test('a redirect target that disconnected: tracking-redir-broken with its id, and the broken_redirect flag', async () => {
    await s.redis.call(['FLUSHALL']);
    await s.ours.call(['FLUSHALL']);
    const cl = await s.clients(3);
    try {
      const [r1, o1] = await ids(cl, 1);
      await withId(cl, 0, 1, (id) => [...ON, 'REDIRECT', id]);
      await cl.run([[0, ['GET', 'a']]]);
      // Killed by another client's command: gone before that command's reply.
      await withId(cl, 2, 1, (id) => ['CLIENT', 'KILL', 'ID', id]);
      await cl.run([[2, ['SET', 'a', '1']]]);
      const [a, b] = await Promise.all([cl.redis[0].next(1), cl.ours[0].next(1)]);
      expect(a[0].toString('latin1')).toBe(`>2\r\n$21\r\ntracking-redir-broken\r\n:${r1}\r\n`);
      expect(b[0].toString('latin1')).toBe(`>2\r\n$21\r\ntracking-redir-broken\r\n:${o1}\r\n`);
      const info = await Promise.all([cl.redis[0].call(['CLIENT', 'TRACKINGINFO']), cl.ours[0].call(['CLIENT', 'TRACKINGINFO'])]);
      expect(info[1].toString('latin1').replace(`:${o1}\r\n`, 'ID')).toBe(info[0].toString('latin1').replace(`:${r1}\r\n`, 'ID'));
      expect(info[1].toString('latin1')).toContain('broken_redirect');
      const list = await Promise.all([cl.redis[0].call(['CLIENT', 'INFO']), cl.ours[0].call(['CLIENT', 'INFO'])]);
      for (const l of list) expect(l.toString()).toContain(' flags=tR ');
      cl.redis.splice(1, 1)[0].close();
      cl.ours.splice(1, 1)[0].close();
    } finally {
      cl.close();
    }
  });
});

describe('CLIENT TRACKING (RESP2, REDIRECT to a __redis__:invalidate subscriber)', () => {
  const s = useServers([], { resp: 2 });

  /** Connection 0 subscribes to __redis__:invalidate; connection 1 tracks with opts, redirecting to it. */
  const redirected = (opts: string[], steps: ClientStep[]) =>
    withClients(
      s,
      3,
      async (cl) => {
        const id0 = await ids(cl, 0); // asked before it subscribes (RESP2's subscribed context)
        await cl.run([[0, ['SUBSCRIBE', '__redis__:invalidate']]]);
        await withId(cl, 1, id0, (id) => [...ON, 'REDIRECT', id, ...opts]);
      },
      steps,
    );

  test('default mode: the keys arrive as a message on __redis__:invalidate; GETREDIR', () =>
    redirected(
      [],
      [
        [1, ['GET', 'a']],
        [1, ['MGET', 'b', 'c']],
        [2, ['SET', 'a', '1']],
        { reply: 0 },
        [2, ['SET', 'a', '2']],
        { quiet: 0 },
        [1, ['SET', 'b', '1']],
        { reply: 0 },
        { quiet: 1 },
        [2, ['FLUSHALL']],
        { reply: 0 },
      ],
    ));

  test('BCAST with a prefix, NOLOOP', () =>
    redirected(
      ['BCAST', 'PREFIX', 'p:', 'NOLOOP'],
      [
        [2, ['MSET', 'p:1', 'a', 'p:2', 'b', 'q', 'c']],
        { reply: 0 },
        [1, ['SET', 'p:3', 'x']],
        { quiet: 0 },
        [2, ['DEL', 'p:1']],
        { reply: 0 },
      ],
    ));

  test('a RESP2 client without a redirect is told nothing', () =>
    s.script(2, [[0, ON], [0, ['GET', 'a']], [1, ['SET', 'a', '1']], { quiet: 0 }, [0, ['CLIENT', 'TRACKINGINFO']]]));
});
