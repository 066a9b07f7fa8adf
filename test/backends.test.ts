// The three backends serve the same traffic: the same pipelined book-protocol
// requests sent to `--loop poll`, `--loop epoll` and `--loop libuv` get the
// same replies, byte for byte once formatted. Only the backend differs.

import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { formatValue, type BookValue } from '../src/protocol/book.js';
import { BookClient, startServer, type TestServer } from './helpers/server.js';

const LOOPS = ['poll', 'epoll', 'libuv'] as const;
const servers = new Map<string, TestServer>();

beforeAll(async () => {
  for (const loop of LOOPS) servers.set(loop, await startServer(['--loop', loop]));
});

afterAll(async () => {
  await Promise.all([...servers.values()].map((s) => s.stop()));
});

const show = (vs: BookValue[]) => vs.map((v) => formatValue(v).join(' '));

/** One connection, everything pipelined in a single write. */
const SCRIPT: string[][] = [
  ['set', 'k1', 'v1'],
  ['get', 'k1'],
  ['GET', 'missing'],
  ['set', 'k2', 'x'.repeat(300_000)], // bigger than one socket write: partial writes and want-write
  ['get', 'k2'],
  ['del', 'k1'],
  ['del', 'k1'],
  ['pexpire', 'k2', '100000'],
  ['zadd', 'z', '1.5', 'a'],
  ['zadd', 'z', '2', 'b'],
  ['zscore', 'z', 'a'],
  ['zquery', 'z', '1', '', '0', '10'],
  ['get', 'z'], // wrong type
  ['nosuchcommand', 'x'],
  ['get'], // wrong arity
  ...Array.from({ length: 500 }, (_, i) => ['set', `key${i}`, String(i)]),
  ...Array.from({ length: 500 }, (_, i) => ['get', `key${i}`]),
];

async function runScript(port: number): Promise<string[]> {
  const c = await BookClient.connect(port);
  try {
    c.send(...SCRIPT);
    return show(await c.waitReplies(SCRIPT.length));
  } finally {
    c.close();
  }
}

describe('every backend answers like poll', () => {
  test('a pipelined script of mixed commands', async () => {
    const expected = await runScript(servers.get('poll')!.bookPort);
    expect(expected[1]).toBe('(str) v1');
    expect(expected[4]).toBe(`(str) ${'x'.repeat(300_000)}`);
    for (const loop of ['epoll', 'libuv']) {
      expect(await runScript(servers.get(loop)!.bookPort), loop).toEqual(expected);
    }
  });

  test.each(LOOPS)('%s: more ready connections than the events array holds at first', async (loop) => {
    const port = servers.get(loop)!.bookPort;
    const clients = await Promise.all(Array.from({ length: 150 }, () => BookClient.connect(port)));
    try {
      clients.forEach((c, i) => c.send(['set', `c${i}`, `v${i}`], ['get', `c${i}`]));
      const replies = await Promise.all(clients.map((c) => c.waitReplies(2)));
      replies.forEach((r, i) => expect(show(r)).toEqual(['(nil)', `(str) v${i}`]));
    } finally {
      for (const c of clients) c.close();
    }
  });

  // 20 MB of replies is far more than the socket buffers hold: the server meets
  // EAGAIN (poll/epoll: want-write; libuv: write() false, pause until 'drain').
  test.each(LOOPS)('%s: 20 MB of pipelined replies all arrive, in order (backpressure)', async (loop) => {
    const c = await BookClient.connect(servers.get(loop)!.bookPort);
    const big = 'b'.repeat(100_000);
    await c.call('set', 'big', big);
    c.send(...Array.from({ length: 200 }, () => ['get', 'big']));
    c.send(['del', 'big']);
    const replies = await c.waitReplies(202, 20_000);
    expect(replies.slice(1, 201).every((r) => r.type === 'str' && r.value.length === big.length)).toBe(true);
    expect(show([replies[201]])).toEqual(['(int) 1']);
    c.close();
  });

  test.each(LOOPS)('%s: a half-closed client still gets every reply, then EOF', async (loop) => {
    const c = await BookClient.connect(servers.get(loop)!.bookPort);
    c.send(['set', 'h', '1'], ['get', 'h'], ['del', 'h']);
    c.sock.end(); // shutdown(SHUT_WR): the server sees EOF after the requests
    const r = await c.waitReplies(3);
    expect(show(r)).toEqual(['(nil)', '(str) 1', '(int) 1']);
    await c.waitClosed();
  });

  test.each(LOOPS)('%s: a malformed frame closes only that connection', async (loop) => {
    const port = servers.get(loop)!.bookPort;
    const bad = await BookClient.connect(port);
    const good = await BookClient.connect(port);
    // nstr says 2 strings, the payload holds none.
    bad.sock.write(Buffer.from([4, 0, 0, 0, 2, 0, 0, 0]));
    await bad.waitClosed();
    expect(show([await good.call('set', 'g', 'ok'), await good.call('get', 'g')])).toEqual(['(nil)', '(str) ok']);
    good.close();
  });
});
