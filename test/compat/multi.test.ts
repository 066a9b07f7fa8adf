// Differential: transactions (MULTI, EXEC, DISCARD, WATCH, UNWATCH) against a
// real redis-server, byte for byte — queueing, EXECABORT after a queueing
// error, runtime errors inside EXEC, nesting errors, and WATCH invalidated by
// another client's write, by the watcher's own write, by expiry, by FLUSHALL,
// but not by writes that change nothing; then the client commands that act on
// other clients (CLIENT KILL, CLIENT PAUSE, RESET, MONITOR) where their replies are
// deterministic.
import { describe, test } from 'vitest';
import { useServers } from './harness.js';

describe('transactions', () => {
  const s = useServers();

  test('queueing, EXEC replies, DISCARD, nesting and misuse', () =>
    s.same([
      ['EXEC'],
      ['DISCARD'],
      ['MULTI'],
      ['MULTI'],
      ['SET', 'k', 'v'],
      ['INCR', 'n'],
      ['INCR', 'k'], // a runtime error: one element of EXEC's reply
      ['LPUSH', 'k', 'x'],
      ['GET', 'k'],
      ['EXEC'],
      ['EXEC'],
      ['MULTI'],
      ['SET', 'a', '1'],
      ['DISCARD'],
      ['GET', 'a'],
      ['MULTI'],
      ['EXEC'],
      ['multi'],
      ['ping'],
      ['echo', 'hi'],
      ['exec'],
    ]));

  test('a queueing error aborts the whole transaction (EXECABORT); nothing runs', () =>
    s.same([
      ['MULTI'],
      ['SET', 'x', '1'],
      ['NOSUCHCOMMAND', 'a'],
      ['SET', 'y', '2'],
      ['EXEC'],
      ['EXISTS', 'x', 'y'],
      ['MULTI'],
      ['SET', 'x'],
      ['EXEC'],
      ['EXISTS', 'x'],
      ['MULTI'],
      ['GET'],
      ['DISCARD'],
    ]));

  test('WATCH inside MULTI, UNWATCH, WATCH arity', () =>
    s.same([
      ['WATCH'],
      ['WATCH', 'k'],
      ['MULTI'],
      ['WATCH', 'k'],
      ['UNWATCH'],
      ['EXEC'],
      ['UNWATCH'],
      ['MULTI'],
      ['UNWATCH'],
      ['SET', 'k', '1'],
      ['EXEC'],
    ]));

  test('a watched key written by another client makes EXEC return a null array', () =>
    s.script(2, [
      [0, ['SET', 'k', '1']],
      [0, ['WATCH', 'k']],
      [1, ['SET', 'k', '2']],
      [0, ['MULTI']],
      [0, ['INCR', 'k']],
      [0, ['EXEC']],
      [0, ['GET', 'k']],
      // After EXEC the watch is gone: the next transaction runs.
      [0, ['MULTI']],
      [0, ['INCR', 'k']],
      [0, ['EXEC']],
    ]));

  test('in-place changes count (LPUSH, HSET, SADD, ZADD, EXPIRE, DEL); no-op writes do not', () =>
    s.script(2, [
      [0, ['RPUSH', 'l', 'a']],
      [0, ['HSET', 'h', 'f', 'v']],
      [0, ['SADD', 's', 'm']],
      [0, ['ZADD', 'z', '1', 'm']],
      [0, ['SET', 'e', 'v']],
      // LPUSH onto an existing list
      [0, ['WATCH', 'l']],
      [1, ['LPUSH', 'l', 'b']],
      [0, ['MULTI']],
      [0, ['LLEN', 'l']],
      [0, ['EXEC']],
      // SREM of a missing member changes nothing: EXEC runs
      [0, ['WATCH', 's']],
      [1, ['SREM', 's', 'nope']],
      [0, ['MULTI']],
      [0, ['SCARD', 's']],
      [0, ['EXEC']],
      // ZADD with the same score changes nothing; HSET of a new field does
      [0, ['WATCH', 'z', 'h']],
      [1, ['ZADD', 'z', '1', 'm']],
      [0, ['MULTI']],
      [0, ['ZCARD', 'z']],
      [0, ['EXEC']],
      [0, ['WATCH', 'h']],
      [1, ['HSET', 'h', 'g', 'w']],
      [0, ['MULTI']],
      [0, ['HLEN', 'h']],
      [0, ['EXEC']],
      // EXPIRE and DEL of a watched key
      [0, ['WATCH', 'e']],
      [1, ['EXPIRE', 'e', '100']],
      [0, ['MULTI']],
      [0, ['TTL', 'e']],
      [0, ['EXEC']],
      [0, ['WATCH', 'e']],
      [1, ['DEL', 'e']],
      [0, ['MULTI']],
      [0, ['EXISTS', 'e']],
      [0, ['EXEC']],
      // DEL of a missing watched key changes nothing
      [0, ['WATCH', 'e']],
      [1, ['DEL', 'e']],
      [0, ['MULTI']],
      [0, ['EXISTS', 'e']],
      [0, ['EXEC']],
    ]));

  test("the watcher's own write, FLUSHALL, and a watched key that does not exist", () =>
    s.script(2, [
      [0, ['SET', 'k', 'v']],
      [0, ['WATCH', 'k']],
      [0, ['SET', 'k', 'w']],
      [0, ['MULTI']],
      [0, ['GET', 'k']],
      [0, ['EXEC']],
      [0, ['WATCH', 'k']],
      [1, ['FLUSHALL']],
      [0, ['MULTI']],
      [0, ['GET', 'k']],
      [0, ['EXEC']],
      // Watching a missing key: another client creating it fails the transaction
      [0, ['WATCH', 'missing']],
      [1, ['SET', 'missing', '1']],
      [0, ['MULTI']],
      [0, ['GET', 'missing']],
      [0, ['EXEC']],
      // FLUSHALL with the watched key missing: EXEC runs
      [0, ['WATCH', 'gone']],
      [1, ['FLUSHALL']],
      [0, ['MULTI']],
      [0, ['PING']],
      [0, ['EXEC']],
      // SET to the same value still counts (Redis signals every SET)
      [0, ['SET', 'same', 'v']],
      [0, ['WATCH', 'same']],
      [1, ['SET', 'same', 'v']],
      [0, ['MULTI']],
      [0, ['GET', 'same']],
      [0, ['EXEC']],
    ]));

  test('a watched key that expires before EXEC fails it', () =>
    s.script(2, [
      [0, ['SET', 'k', 'v', 'PX', '30']],
      [0, ['WATCH', 'k']],
      { sleepMs: 60 },
      [0, ['MULTI']],
      [0, ['PING']],
      [0, ['EXEC']],
    ]));

  test('a transaction is atomic: queued commands of one client, nothing of another in between', () =>
    s.script(2, [
      [0, ['MULTI']],
      [0, ['RPUSH', 'q', 'a']],
      [1, ['RPUSH', 'q', 'other']],
      [0, ['RPUSH', 'q', 'b']],
      [0, ['EXEC']],
      [1, ['LRANGE', 'q', '0', '-1']],
    ]));

  test('RESET leaves MULTI and WATCH', () =>
    s.script(2, [
      [0, ['SET', 'k', '1']],
      [0, ['WATCH', 'k']],
      [0, ['MULTI']],
      [0, ['SET', 'k', '2']],
      [0, ['RESET']],
      [0, ['EXEC']],
      [1, ['SET', 'k', '3']],
      [0, ['MULTI']],
      [0, ['GET', 'k']],
      [0, ['EXEC']],
    ]));
});

