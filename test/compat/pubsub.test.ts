// Differential: pub/sub against a real redis-server, byte for byte, over
// several connections — subscribe and unsubscribe confirmations with their
// running counts, messages and pmessages (a publisher and three subscribers
// with channels and patterns), shard channels, PUBSUB introspection, the RESP2
// subscribed-context rules (refused commands, PING's shape, RESET, QUIT),
// (S|P)SUBSCRIBE inside MULTI, arity and subcommand errors, and a disconnected
// subscriber's subscriptions freed.
//
// Nothing sleeps. A message is known delivered because it is read (it
// arrives); a subscriber is known to have received nothing because a PING on
// that same connection answers and its pong is the next reply (the server
// appends a message to the subscriber's output while running PUBLISH, before
// it reads the PING), or by the harness's quiet check.
import { describe, expect, test } from 'vitest';
import { encodeCommand } from '../../src/protocol/resp.js';
import { type ClientStep, type Cmd, RawClient, useServers } from './harness.js';

/** Sends cmd on connection c and compares its n replies (SUBSCRIBE a b c answers three arrays). */
const multi = (c: number, cmd: Cmd, n: number): ClientStep[] => [[c, cmd], ...Array.from({ length: n - 1 }, () => ({ reply: c }))];
/** Connection c received nothing so far: a PING there is answered with the subscribed-context pong, next. */
const nothingOn = (c: number): ClientStep => [c, ['PING', 'nothing-before-this']];

