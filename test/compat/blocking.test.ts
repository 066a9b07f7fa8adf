// Differential: the blocking commands (src/commands/resp/blocking.ts) against
// a real redis-server 7.0, byte for byte. First what they answer at once (a key
// with something to pop, WRONGTYPE, argument and timeout errors, short
// timeouts, inside MULTI/EXEC); then waiters and pushers on several
// connections through the harness's scripts: FIFO order, a push of several
// elements serving several waiters, keys made ready inside a transaction,
// BLMOVE chains, sorted sets, type changes, disconnects, CLIENT UNBLOCK.
// A client is known to be still blocked through { quiet: c } (two round trips
// on another connection, no sleeping); a timeout's reply is read as it comes.
import { describe, expect, test } from 'vitest';
import { parseReply } from '../../src/protocol/resp.js';
import { useServers, type Cmd } from './harness.js';
import { prng } from '../../src/util/prng.js';

const BLOCKING = ['blpop', 'brpop', 'blmove', 'brpoplpush', 'blmpop', 'bzpopmin', 'bzpopmax', 'bzmpop'];

describe('blocking commands', () => {
  const s = useServers();

  describe('answered at once', () => {
    test('BLPOP and BRPOP on lists that hold elements; missing keys skipped; WRONGTYPE', () =>
      s.same([
        ['RPUSH', 'l', 'a', 'b', 'c', 'd'],
        ['BLPOP', 'l', '0'],
        ['BRPOP', 'l', '0'],
        ['BLPOP', 'missing', 'l', '1'],
        ['BRPOP', 'missing', 'other', 'l', '0.5'],
        ['EXISTS', 'l'],
        ['SET', 'str', 'v'],
        ['RPUSH', 'l2', 'x', 'y'],
        ['BLPOP', 'str', '0'],
        ['BLPOP', 'missing', 'str', 'l2', '0'],
        ['BLPOP', 'l2', 'str', '0'],
        ['BRPOP', 'l2', 'l2', '0'],
        ['ZADD', 'z', '1', 'm'],
        ['BRPOP', 'z', '0'],
        ['blpop', 'Missing', 'z', '0'],
      ]));

    test('BLMOVE and BRPOPLPUSH: every direction, same key, WRONGTYPE on either side', () =>
      s.same([
        ['RPUSH', 'src', 'a', 'b', 'c', 'd', 'e'],
        ['BLMOVE', 'src', 'dst', 'LEFT', 'RIGHT', '0'],
        ['BLMOVE', 'src', 'dst', 'right', 'left', '0'],
        ['BLMOVE', 'src', 'dst', 'Left', 'Left', '1.5'],
        ['BRPOPLPUSH', 'src', 'dst', '0'],
        ['LRANGE', 'dst', '0', '-1'],
        ['BLMOVE', 'dst', 'dst', 'LEFT', 'RIGHT', '0'],
        ['LRANGE', 'dst', '0', '-1'],
        ['SET', 'str', 'v'],
        ['BLMOVE', 'str', 'dst', 'LEFT', 'RIGHT', '0'],
        ['BLMOVE', 'src', 'str', 'LEFT', 'RIGHT', '0'],
        ['BRPOPLPUSH', 'src', 'str', '0'],
        ['LRANGE', 'src', '0', '-1'],
        ['BRPOPLPUSH', 'src', 'src', '0'],
        ['EXISTS', 'src'],
      ]));

    test('BLMPOP: COUNT, ends, the first key that holds a list', () =>
      s.same([
        ['RPUSH', 'a', '1', '2', '3', '4', '5'],
        ['BLMPOP', '0', '2', 'missing', 'a', 'LEFT'],
        ['BLMPOP', '0', '1', 'a', 'RIGHT', 'COUNT', '2'],
        ['BLMPOP', '0.1', '3', 'x', 'y', 'a', 'left', 'count', '10'],
        ['EXISTS', 'a'],
        ['SET', 's', 'v'],
        ['RPUSH', 'b', 'q'],
        ['BLMPOP', '0', '2', 's', 'b', 'LEFT'],
        ['BLMPOP', '0', '2', 'b', 's', 'LEFT'],
      ]));

    test('BZPOPMIN, BZPOPMAX, BZMPOP on sorted sets that hold members; WRONGTYPE', () =>
      s.same([
        ['ZADD', 'z', '1', 'a', '2', 'b', '3', 'c', '4.5', 'd', '-inf', 'low'],
        ['BZPOPMIN', 'z', '0'],
        ['BZPOPMAX', 'z', '0'],
        ['BZPOPMIN', 'missing', 'z', '1'],
        ['BZMPOP', '0', '1', 'z', 'MIN'],
        ['BZMPOP', '0', '2', 'missing', 'z', 'max', 'COUNT', '10'],
        ['EXISTS', 'z'],
        ['RPUSH', 'l', 'x'],
        ['BZPOPMIN', 'l', '0'],
        ['BZPOPMAX', 'missing', 'l', '0'],
        ['BZMPOP', '0', '1', 'l', 'MIN'],
        ['ZADD', 'z2', '1', 'm'],
        ['BZPOPMIN', 'z2', 'l', '0'],
      ]));

    test('timeout errors: negative, not a number, out of range; arity', () =>
      s.same([
        ['RPUSH', 'l', 'a'],
        ['BLPOP', 'l', '-1'],
        ['BLPOP', 'l', '-0.002'],
        ['BLPOP', 'l', 'x'],
        ['BLPOP', 'l', ''],
        ['BLPOP', 'l', ' 1'],
        ['BLPOP', 'l', 'nan'],
        ['BLPOP', 'l', 'inf'],
        ['BLPOP', 'l', '1e16'],
        ['BRPOP', 'l', '0x'],
        ['BLMOVE', 'l', 'd', 'LEFT', 'RIGHT', '-1'],
        ['BLMOVE', 'l', 'd', 'UP', 'RIGHT', 'x'],
        ['BLMOVE', 'l', 'd', 'LEFT', 'DOWN', '-1'],
        ['BRPOPLPUSH', 'l', 'd', 'abc'],
        ['BZPOPMIN', 'z', '-5'],
        ['BZPOPMAX', 'z', 'five'],
        ['BLPOP', 'l'],
        ['BLPOP'],
        ['BLMOVE', 'l', 'd', 'LEFT', 'RIGHT'],
        ['BRPOPLPUSH', 'l', 'd'],
        ['BZPOPMIN', 'z'],
        ['LRANGE', 'l', '0', '-1'],
      ]));

    test('BLMPOP and BZMPOP errors: numkeys, ends, COUNT, then the timeout', () =>
      s.same([
        ['BLMPOP', '0', '0', 'a', 'LEFT'],
        ['BLMPOP', '0', 'x', 'a', 'LEFT'],
        ['BLMPOP', 'x', '0', 'a', 'LEFT'],
        ['BLMPOP', 'x', '1', 'a', 'LEFT'],
        ['BLMPOP', '-1', '1', 'a', 'LEFT'],
        ['BLMPOP', '0', '1', 'a', 'UP'],
        ['BLMPOP', '0', '2', 'a', 'LEFT'],
        ['BLMPOP', '0', '1', 'a', 'LEFT', 'COUNT', '0'],
        ['BLMPOP', '0', '1', 'a', 'LEFT', 'COUNT'],
        ['BLMPOP', '0', '1', 'a', 'LEFT', 'COUNT', '1', 'COUNT', '2'],
        ['BLMPOP', 'x', '1', 'a', 'LEFT', 'COUNT', '0'],
        ['BLMPOP', '0', '1', 'a'],
        ['BZMPOP', '0', '0', 'z', 'MIN'],
        ['BZMPOP', 'x', '1', 'z', 'MIN'],
        ['BZMPOP', '0', '1', 'z', 'LEFT'],
        ['BZMPOP', '0', '1', 'z', 'MIN', 'COUNT', '-1'],
        ['BZMPOP', 'x', '1', 'z', 'MIN', 'COUNT', '0'],
        ['BZMPOP', '0', '1', 'z'],
      ]));

    test('short timeouts: a null array for every command (BLMOVE and BRPOPLPUSH too)', () =>
      s.same([
        ['BLPOP', 'none', '0.01'],
        ['BRPOP', 'none', 'other', '0.02'],
        ['BLMOVE', 'none', 'd', 'LEFT', 'RIGHT', '0.01'],
        ['BRPOPLPUSH', 'none', 'd', '0.01'],
        ['BLMPOP', '0.01', '2', 'none', 'other', 'LEFT'],
        ['BZPOPMIN', 'none', '0.01'],
        ['BZPOPMAX', 'none', '0.01'],
        ['BZMPOP', '0.01', '1', 'none', 'MAX', 'COUNT', '3'],
        ['BLPOP', 'none', '0.0001'],
        ['BLPOP', 'none', '1e-4940'],
        ['EXISTS', 'd'],
      ]));

    test('inside MULTI/EXEC they do not block: a null array (a null bulk for BLMOVE and BRPOPLPUSH), or what is there', () =>
      s.same([
        ['MULTI'],
        ['BLPOP', 'none', '0'],
        ['BRPOP', 'none', '1'],
        ['BLMOVE', 'none', 'd', 'LEFT', 'RIGHT', '0'],
        ['BRPOPLPUSH', 'none', 'd', '0'],
        ['BLMPOP', '0', '1', 'none', 'LEFT'],
        ['BZPOPMIN', 'none', '0'],
        ['BZPOPMAX', 'none', '0'],
        ['BZMPOP', '0', '1', 'none', 'MIN'],
        ['RPUSH', 'l', 'a', 'b'],
        ['BLPOP', 'l', '0'],
        ['BLMOVE', 'l', 'd', 'LEFT', 'RIGHT', '0'],
        ['BLPOP', 'l', '0'],
        ['ZADD', 'z', '1', 'm'],
        ['BZPOPMIN', 'z', '0'],
        ['BZPOPMIN', 'z', '0'],
        ['BLPOP', 'l', '-1'],
        ['SET', 's', 'v'],
        ['BLPOP', 's', '0'],
        ['EXEC'],
        ['MULTI'],
        ['BLPOP', 'l'],
        ['EXEC'],
      ]));

    test('COMMAND INFO: arity, flags and key positions', async () => {
      const pick = (b: Buffer) => {
        const r = parseReply(b)!.reply;
        if (r.type !== 'array' || r.items === null) return r;
        return r.items.map((it) => (it.type === 'array' && it.items !== null ? it.items.slice(0, 6) : it));
      };
      const [a, b] = await Promise.all([s.redis.call(['COMMAND', 'INFO', ...BLOCKING]), s.ours.call(['COMMAND', 'INFO', ...BLOCKING])]);
      expect(pick(b)).toEqual(pick(a));
    });
  });

  describe('a waiter and a pusher', () => {
    test('BLPOP, then LPUSH from another client: served; the list is gone', () =>
      s.script(2, [
        { send: 0, cmd: ['BLPOP', 'q', '0'] },
        { quiet: 0 },
        [1, ['LPUSH', 'q', 'job1']],
        { reply: 0 },
        [1, ['EXISTS', 'q']],
        // The client carries on as before.
        [0, ['PING']],
      ]));

    test('requests a blocked client sent behind BLPOP wait, then run in order', () =>
      s.script(2, [
        { send: 0, raw: '*3\r\n$5\r\nBLPOP\r\n$1\r\nq\r\n$1\r\n0\r\n*1\r\n$4\r\nPING\r\n*2\r\n$4\r\nLLEN\r\n$1\r\nq\r\n' },
        { quiet: 0 },
        [1, ['RPUSH', 'q', 'a', 'b']],
        { reply: 0 },
        { reply: 0 },
        { reply: 0 },
      ]));

    test('a push of several elements serves several waiters, first blocked first served; the pusher sees the length before', () =>
      s.script(5, [
        { send: 0, cmd: ['BLPOP', 'q', '0'] },
        { quiet: 0 },
        { send: 1, cmd: ['BRPOP', 'q', '0'] },
        { quiet: 1 },
        { send: 2, cmd: ['BLPOP', 'q', '0'] },
        { quiet: 2 },
        { send: 3, cmd: ['BLPOP', 'q', '0'] },
        { quiet: 3 },
        [4, ['RPUSH', 'q', 'a', 'b', 'c']],
        { reply: 0 },
        { reply: 1 },
        { reply: 2 },
        { quiet: 3 },
        [4, ['EXISTS', 'q']],
        [4, ['RPUSH', 'q', 'd', 'e']],
        { reply: 3 },
        [4, ['LRANGE', 'q', '0', '-1']],
      ]));

    test('a client blocked on several keys is served by the first that gets elements, and only once', () =>
      s.script(3, [
        { send: 0, cmd: ['BLPOP', 'a', 'b', 'c', '0'] },
        { quiet: 0 },
        { send: 1, cmd: ['BLPOP', 'b', '0'] },
        { quiet: 1 },
        [2, ['RPUSH', 'b', 'x']],
        { reply: 0 },
        { quiet: 1 },
        [2, ['RPUSH', 'a', 'y']],
        [2, ['RPUSH', 'b', 'z']],
        { reply: 1 },
        [2, ['LRANGE', 'a', '0', '-1']],
      ]));

    test('the same key twice, and BLMOVE rotating a key onto itself', () =>
      s.script(3, [
        { send: 0, cmd: ['BLPOP', 'q', 'q', '0'] },
        { send: 1, cmd: ['BLMOVE', 'r', 'r', 'LEFT', 'RIGHT', '0'] },
        { quiet: [0, 1] },
        [2, ['RPUSH', 'q', 'a', 'b']],
        { reply: 0 },
        [2, ['LRANGE', 'q', '0', '-1']],
        [2, ['RPUSH', 'r', 'x']],
        { reply: 1 },
        [2, ['LRANGE', 'r', '0', '-1']],
      ]));

    test('inside a transaction: waiters are served after EXEC, from the keys in the order they became ready', () =>
      s.script(3, [
        { send: 0, cmd: ['BLPOP', 'a', 'b', '0'] },
        { quiet: 0 },
        { send: 1, cmd: ['BLPOP', 'a', '0'] },
        { quiet: 1 },
        [2, ['MULTI']],
        [2, ['RPUSH', 'b', 'from-b']],
        [2, ['RPUSH', 'a', 'from-a']],
        [2, ['LLEN', 'a']],
        [2, ['EXEC']],
        { reply: 0 },
        { reply: 1 },
        [2, ['EXISTS', 'a', 'b']],
      ]));

    test('a key pushed and emptied within one transaction serves nobody', () =>
      s.script(2, [
        { send: 0, cmd: ['BLPOP', 'q', '0'] },
        { quiet: 0 },
        [1, ['MULTI']],
        [1, ['RPUSH', 'q', 'a', 'b']],
        [1, ['DEL', 'q']],
        [1, ['EXEC']],
        { quiet: 0 },
        [1, ['MULTI']],
        [1, ['RPUSH', 'q', 'a', 'b']],
        [1, ['LPOP', 'q']],
        [1, ['EXEC']],
        { reply: 0 },
      ]));

    test('BLMOVE chains: each move serves the next waiter, in one command', () =>
      s.script(4, [
        { send: 0, cmd: ['BLMOVE', 'a', 'b', 'LEFT', 'RIGHT', '0'] },
        { quiet: 0 },
        { send: 1, cmd: ['BRPOPLPUSH', 'b', 'c', '0'] },
        { quiet: 1 },
        { send: 2, cmd: ['BLPOP', 'c', '0'] },
        { quiet: 2 },
        [3, ['RPUSH', 'a', 'x', 'y']],
        { reply: 0 },
        { reply: 1 },
        { reply: 2 },
        [3, ['LRANGE', 'a', '0', '-1']],
        [3, ['EXISTS', 'b', 'c']],
      ]));

    test('BLMOVE whose destination holds another type when served: WRONGTYPE, nothing moved, the next waiter served', () =>
      s.script(3, [
        { send: 0, cmd: ['BLMOVE', 'src', 'str', 'LEFT', 'RIGHT', '0'] },
        { quiet: 0 },
        { send: 1, cmd: ['BLPOP', 'src', '0'] },
        { quiet: 1 },
        [2, ['SET', 'str', 'v']],
        [2, ['RPUSH', 'src', 'x', 'y']],
        { reply: 0 },
        { reply: 1 },
        [2, ['LRANGE', 'src', '0', '-1']],
      ]));

    test('BLMPOP with COUNT from the first ready key', () =>
      s.script(3, [
        { send: 0, cmd: ['BLMPOP', '0', '2', 'a', 'b', 'RIGHT', 'COUNT', '3'] },
        { quiet: 0 },
        { send: 1, cmd: ['BLMPOP', '0', '1', 'b', 'LEFT', 'COUNT', '3'] },
        { quiet: 1 },
        [2, ['RPUSH', 'b', '1', '2', '3', '4', '5']],
        { reply: 0 },
        { reply: 1 },
        [2, ['EXISTS', 'b']],
      ]));

    test('BZPOPMIN, BZMPOP and BZPOPMAX served by one ZADD', () =>
      s.script(4, [
        { send: 0, cmd: ['BZPOPMIN', 'z', '0'] },
        { quiet: 0 },
        { send: 1, cmd: ['BZMPOP', '0', '1', 'z', 'MAX', 'COUNT', '2'] },
        { quiet: 1 },
        { send: 2, cmd: ['BZPOPMAX', 'other', 'z', '0'] },
        { quiet: 2 },
        [3, ['ZADD', 'z', '1', 'a', '2', 'b', '3.5', 'c', '4', 'd', '5', 'e']],
        { reply: 0 },
        { reply: 1 },
        { reply: 2 },
        [3, ['ZRANGE', 'z', '0', '-1', 'WITHSCORES']],
        { send: 0, cmd: ['BZMPOP', '0', '1', 'z2', 'MIN', 'COUNT', '5'] },
        { quiet: 0 },
        [3, ['ZADD', 'z2', '1', 'x']],
        { reply: 0 },
        [3, ['EXISTS', 'z2']],
      ]));

    test('a key that becomes another type leaves its waiters blocked until it holds their type', () =>
      s.script(3, [
        { send: 0, cmd: ['BLPOP', 'k', '0'] },
        { send: 1, cmd: ['BZPOPMIN', 'k', '0'] },
        { quiet: [0, 1] },
        [2, ['SET', 'k', 'v']],
        { quiet: [0, 1] },
        [2, ['DEL', 'k']],
        [2, ['HSET', 'k', 'f', 'v']],
        [2, ['DEL', 'k']],
        [2, ['SADD', 'k', 'm']],
        [2, ['DEL', 'k']],
        { quiet: [0, 1] },
        [2, ['ZADD', 'k', '1', 'm', '2', 'n']],
        { reply: 1 },
        { quiet: 0 },
        [2, ['ZRANGE', 'k', '0', '-1']],
        [2, ['DEL', 'k']],
        [2, ['RPUSH', 'k', 'x']],
        { reply: 0 },
      ]));

    test('keys stored by RENAME, COPY, LMOVE and ZUNIONSTORE serve waiters; FLUSHALL keeps them waiting', () =>
      s.script(5, [
        { send: 0, cmd: ['BLPOP', 'renamed', '0'] },
        { send: 1, cmd: ['BLPOP', 'copied', '0'] },
        { send: 2, cmd: ['BLPOP', 'moved', '0'] },
        { send: 3, cmd: ['BZPOPMIN', 'union', '0'] },
        { quiet: [0, 1, 2, 3] },
        [4, ['FLUSHALL']],
        { quiet: [0, 1, 2, 3] },
        [4, ['SET', 'renamed', 'string first']],
        [4, ['RPUSH', 'src', 'a', 'b', 'c']],
        [4, ['RENAME', 'src', 'renamed']],
        { reply: 0 },
        [4, ['COPY', 'renamed', 'copied']],
        { reply: 1 },
        [4, ['LMOVE', 'renamed', 'moved', 'LEFT', 'LEFT']],
        { reply: 2 },
        [4, ['ZADD', 'z1', '1', 'a']],
        [4, ['ZADD', 'z2', '2', 'b']],
        [4, ['ZUNIONSTORE', 'union', '2', 'z1', 'z2']],
        { reply: 3 },
        [4, ['LRANGE', 'copied', '0', '-1']],
        [4, ['ZRANGE', 'union', '0', '-1']],
      ]));

    test('a value stored over a live key (ZUNIONSTORE, ZRANGESTORE onto a string) wakes nobody, as in 7.0; RENAME and COPY REPLACE do', () =>
      s.script(4, [
        { send: 0, cmd: ['BZPOPMIN', 'k', '0'] },
        { send: 1, cmd: ['BLPOP', 'l', '0'] },
        { send: 2, cmd: ['BZPOPMAX', 'r', '0'] },
        { quiet: [0, 1, 2] },
        [3, ['SET', 'k', 'v']],
        [3, ['ZADD', 'z1', '1', 'a', '2', 'b']],
        [3, ['ZUNIONSTORE', 'k', '1', 'z1']],
        { quiet: 0 },
        // It holds members, but nothing signalled it: ZADD onto it does not either.
        [3, ['ZADD', 'k', '3', 'c']],
        { quiet: 0 },
        [3, ['SET', 'r', 'v']],
        [3, ['ZRANGESTORE', 'r', 'z1', '0', '-1']],
        { quiet: 2 },
        [3, ['DEL', 'k']],
        [3, ['ZADD', 'k', '9', 'x']],
        { reply: 0 },
        [3, ['SET', 'l', 'v']],
        [3, ['RPUSH', 'src', 'a']],
        [3, ['COPY', 'src', 'l', 'REPLACE']],
        { reply: 1 },
        [3, ['SET', 'r', 'v']],
        [3, ['RENAME', 'z1', 'r']],
        { reply: 2 },
      ]));

    test('under CLIENT PAUSE WRITE a blocking command waits for the pause like a write, then blocks; the push postponed after it serves it', () =>
      s.script(3, [
        [0, ['CLIENT', 'PAUSE', '100000', 'WRITE']],
        { send: 1, cmd: ['BLPOP', 'q', '0'] },
        { quiet: 1 },
        { send: 2, cmd: ['RPUSH', 'q', 'a', 'b'] },
        { quiet: 2 },
        [0, ['LLEN', 'q']],
        [0, ['CLIENT', 'UNPAUSE']],
        { reply: 1 },
        { reply: 2 },
        [0, ['LRANGE', 'q', '0', '-1']],
      ]));
  });

  describe('timeouts', () => {
    test('the reply comes by itself; a later push is not taken by the client that timed out', () =>
      s.script(2, [
        { send: 0, cmd: ['BLPOP', 'q', '0.05'] },
        { reply: 0 },
        [1, ['RPUSH', 'q', 'x']],
        { quiet: 0 },
        [1, ['LLEN', 'q']],
        [0, ['PING']],
      ]));

    test('every blocking command times out with a null array', () =>
      s.script(8, [
        { send: 0, cmd: ['BLPOP', 'n1', '0.02'] },
        { send: 1, cmd: ['BRPOP', 'n1', 'n2', '0.03'] },
        { send: 2, cmd: ['BLMOVE', 'n1', 'd', 'LEFT', 'RIGHT', '0.02'] },
        { send: 3, cmd: ['BRPOPLPUSH', 'n1', 'd', '0.04'] },
        { send: 4, cmd: ['BLMPOP', '0.02', '1', 'n1', 'LEFT', 'COUNT', '2'] },
        { send: 5, cmd: ['BZPOPMIN', 'n1', '0.03'] },
        { send: 6, cmd: ['BZPOPMAX', 'n1', '0.02'] },
        { send: 7, cmd: ['BZMPOP', '0.02', '2', 'n1', 'n2', 'MIN'] },
        { reply: 0 },
        { reply: 1 },
        { reply: 2 },
        { reply: 3 },
        { reply: 4 },
        { reply: 5 },
        { reply: 6 },
        { reply: 7 },
        [0, ['EXISTS', 'd']],
      ]));

    test('a waiter served before its timeout gets one reply only', () =>
      s.script(2, [
        { send: 0, cmd: ['BLPOP', 'q', '0.2'] },
        { quiet: 0 },
        [1, ['RPUSH', 'q', 'x']],
        { reply: 0 },
        // Ask again with a timeout that has to fire: the old timer did not linger.
        { send: 0, cmd: ['BLPOP', 'q', '0.3'] },
        { reply: 0 },
      ]));

    test('a timeout just above -1 ms is 0: forever', () =>
      s.script(2, [
        { send: 0, cmd: ['BLPOP', 'q', '-0.0001'] },
        { quiet: 0 },
        [1, ['RPUSH', 'q', 'x']],
        { reply: 0 },
      ]));
  });

  describe('clients that go away or are unblocked', () => {
    test('a blocked client that disconnects frees its place: the push stays in the list, the next waiter gets it', async () => {
      await s.redis.call(['FLUSHALL']);
      await s.ours.call(['FLUSHALL']);
      const c = await s.clients(3);
      try {
        await c.run([{ send: 0, cmd: ['BLPOP', 'q', '0'] }, { quiet: 0 }, { send: 1, cmd: ['BLPOP', 'q', 'other', '0'] }, { quiet: 1 }]);
        c.redis[0].close();
        c.ours[0].close();
        await c.run([{ quiet: 2 }, [2, ['RPUSH', 'q', 'a', 'b']], { reply: 1 }, [2, ['LRANGE', 'q', '0', '-1']]]);
        c.redis[1].close();
        c.ours[1].close();
        await c.run([{ quiet: 2 }, [2, ['RPUSH', 'other', 'c']], [2, ['LRANGE', 'other', '0', '-1']], [2, ['CLIENT', 'UNBLOCK', '999999']]]);
        await c.quiet([2]);
      } finally {
        c.close();
      }
    });

    /** Runs CLIENT UNBLOCK <id of connection 0> [how] on connection 1 of both servers and compares the replies. */
    async function unblock(c: Awaited<ReturnType<typeof s.clients>>, ids: [string, string], how: string[]): Promise<void> {
      const [a, b] = await Promise.all([c.redis[1].call(['CLIENT', 'UNBLOCK', ids[0], ...how]), c.ours[1].call(['CLIENT', 'UNBLOCK', ids[1], ...how])]);
      expect(b.toString('latin1')).toBe(a.toString('latin1'));
    }

    test('CLIENT UNBLOCK: TIMEOUT answers as a timeout, ERROR with -UNBLOCKED; an unblocked client is not blocked', async () => {
      await s.redis.call(['FLUSHALL']);
      await s.ours.call(['FLUSHALL']);
      const c = await s.clients(2);
      try {
        const idOf = async (conn: (typeof c.redis)[number]) => String(parseReply(await conn.call(['CLIENT', 'ID']))!.reply.value);
        const ids: [string, string] = [await idOf(c.redis[0]), await idOf(c.ours[0])];
        const steps: [Cmd, string[]][] = [
          [['BLPOP', 'q', '0'], []],
          [['BLMOVE', 'q', 'd', 'LEFT', 'LEFT', '0'], ['TIMEOUT']],
          [['BRPOPLPUSH', 'q', 'd', '0'], ['timeout']],
          [['BZMPOP', '100', '1', 'z', 'MIN'], ['ERROR']],
          [['BLMPOP', '0', '1', 'q', 'LEFT'], ['error']],
        ];
        for (const [cmd, how] of steps) {
          await c.run([{ send: 0, cmd }, { quiet: 0 }]);
          await unblock(c, ids, how);
          await c.run([{ reply: 0 }]);
          await unblock(c, ids, how);
        }
        // Unblocked, the waiter is gone from the key: a push stays.
        await c.run([[1, ['RPUSH', 'q', 'x']], { quiet: 0 }, [1, ['LRANGE', 'q', '0', '-1']], [0, ['PING']]]);
        await c.quiet();
      } finally {
        c.close();
      }
    });
  });

  describe('random interleavings', () => {

    // Three waiters (connections 0-2) and a writer (3) over three keys. A waiter
    // that is not blocked sends a random blocking command (answered at once or
    // not); the writer writes; then every waiter's state is compared: answered
    // on both servers (and the replies equal) or still blocked on both. Now and
    // then CLIENT UNBLOCK wakes one. Each send is followed by a witness round
    // trip (Clients.quiet on the writer), so both servers queue waiters in the same order.
    for (const seed of [11, 12, 13]) {
      test(`seed ${seed}: waiters and writers`, async () => {
        await s.redis.call(['FLUSHALL']);
        await s.ours.call(['FLUSHALL']);
        const c = await s.clients(4);
        try {
          const idOf = async (conn: (typeof c.redis)[number]) => String(parseReply(await conn.call(['CLIENT', 'ID']))!.reply.value);
          const ids: [string, string][] = [];
          for (let i = 0; i < 3; i++) ids.push([await idOf(c.redis[i]), await idOf(c.ours[i])]);
          const r = prng(seed);
          const pick = <T>(a: readonly T[]): T => a[Math.floor(r() * a.length)];
          const key = () => pick(['a', 'b', 'c']);
          const elem = () => pick(['x', 'y', '1', '']);
          const blockers: (() => Cmd)[] = [
            () => ['BLPOP', key(), ...(r() < 0.3 ? [key()] : []), '0'],
            () => ['BRPOP', key(), '0'],
            () => ['BLMOVE', key(), key(), pick(['LEFT', 'RIGHT']), pick(['LEFT', 'RIGHT']), '0'],
            () => ['BRPOPLPUSH', key(), key(), '0'],
            () => ['BLMPOP', '0', '2', key(), key(), pick(['LEFT', 'RIGHT']), 'COUNT', pick(['1', '2'])],
            () => [pick(['BZPOPMIN', 'BZPOPMAX']), key(), '0'],
            () => ['BZMPOP', '0', '1', key(), pick(['MIN', 'MAX']), 'COUNT', '2'],
          ];
          const writes: (() => Cmd)[] = [
            () => ['RPUSH', key(), elem(), elem()],
            () => ['LPUSH', key(), elem()],
            () => ['ZADD', key(), pick(['1', '2', '3']), elem()],
            () => ['SET', key(), 'str'],
            () => ['DEL', key()],
            () => ['LMOVE', key(), key(), 'LEFT', 'RIGHT'],
          ];
          const waiting = [false, false, false];
          /** Reads the replies that came (they must have come on both servers or on neither). */
          const collect = async (round: number) => {
            await c.quiet([3]);
            for (let w = 0; w < 3; w++) {
              if (!waiting[w]) continue;
              const onRedis = c.redis[w].unread().length > 0;
              expect(c.ours[w].unread().length > 0, `round ${round}, waiter ${w} answered on redloop as on redis`).toBe(onRedis);
              if (onRedis) {
                await c.run([{ reply: w }]);
                waiting[w] = false;
              }
            }
          };
          for (let round = 0; round < 40; round++) {
            for (let w = 0; w < 3; w++) {
              if (waiting[w] || r() < 0.3) continue;
              await c.run([{ send: w, cmd: pick(blockers)() }]);
              waiting[w] = true;
              await collect(round);
            }
            await c.run([[3, pick(writes)()], [3, pick(writes)()]]);
            await collect(round);
            if (r() < 0.2) {
              const w = Math.floor(r() * 3);
              const how = pick([[], ['ERROR']]);
              const [a, b] = await Promise.all([
                c.redis[3].call(['CLIENT', 'UNBLOCK', ids[w][0], ...how]),
                c.ours[3].call(['CLIENT', 'UNBLOCK', ids[w][1], ...how]),
              ]);
              expect(b.toString('latin1')).toBe(a.toString('latin1'));
              await collect(round);
            }
          }
          for (const k of ['a', 'b', 'c']) await c.run([[3, ['TYPE', k]], [3, ['LRANGE', k, '0', '-1']], [3, ['ZRANGE', k, '0', '-1', 'WITHSCORES']]]);
          await c.quiet();
        } finally {
          c.close();
        }
      });
    }
  });
});