describe('client commands', () => {
  const s = useServers();

  test('CLIENT KILL, PAUSE, UNBLOCK, NO-EVICT, LIST errors', () =>
    s.same([
      ['CLIENT', 'KILL', '1.2.3.4:5'],
      ['CLIENT', 'KILL', 'ID', 'abc'],
      ['CLIENT', 'KILL', 'ID', '0'],
      ['CLIENT', 'KILL', 'TYPE', 'xx'],
      ['CLIENT', 'KILL', 'SKIPME', 'maybe'],
      ['CLIENT', 'KILL', 'ID', '5', 'SKIPME'],
      ['CLIENT', 'KILL', 'USER', 'bob'],
      ['CLIENT', 'KILL', 'ID', '99999'],
      ['CLIENT', 'KILL', 'TYPE', 'pubsub'],
      ['CLIENT', 'KILL', 'NOSUCH', 'x'],
      ['CLIENT', 'KILL'],
      ['CLIENT', 'PAUSE', 'abc'],
      ['CLIENT', 'PAUSE', '-1'],
      ['CLIENT', 'PAUSE', '10', 'foo'],
      ['CLIENT', 'PAUSE'],
      ['CLIENT', 'UNBLOCK', 'abc'],
      ['CLIENT', 'UNBLOCK', '5', 'foo'],
      ['CLIENT', 'UNBLOCK', '99999'],
      ['CLIENT', 'UNBLOCK', '99999', 'ERROR'],
      ['CLIENT', 'UNBLOCK', '99999', 'ERROR', 'x'],
      ['CLIENT', 'pause', '10', 'WRITE', 'x'],
      ['CLIENT', 'PAUSE'],
      ['CLIENT', 'UNBLOCK'],
      ['CLIENT', 'NO-EVICT', 'maybe'],
      ['CLIENT', 'NO-EVICT', 'on'],
      ['CLIENT', 'NO-EVICT', 'off'],
      ['CLIENT', 'LIST', 'TYPE', 'foo'],
      ['CLIENT', 'LIST', 'ID', 'abc'],
      ['CLIENT', 'LIST', 'ID', '99999'],
      ['CLIENT', 'LIST', 'FOO'],
      ['CLIENT', 'UNPAUSE'],
      ['CLIENT', 'UNPAUSE', 'x'],
      ['RESET'],
      ['RESET', 'x'],
      ['MONITOR', 'x'],
    ]));

  test('CLIENT PAUSE WRITE holds writes (the client waits), not reads; UNPAUSE runs them in order', () =>
    s.script(3, [
      [0, ['CLIENT', 'PAUSE', '100000', 'WRITE']],
      [1, ['GET', 'k']],
      { send: 1, cmd: ['SET', 'k', 'v'] },
      { send: 1, cmd: ['GET', 'k'] },
      { quiet: 1 },
      [2, ['GET', 'k']],
      [0, ['CLIENT', 'UNPAUSE']],
      { reply: 1 },
      { reply: 1 },
      [2, ['GET', 'k']],
    ]));

  test('CLIENT PAUSE ends by itself at its timeout', () =>
    s.script(2, [
      [0, ['CLIENT', 'PAUSE', '50', 'WRITE']],
      { send: 1, cmd: ['SET', 'k', 'v'] },
      { reply: 1 },
      [1, ['GET', 'k']],
    ]));

  test('MONITOR streams other clients’ commands, secrets redacted', () =>
    s.script(2, [
      [0, ['MONITOR']],
      [1, ['SET', 'k', 'with "quotes" and\nnewline']],
      { reply: 0, match: 'monitor' },
      [1, ['AUTH', 'secret']],
      { reply: 0, match: 'monitor' },
      [1, ['GET', 'k']],
      { reply: 0, match: 'monitor' },
      // RESET leaves monitor mode (the harness's own PINGs afterwards are not streamed to it).
      [0, ['RESET']],
    ]));

  test('MONITOR does not show admin commands (CLIENT KILL/LIST/PAUSE…, CONFIG GET/SET), as Redis 7.0', () =>
    s.script(2, [
      [0, ['MONITOR']],
      [1, ['CLIENT', 'LIST', 'TYPE', 'pubsub']],
      [1, ['CONFIG', 'GET', 'maxmemory']],
      [1, ['CLIENT', 'KILL', 'ID', '999999']],
      [1, ['CLIENT', 'UNBLOCK', '999999']],
      [1, ['CLIENT', 'NO-EVICT', 'off']],
      [1, ['CLIENT', 'GETNAME']], // not admin: shown
      { reply: 0, match: 'monitor' },
      [1, ['ECHO', 'shown']],
      { reply: 0, match: 'monitor' },
      [0, ['RESET']],
    ]));

  test('a MONITOR client is a replica to Redis: no keyspace commands (not even queued), never paused', () =>
    s.script(2, [
      [0, ['MONITOR']],
      [0, ['GET', 'k']],
      [0, ['RPUSH', 'q', 'x']],
      [0, ['BLPOP', 'q', '0']],
      [0, ['PUBLISH', 'c', 'm']],
      [0, ['MULTI']],
      { reply: 0, match: 'monitor' }, // its own MULTI
      [0, ['SET', 'k', 'v']],
      [0, ['EXEC']], // EXECABORT
      { reply: 0, match: 'monitor' }, // its own EXEC
      [0, ['ECHO', 'allowed']],
      { reply: 0, match: 'monitor' }, // its own ECHO
      [1, ['CLIENT', 'PAUSE', '100000', 'ALL']],
      [0, ['PING']], // answered during the pause
      { reply: 0, match: 'monitor' },
      [0, ['CLIENT', 'UNPAUSE']],
      [1, ['EXISTS', 'k', 'q']],
      { reply: 0, match: 'monitor' },
      [0, ['RESET']],
    ]));
});