describe('pub/sub', () => {
  // RESP2's pub/sub: the subscribed context and its PING are RESP2 rules (RESP3 is below).
  const s = useServers([], { resp: 2 });

  test('subscribe and unsubscribe confirmations: running counts, duplicates, none, the three kinds counted apart', () =>
    s.script(1, [
      [0, ['UNSUBSCRIBE']],
      [0, ['PUNSUBSCRIBE']],
      [0, ['SUNSUBSCRIBE']],
      ...multi(0, ['UNSUBSCRIBE', 'x', 'y'], 2),
      ...multi(0, ['PUNSUBSCRIBE', 'x*'], 1),
      ...multi(0, ['SUBSCRIBE', 'a', 'b', 'a'], 3),
      ...multi(0, ['PSUBSCRIBE', 'z*', 'a*', 'h?llo', 'z*'], 4),
      ...multi(0, ['SSUBSCRIBE', 's1', 's2', 's1'], 3),
      ...multi(0, ['subscribe', 'a', 'c'], 2),
      ...multi(0, ['UNSUBSCRIBE', 'a', 'zz', 'a'], 3),
      ...multi(0, ['PUNSUBSCRIBE', 'a*'], 1),
      // Patterns are a list in Redis 7.0: PUNSUBSCRIBE without arguments goes in subscription order.
      ...multi(0, ['PUNSUBSCRIBE'], 2),
      [0, ['PUNSUBSCRIBE']],
      ...multi(0, ['SUNSUBSCRIBE', 's2'], 1),
      ...multi(0, ['UNSUBSCRIBE', 'b'], 1),
      // One channel left: UNSUBSCRIBE with no arguments names it.
      ...multi(0, ['UNSUBSCRIBE'], 1),
      [0, ['UNSUBSCRIBE']],
      // A shard channel still holds the subscribed context.
      [0, ['GET', 'k']],
      ...multi(0, ['SUNSUBSCRIBE'], 1),
      [0, ['GET', 'k']],
      [0, ['PING']],
    ]));

  test('the subscribed context: refused commands name themselves, PING answers a pong array, RESET and QUIT work', () =>
    s.script(1, [
      [0, ['SUBSCRIBE', 'a']],
      [0, ['GET', 'k']],
      [0, ['set', 'k', 'v']],
      [0, ['CLIENT', 'LIST']],
      [0, ['client', 'id']],
      [0, ['PUBSUB', 'NUMSUB', 'a']],
      [0, ['PUBSUB', 'CHANNELS']],
      [0, ['PUBLISH', 'a', 'x']],
      [0, ['MULTI']],
      [0, ['ECHO', 'x']],
      [0, ['SELECT', '0']],
      // Lookup and arity come first: these are answered as anywhere else.
      [0, ['NOSUCH', 'x']],
      [0, ['PUBSUB', 'nosuch']],
      [0, ['PUBSUB', 'NUMPAT', 'extra']],
      [0, ['GET']],
      [0, ['PING']],
      [0, ['PING', 'hello']],
      [0, ['ping', '']],
      [0, ['PING', 'a', 'b']],
      [0, ['SUBSCRIBE']],
      ...multi(0, ['PSUBSCRIBE', 'p*', 'q*'], 2),
      [0, ['GET', 'k']],
      [0, ['RESET']],
      [0, ['GET', 'k']],
      [0, ['PING']],
      [0, ['UNSUBSCRIBE']],
      [0, ['SUBSCRIBE', 'b']],
      [0, ['QUIT']],
    ]));

  test('inline commands in the subscribed context', async () => {
    const c = await s.clients(1);
    try {
      for (const raw of ['SUBSCRIBE inl\r\n', 'PING\r\n', 'PING hi\r\n', 'GET k\r\n', 'UNSUBSCRIBE\r\n', 'PING\r\n']) {
        c.redis[0].write(raw);
        c.ours[0].write(raw);
        const [[a], [b]] = await Promise.all([c.redis[0].next(1), c.ours[0].next(1)]);
        expect(b.toString('latin1'), raw).toBe(a.toString('latin1'));
      }
      await c.quiet();
    } finally {
      c.close();
    }
  });

  test('a publisher and three subscribers with channels and patterns', () =>
    s.script(4, [
      ...multi(1, ['SUBSCRIBE', 'news', 'sport'], 2),
      ...multi(2, ['PSUBSCRIBE', 'n*', '*rt'], 2),
      [3, ['SUBSCRIBE', 'news']],
      [3, ['PSUBSCRIBE', 'ne?s']],
      // news: 1 and 3 directly, 2 and 3 by pattern; a client with both gets both.
      [0, ['PUBLISH', 'news', 'hello']],
      { reply: 1 },
      { reply: 2 },
      { reply: 3 },
      { reply: 3 },
      // sport: 1 directly, 2 by *rt.
      [0, ['PUBLISH', 'sport', 'goal']],
      { reply: 1 },
      { reply: 2 },
      nothingOn(3),
      // Nobody listens to weather; alert matches *rt only.
      [0, ['PUBLISH', 'weather', 'rain']],
      [0, ['PUBLISH', 'alert', 'x']],
      { reply: 2 },
      nothingOn(1),
      nothingOn(2),
      nothingOn(3),
      // Bytes are bytes: empty, binary and large messages; channel names too.
      [0, ['PUBLISH', 'news', '']],
      { reply: 1 },
      { reply: 2 },
      { reply: 3 },
      { reply: 3 },
      [0, ['PUBLISH', 'news', Buffer.from([0, 13, 10, 255, 128])]],
      { reply: 1 },
      { reply: 2 },
      { reply: 3 },
      { reply: 3 },
      [0, ['PUBLISH', 'sport', 'x'.repeat(200_000)]],
      { reply: 1 },
      { reply: 2 },
      // A subscriber's own commands are answered in order with its messages.
      [0, ['PUBLISH', 'sport', 'first']],
      ...multi(1, ['SUBSCRIBE', 'news2'], 1),
      { reply: 1 },
      { reply: 2 },
      // Introspection from the publisher.
      [0, ['PUBSUB', 'NUMSUB', 'news', 'sport', 'nothing', 'n*', 'news2']],
      [0, ['PUBSUB', 'NUMPAT']],
      [0, ['PUBSUB', 'CHANNELS'], 'unordered'],
      [0, ['PUBSUB', 'CHANNELS', 'n*'], 'unordered'],
      [0, ['PUBSUB', 'channels', 's[op]ort']],
      [0, ['PUBSUB', 'CHANNELS', 'x*']],
      // Unsubscribing changes who gets what.
      [3, ['UNSUBSCRIBE', 'news']],
      [2, ['PUNSUBSCRIBE', 'n*']],
      [0, ['PUBLISH', 'news', 'later']],
      { reply: 1 },
      { reply: 3 },
      nothingOn(2),
      [0, ['PUBSUB', 'NUMSUB', 'news']],
      [0, ['PUBSUB', 'NUMPAT']],
      // Two clients on one pattern: NUMPAT counts distinct patterns (Redis 7.0).
      [1, ['PSUBSCRIBE', '*rt']],
      [0, ['PUBSUB', 'NUMPAT']],
      [0, ['PUBLISH', 'sport', 'both']],
      { reply: 1 },
      { reply: 1 },
      { reply: 2 },
      nothingOn(3),
    ]));

  test('patterns follow stringmatchlen: classes, negation, ranges, escapes', () =>
    s.script(5, [
      [1, ['PSUBSCRIBE', 'h[ae]llo']],
      [2, ['PSUBSCRIBE', 'h[^e]llo']],
      [3, ['PSUBSCRIBE', 'r[z-a]nge']],
      [4, ['PSUBSCRIBE', 'lit\\*']],
      [0, ['PUBLISH', 'hello', '1']],
      { reply: 1 },
      [0, ['PUBLISH', 'hallo', '2']],
      { reply: 1 },
      { reply: 2 },
      [0, ['PUBLISH', 'hxllo', '3']],
      { reply: 2 },
      [0, ['PUBLISH', 'rmnge', '4']],
      { reply: 3 },
      [0, ['PUBLISH', 'lit*', '5']],
      { reply: 4 },
      [0, ['PUBLISH', 'litx', '6']],
      [0, ['PUBLISH', 'hllo', '7']],
      nothingOn(1),
      nothingOn(2),
      nothingOn(3),
      nothingOn(4),
      [0, ['PUBSUB', 'NUMPAT']],
    ]));

  test('shard channels: SSUBSCRIBE, SPUBLISH, SHARDCHANNELS, SHARDNUMSUB, kept apart from plain channels', () =>
    s.script(3, [
      ...multi(1, ['SSUBSCRIBE', 's', 't'], 2),
      [2, ['SUBSCRIBE', 's']],
      [2, ['PSUBSCRIBE', '*']],
      [0, ['SPUBLISH', 's', 'to-shard']],
      { reply: 1 },
      nothingOn(2),
      [0, ['PUBLISH', 's', 'to-plain']],
      { reply: 2 },
      { reply: 2 },
      nothingOn(1),
      [0, ['SPUBLISH', 'nobody', 'x']],
      [0, ['PUBSUB', 'SHARDCHANNELS'], 'unordered'],
      [0, ['PUBSUB', 'SHARDCHANNELS', 't*']],
      [0, ['PUBSUB', 'SHARDNUMSUB', 's', 't', 'u']],
      [0, ['PUBSUB', 'SHARDNUMSUB']],
      [0, ['PUBSUB', 'NUMSUB', 's']],
      [0, ['PUBSUB', 'CHANNELS']],
      ...multi(1, ['SUNSUBSCRIBE', 's', 'nope'], 2),
      [0, ['PUBSUB', 'SHARDNUMSUB', 's', 't']],
      [1, ['SUNSUBSCRIBE']],
      [1, ['GET', 'k']],
    ]));

  test('PUBSUB: HELP, subcommand and arity errors, empty introspection', () =>
    s.script(1, [
      [0, ['PUBSUB', 'HELP']],
      [0, ['pubsub', 'help']],
      [0, ['PUBSUB', 'HELP', 'x']],
      [0, ['PUBSUB']],
      [0, ['PUBSUB', 'foo']],
      [0, ['PUBSUB', 'foo', 'bar']],
      [0, ['PUBSUB', 'NUMPAT']],
      [0, ['PUBSUB', 'NUMPAT', 'x']],
      [0, ['PUBSUB', 'NUMSUB']],
      [0, ['PUBSUB', 'NUMSUB', 'a', 'b']],
      [0, ['PUBSUB', 'CHANNELS']],
      [0, ['PUBSUB', 'CHANNELS', '*']],
      [0, ['PUBSUB', 'CHANNELS', 'a', 'b']],
      [0, ['pubsub', 'channels', 'a', 'b']],
      [0, ['PUBSUB', 'SHARDCHANNELS', 'a', 'b']],
      [0, ['PUBSUB', 'SHARDCHANNELS']],
      [0, ['PUBSUB', 'SHARDNUMSUB', 'x']],
      // Inside MULTI an unknown subcommand is refused at queueing time: EXEC aborts.
      [0, ['MULTI']],
      [0, ['PUBSUB', 'nosuch']],
      [0, ['PUBSUB', 'NUMPAT']],
      [0, ['EXEC']],
    ]));

  test('arity errors', () =>
    s.script(1, [
      [0, ['SUBSCRIBE']],
      [0, ['PSUBSCRIBE']],
      [0, ['SSUBSCRIBE']],
      [0, ['PUBLISH']],
      [0, ['PUBLISH', 'a']],
      [0, ['PUBLISH', 'a', 'b', 'c']],
      [0, ['SPUBLISH', 'a']],
      [0, ['spublish', 'a', 'b', 'c']],
      [0, ['PUBLISH', 'a', 'b']],
      [0, ['SPUBLISH', 'a', 'b']],
    ]));

  test('inside MULTI: SUBSCRIBE and PSUBSCRIBE run in EXEC, SSUBSCRIBE is refused; a message to oneself lands inside the EXEC reply', () =>
    s.script(2, [
      [0, ['MULTI']],
      [0, ['SUBSCRIBE', 'm']],
      [0, ['PING']],
      [0, ['GET', 'k']],
      [0, ['SSUBSCRIBE', 's']],
      [0, ['PSUBSCRIBE', 'm*']],
      [0, ['PUBLISH', 'm', 'to-myself']],
      [0, ['EXEC']],
      // Redis writes the messages where they happen: into the middle of the
      // EXEC array (one message and one pmessage displace two of its elements).
      { reply: 0 },
      { reply: 0 },
      [0, ['GET', 'k']],
      [1, ['PUBLISH', 'm', 'x']],
      { reply: 0 },
      { reply: 0 },
      [0, ['RESET']],
    ]));

  test('a disconnected subscriber holds nothing: NUMSUB, NUMPAT and PUBLISH no longer count it', async () => {
    const c = await s.clients(3);
    try {
      await c.run([
        ...multi(1, ['SUBSCRIBE', 'gone', 'kept'], 2),
        [1, ['PSUBSCRIBE', 'go*']],
        [1, ['SSUBSCRIBE', 'sgone']],
        [2, ['SUBSCRIBE', 'kept']],
        [0, ['PUBSUB', 'NUMSUB', 'gone', 'kept']],
        [0, ['PUBSUB', 'NUMPAT']],
        [0, ['PUBSUB', 'SHARDNUMSUB', 'sgone']],
      ]);
      c.redis[1].close();
      c.ours[1].close();
      // The close reached each server before these round trips (see Clients.quiet): it has freed the client.
      await c.quiet([0, 2]);
      await c.run([
        [0, ['PUBSUB', 'NUMSUB', 'gone', 'kept']],
        [0, ['PUBSUB', 'NUMPAT']],
        [0, ['PUBSUB', 'SHARDNUMSUB', 'sgone']],
        [0, ['PUBSUB', 'CHANNELS'], 'unordered'],
        [0, ['PUBLISH', 'gone', 'x']],
        [0, ['PUBLISH', 'kept', 'y']],
        { reply: 2 },
      ]);
      await c.quiet([0, 2]);
    } finally {
      c.close();
    }
  });

  // Redis keeps a client's channels in a hash table: UNSUBSCRIBE (and
  // SUNSUBSCRIBE) without arguments names them in an order it leaves open.
  // Compared here: the same channels, each once, with counts going down by one.
  test('UNSUBSCRIBE and SUNSUBSCRIBE without arguments: every channel once, counts descending', async () => {
    const channels = ['c1', 'c2', 'c3', 'c4', 'c5'];
    for (const [sub, unsub, extra] of [
      ['SUBSCRIBE', 'UNSUBSCRIBE', ['PSUBSCRIBE', 'pat*']],
      ['SSUBSCRIBE', 'SUNSUBSCRIBE', ['SUBSCRIBE', 'plain']],
    ] as const) {
      const seen: string[][] = [];
      for (const port of [s.redisPort, s.oursPort]) {
        const c = await RawClient.connect(port);
        try {
          c.write(encodeCommand([...extra]));
          await c.next(1);
          c.write(encodeCommand([sub, ...channels]));
          await c.next(channels.length);
          c.write(encodeCommand([unsub]));
          const replies = (await c.next(channels.length)).map((b) => b.toString('latin1'));
          const names = replies.map((r) => /^\*3\r\n\$\d+\r\n\w+\r\n\$\d+\r\n([^\r]*)\r\n/.exec(r)![1]);
          const counts = replies.map((r) => /:(\d+)\r\n$/.exec(r)![1]);
          // The other kind's subscription still counts for UNSUBSCRIBE (channels + patterns), not for SUNSUBSCRIBE.
          const base = unsub === 'UNSUBSCRIBE' ? 1 : 0;
          expect(counts).toEqual(channels.map((_, i) => String(channels.length - 1 - i + base)));
          expect(replies.every((r) => r.startsWith(`*3\r\n$${unsub.length}\r\n${unsub.toLowerCase()}\r\n`))).toBe(true);
          seen.push([...names].sort());
          expect((await c.call(['PING'])).toString()).toBe('*2\r\n$4\r\npong\r\n$0\r\n\r\n');
        } finally {
          c.close();
        }
      }
      expect(seen[1]).toEqual(seen[0]);
      expect(seen[0]).toEqual(channels);
    }
  });
});

