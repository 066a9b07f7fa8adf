// A script past busy-reply-threshold, with two clients, against redis-server:
// other clients get -BUSY, SCRIPT KILL / FUNCTION KILL stop the script (its
// client gets the killed error), a script that wrote is UNKILLABLE, and
// SHUTDOWN NOSAVE ends the server. The scripts spin until killed, so nothing
// depends on timing: a connection polls with PING until the server answers
// BUSY (the event that says the script is past the threshold).

import { describe, expect, test } from 'vitest';
import { encodeCommand } from '../../src/protocol/resp.js';
import { useServers, type Clients, type RawClient } from './harness.js';

const SPIN = 'while true do end';
const LIB = "#!lua name=spinlib\nredis.register_function('spin', function() while true do end end)";

/** Sends cmd on connection 0 of both servers (no reply yet), then waits on connection 1 until each answers -BUSY. */
async function startBusy(clients: Clients, cmd: string[]): Promise<void> {
  const bytes = encodeCommand(cmd);
  clients.redis[0].write(bytes);
  clients.ours[0].write(bytes);
  const waitBusy = async (c: RawClient) => {
    for (;;) {
      const r = (await c.call(['PING'])).toString('latin1');
      if (r.startsWith('-BUSY ')) return;
      expect(r).toBe('+PONG\r\n');
    }
  };
  await Promise.all([waitBusy(clients.redis[1]), waitBusy(clients.ours[1])]);
}

/** The libuv twin cannot serve clients from inside a script (README): there the script is stopped instead. */
const LIBUV = process.env.REDLOOP_LOOP === 'libuv';

if (LIBUV) describe('busy scripts on the libuv twin', () => {
  const s = useServers();

  test('a script past the threshold is stopped with an error; the server keeps serving', async () => {
    await s.ours.call(['CONFIG', 'SET', 'busy-reply-threshold', '100']);
    expect((await s.ours.call(['EVAL', SPIN, '0'])).toString()).toMatch(/^-ERR Script killed: it ran past the script time limit \(busy-reply-threshold, 100 ms\)/);
    expect((await s.ours.call(['PING'])).toString()).toBe('+PONG\r\n');
  });
});

else describe('busy scripts (two clients)', () => {
  const s = useServers();

  test('EVAL past the threshold: -BUSY for others, what is allowed, SCRIPT KILL and the killed error', async () => {
    for (const c of [s.redis, s.ours]) await c.call(['CONFIG', 'SET', 'busy-reply-threshold', '100']);
    await s.redis.call(['FLUSHALL']);
    await s.ours.call(['FLUSHALL']);
    const clients = await s.clients(2);
    try {
      await startBusy(clients, ['EVAL', SPIN, '0']);
      await clients.run([
        [1, ['GET', 'x']],
        [1, ['EVAL', 'return 1', '0']],
        [1, ['FUNCTION', 'STATS']],
        [1, ['FUNCTION', 'KILL']],
        [1, ['SHUTDOWN']],
        [1, ['MULTI']],
        [1, ['SET', 'a', '1']],
        [1, ['EXEC']],
        [1, ['DISCARD']],
        [1, ['SCRIPT', 'KILL']],
        { reply: 0 },
        [1, ['SCRIPT', 'KILL']],
        [0, ['PING']],
        [1, ['SET', 'a', '1']],
      ]);
      await clients.quiet();
    } finally {
      clients.close();
    }
  });

  test('FCALL past the threshold: the FUNCTION wording, SCRIPT KILL refused, FUNCTION KILL', async () => {
    for (const c of [s.redis, s.ours]) {
      await c.call(['CONFIG', 'SET', 'busy-reply-threshold', '100']);
      await c.call(['FUNCTION', 'FLUSH']);
      expect((await c.call(['FUNCTION', 'LOAD', LIB])).toString()).toBe('$7\r\nspinlib\r\n');
    }
    const clients = await s.clients(2);
    try {
      await startBusy(clients, ['FCALL', 'spin', '0']);
      await clients.run([
        [1, ['GET', 'x']],
        [1, ['SCRIPT', 'KILL']],
        [1, ['FUNCTION', 'STATS'], 'shape'],
        [1, ['FUNCTION', 'KILL']],
        { reply: 0 },
        [1, ['FUNCTION', 'KILL']],
        [0, ['FUNCTION', 'DELETE', 'spinlib']],
      ]);
      await clients.quiet();
    } finally {
      clients.close();
    }
  });

  test('a script that wrote is UNKILLABLE; a pcall cannot catch SCRIPT KILL; a client blocked on a key it pushed to is not served', async () => {
    for (const c of [s.redis, s.ours]) await c.call(['CONFIG', 'SET', 'busy-reply-threshold', '100']);
    const clients = await s.clients(3);
    try {
      await startBusy(clients, ['EVAL', 'while true do pcall(function() while true do end end) end', '0']);
      await clients.run([[1, ['SCRIPT', 'KILL']], { reply: 0 }, { send: 2, cmd: ['BLPOP', 'w', '0'] }, { quiet: 2 }]);
      await startBusy(clients, ['EVAL', "redis.call('LPUSH', KEYS[1], 'v') " + SPIN, '1', 'w']);
      await clients.run([
        [1, ['SCRIPT', 'KILL']],
        [1, ['SHUTDOWN', 'SAVE']],
      ]);
      // SHUTDOWN NOSAVE ends both servers: no reply to it nor to the script's client, both connections close.
      const bytes = encodeCommand(['SHUTDOWN', 'NOSAVE']);
      for (const c of [clients.redis[1], clients.ours[1]]) c.write(bytes);
      const all = [...clients.redis, ...clients.ours];
      await Promise.all(all.map((c) => c.waitClosed()));
      // Not the script's client, nor SHUTDOWN's, nor the BLPOP the script's push would have served.
      const got = all.flatMap((c, i) => [...c.unread(), ...(c.rest().length > 0 ? [c.rest()] : [])].map((b) => `${i < 3 ? 'redis' : 'redloop'}[${i % 3}]: ${b.toString('latin1')}`));
      expect(got).toEqual([]);
      expect(await s.ourServer.exited()).toBe(0);
    } finally {
      clients.close();
    }
  });
});
