// WATCH's view of in-place writes, in-process: what it costs other clients.
// A watched key named by a write command is compared before and after the
// write; once every watcher of the key has been touched there is nothing more
// to learn, so further writes to it pay nothing — one client's WATCH on a big
// list must not make every other client's push onto it O(size of the list).

import { afterEach, expect, test, vi } from 'vitest';
import { Conn } from '../src/loop/conn.js';
import { createRespCodec, encodeCommand } from '../src/protocol/resp.js';
import { respTable } from '../src/commands/resp/index.js';
import { List } from '../src/store/keyspace.js';
import { ProtocolSession, detachedHost } from '../src/servers/session.js';
import { DEFAULT_SETTINGS, ServerState } from '../src/servers/state.js';

function rig() {
  const state = new ServerState({ ...DEFAULT_SETTINGS }, () => {});
  const codec = createRespCodec(state.settings);
  const open = () => {
    const conn = new Conn(-1);
    const session = new ProtocolSession(codec, respTable, state, state.newClient(0, () => 'test:0'), conn, detachedHost);
    return (...args: string[]): string => {
      conn.incoming.append(encodeCommand(args));
      while (session.tryOneRequest(conn));
      const out = conn.outgoing.toBuffer().toString('latin1');
      conn.outgoing.clear();
      return out;
    };
  };
  return { open };
}

afterEach(() => vi.restoreAllMocks());

test('a watched list is read once to learn of the first change; later writes to it do not read it again', () => {
  const { open } = rig();
  const watcher = open();
  const writer = open();
  writer('RPUSH', 'big', ...Array.from({ length: 100 }, (_, i) => `e${i}`));
  expect(watcher('WATCH', 'big')).toBe('+OK\r\n');
  const reads = vi.spyOn(List.prototype, 'toArray');
  for (let i = 0; i < 50; i++) expect(writer('RPUSH', 'big', 'x')).toBe(`:${101 + i}\r\n`);
  // Before and after the first push (which touched the only watcher), then never again.
  expect(reads).toHaveBeenCalledTimes(2);
  expect(watcher('MULTI')).toBe('+OK\r\n');
  expect(watcher('PING')).toBe('+QUEUED\r\n');
  expect(watcher('EXEC')).toBe('*-1\r\n');
});

test('a write that changes nothing leaves the watcher clean, and the next real change is still seen', () => {
  const { open } = rig();
  const watcher = open();
  const other = open();
  const writer = open();
  writer('RPUSH', 'l', 'a', 'b');
  watcher('WATCH', 'l');
  other('WATCH', 'l');
  expect(writer('LREM', 'l', '0', 'nosuch')).toBe(':0\r\n');
  watcher('MULTI');
  watcher('PING');
  expect(watcher('EXEC')).toBe('*1\r\n+PONG\r\n'); // unchanged: runs (and unwatches)
  expect(writer('LSET', 'l', '0', 'z')).toBe('+OK\r\n');
  other('MULTI');
  other('PING');
  expect(other('EXEC')).toBe('*-1\r\n');
});

test('values of every type: an in-place change touches the key, a no-op does not', () => {
  const { open } = rig();
  const cases: [string[], string[], boolean][] = [
    [['HSET', 'k', 'f', 'v'], ['HSET', 'k', 'f', 'w'], true],
    [['HSET', 'k', 'f', 'v'], ['HDEL', 'k', 'nosuch'], false],
    [['SADD', 'k', 'a'], ['SADD', 'k', 'b'], true],
    [['SADD', 'k', 'a'], ['SREM', 'k', 'b'], false],
    [['ZADD', 'k', '1', 'a'], ['ZINCRBY', 'k', '1', 'a'], true],
    [['ZADD', 'k', '1', 'a'], ['ZADD', 'k', '1', 'a'], false],
    [['SET', 'k', 'v'], ['APPEND', 'k', 'w'], true],
    [['SET', 'k', 'v'], ['PEXPIRE', 'k', '100000'], true],
    [['RPUSH', 'k', 'a\0', 'b'], ['LSET', 'k', '1', 'x'], true],
  ];
  for (const [setup, write, touched] of cases) {
    const watcher = open();
    const writer = open();
    writer('FLUSHALL');
    writer(...setup);
    watcher('WATCH', 'k');
    writer(...write);
    watcher('MULTI');
    watcher('PING');
    expect(watcher('EXEC'), write.join(' ')).toBe(touched ? '*-1\r\n' : '*1\r\n+PONG\r\n');
  }
});