describe('pub/sub with RESP2 and RESP3 subscribers on one channel', () => {
  const s = useServers([], { resp: 2 });

  test('each subscriber gets the message in its own protocol (one encoding per protocol, shared)', () =>
    s.script(4, [
      [1, ['HELLO', '3'], 'hello'],
      [0, ['SUBSCRIBE', 'ch']],
      [1, ['SUBSCRIBE', 'ch']],
      [2, ['SUBSCRIBE', 'ch']],
      [3, ['PUBLISH', 'ch', 'one']],
      { reply: 0 },
      { reply: 1 },
      { reply: 2 },
      [1, ['PSUBSCRIBE', 'c*']],
      [3, ['PUBLISH', 'ch', 'two']],
      { reply: 0 },
      { reply: 1 },
      { reply: 1 },
      { reply: 2 },
    ]));
});

describe('pub/sub under RESP3', () => {
  const s = useServers([], { resp: 3 });

  test('confirmations and messages are pushes; other commands and PING work while subscribed', () =>
    s.script(2, [
      [0, ['SUBSCRIBE', 'news', 'sport']],
      { reply: 0 },
      [0, ['PSUBSCRIBE', 'n*']],
      [0, ['GET', 'k']],
      [0, ['PING']],
      [0, ['SET', 'k', 'v']],
      [1, ['PUBLISH', 'news', 'hello']],
      { reply: 0 },
      { reply: 0 },
      [1, ['PUBLISH', 'sport', 'goal']],
      { reply: 0 },
      [0, ['UNSUBSCRIBE', 'news']],
      [0, ['PUNSUBSCRIBE']],
      [0, ['UNSUBSCRIBE']],
      [0, ['UNSUBSCRIBE']],
      [1, ['PUBLISH', 'sport', 'none']],
      [0, ['GET', 'k']],
    ]));
});
