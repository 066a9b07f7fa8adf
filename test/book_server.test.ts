// The syscall server over real sockets, book protocol: replies, pipelining,
// partial reads and writes, bad frames closing only their own connection,
// idle timeout, signals and startup errors.

import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { connect } from 'node:net';
import { BookClient, startServer, type TestServer } from './helpers/server.js';
import { encodeRequest, K_MAX_MSG, type BookValue } from '../src/protocol/book.js';

const str = (s: string): BookValue => ({ type: 'str', value: Buffer.from(s, 'latin1') });
const int = (n: number): BookValue => ({ type: 'int', value: BigInt(n) });
const nil: BookValue = { type: 'nil' };

describe('book protocol server', () => {
  let srv: TestServer;
  beforeAll(async () => {
    srv = await startServer(['--no-resp']);
  });
  afterAll(async () => {
    expect(await srv.stop()).toBe(0);
  });

  test('get/set/del/keys/pexpire/pttl reply as DESIGN.md specifies', async () => {
    const c = await BookClient.connect(srv.bookPort);
    expect(await c.call('get', 'k1')).toEqual(nil);
    expect(await c.call('set', 'k1', 'v1')).toEqual(nil);
    expect(await c.call('GET', 'k1')).toEqual(str('v1'));
    expect(await c.call('keys')).toEqual({ type: 'arr', items: [str('k1')] });
    expect(await c.call('pttl', 'k1')).toEqual(int(-1));
    expect(await c.call('pttl', 'nope')).toEqual(int(-2));
    expect(await c.call('pexpire', 'k1', 'abc')).toEqual({ type: 'err', code: 4, msg: 'expect int64' });
    expect(await c.call('pexpire', 'nope', '100')).toEqual(int(0));
    expect(await c.call('pexpire', 'k1', '100000')).toEqual(int(1));
    const ttl = await c.call('pttl', 'k1');
    expect(ttl.type).toBe('int');
    const ms = Number((ttl as { value: bigint }).value);
    expect(ms).toBeGreaterThan(0);
    expect(ms).toBeLessThanOrEqual(100000);
    expect(await c.call('pexpire', 'k1', '-1')).toEqual(int(1));
    expect(await c.call('pttl', 'k1')).toEqual(int(-1));
    expect(await c.call('del', 'k1')).toEqual(int(1));
    expect(await c.call('del', 'k1')).toEqual(int(0));
    expect(await c.call('nosuch', 'x')).toEqual({ type: 'err', code: 1, msg: 'unknown command' });
    expect((await c.call('get')).type).toBe('err');
    c.close();
  });

  test('a pipeline of many requests in one write gets every reply, in order', async () => {
    const c = await BookClient.connect(srv.bookPort);
    const reqs: string[][] = [];
    for (let i = 0; i < 500; i++) reqs.push(['set', `p${i}`, `v${i}`], ['get', `p${i}`]);
    c.send(...reqs);
    const replies = await c.waitReplies(1000);
    for (let i = 0; i < 500; i++) {
      expect(replies[2 * i]).toEqual(nil);
      expect(replies[2 * i + 1]).toEqual(str(`v${i}`));
    }
    c.close();
  });

  test('requests split at every byte boundary are reassembled', async () => {
    const c = await BookClient.connect(srv.bookPort);
    const stream = Buffer.concat([
      encodeRequest(['set', 'split', 'x'.repeat(300)]),
      encodeRequest(['get', 'split']),
      encodeRequest(['del', 'split']),
    ]);
    for (let i = 0; i < stream.length; i++) {
      // Wait until each byte has left our socket, so the server sees it alone.
      await new Promise<void>((resolve) => c.sock.write(stream.subarray(i, i + 1), () => resolve()));
    }
    const replies = await c.waitReplies(3);
    expect(replies).toEqual([nil, str('x'.repeat(300)), int(1)]);
    c.close();
  });

  test('a reply larger than the socket buffer is written in parts, intact', async () => {
    const c = await BookClient.connect(srv.bookPort);
    const big = Buffer.alloc(10 << 20); // 10 MiB
    for (let i = 0; i < big.length; i++) big[i] = (i * 7) & 0xff;
    c.sock.write(encodeRequest(['set', 'big', big]));
    expect(await c.waitReplies(1)).toEqual([nil]);
    // Stop reading so the server's write() returns short / EAGAIN, then resume.
    c.sock.pause();
    c.send(['get', 'big'], ['get', 'big']);
    await new Promise((r) => setImmediate(r));
    c.sock.resume();
    const replies = await c.waitReplies(3, 20000);
    for (const r of replies.slice(1)) {
      expect(r.type).toBe('str');
      expect((r as { value: Buffer }).value.equals(big)).toBe(true);
    }
    expect(await c.call('del', 'big')).toEqual(int(1));
    c.close();
  });

  test('an oversized frame closes that connection only', async () => {
    const other = await BookClient.connect(srv.bookPort);
    expect(await other.call('set', 'survivor', 'yes')).toEqual(nil);
    const bad = await BookClient.connect(srv.bookPort);
    const hdr = Buffer.alloc(4);
    hdr.writeUInt32LE(K_MAX_MSG + 1);
    bad.sock.write(hdr);
    await bad.waitClosed();
    expect(bad.replies).toEqual([]);
    expect(await other.call('get', 'survivor')).toEqual(str('yes'));
    await srv.waitForStderr('protocol error');
    other.close();
  });

  test.each([
    ['a string running past the payload', () => {
      const b = Buffer.alloc(4 + 12);
      b.writeUInt32LE(12, 0);
      b.writeUInt32LE(1, 4); // one string
      b.writeUInt32LE(100, 8); // of 100 bytes, but only 4 follow
      return b;
    }],
    ['bytes left over after the strings', () => {
      const ok = encodeRequest(['get', 'k']);
      const b = Buffer.concat([ok, Buffer.from('zz')]);
      b.writeUInt32LE(ok.length - 4 + 2, 0);
      return b;
    }],
    ['more than 200 000 strings', () => {
      const b = Buffer.alloc(8);
      b.writeUInt32LE(4, 0);
      b.writeUInt32LE(200_001, 4);
      return b;
    }],
    ['a payload too short for its count', () => {
      const b = Buffer.alloc(6);
      b.writeUInt32LE(2, 0);
      return b;
    }],
  ])('%s closes the connection; others keep working', async (_name, frame) => {
    const other = await BookClient.connect(srv.bookPort);
    const bad = await BookClient.connect(srv.bookPort);
    bad.sock.write(frame());
    await bad.waitClosed();
    expect(bad.replies).toEqual([]);
    expect(await other.call('get', 'missing')).toEqual(nil);
    other.close();
  });

  test('a request with 200 000 strings is accepted', async () => {
    const c = await BookClient.connect(srv.bookPort);
    const args = ['keys'];
    for (let i = 1; i < 200_000; i++) args.push('x');
    c.send(args);
    expect(await c.waitReplies(1)).toEqual([{ type: 'err', code: 1, msg: "wrong number of arguments for 'keys' command" }]);
    c.close();
  });

  test('200 concurrent clients each get their own replies', async () => {
    const clients = await Promise.all(Array.from({ length: 200 }, () => BookClient.connect(srv.bookPort)));
    clients.forEach((c, i) => c.send(['set', `c${i}`, `value-${i}`], ['get', `c${i}`], ['del', `c${i}`]));
    const replies = await Promise.all(clients.map((c) => c.waitReplies(3)));
    replies.forEach((r, i) => expect(r).toEqual([nil, str(`value-${i}`), int(1)]));
    for (const c of clients) c.close();
  });

  test('sets use Redis names and reply types on the book port', async () => {
    const c = await BookClient.connect(srv.bookPort);
    expect(await c.call('sadd', 'bs', 'a', 'b', 'a')).toEqual(int(2));
    expect(await c.call('scard', 'bs')).toEqual(int(2));
    expect(await c.call('sismember', 'bs', 'b')).toEqual(int(1));
    const members = await c.call('smembers', 'bs');
    expect(members.type).toBe('arr');
    expect((members as { items: BookValue[] }).items.map((v) => (v as { value: Buffer }).value.toString()).sort()).toEqual(['a', 'b']);
    expect(await c.call('set', 'bs', 'x')).toEqual({ type: 'err', code: 3, msg: 'WRONGTYPE Operation against a key holding the wrong kind of value' });
    expect(await c.call('del', 'bs')).toEqual(int(1));
    c.close();
  });

  test('list moves and multi-pops use Redis names on the book port', async () => {
    const c = await BookClient.connect(srv.bookPort);
    expect(await c.call('rpush', 'bl', 'a', 'b', 'c')).toEqual(int(3));
    expect(await c.call('lmove', 'bl', 'bd', 'left', 'right')).toEqual(str('a'));
    expect(await c.call('rpoplpush', 'bl', 'bd')).toEqual(str('c'));
    expect(await c.call('lmpop', '2', 'nokey', 'bd', 'right', 'count', '5')).toEqual({ type: 'arr', items: [str('bd'), { type: 'arr', items: [str('a'), str('c')] }] });
    expect(await c.call('lmpop', '1', 'bd', 'left')).toEqual(nil); // RESP's null array
    expect(await c.call('lmove', 'nokey', 'bd', 'left', 'left')).toEqual(nil);
    expect(await c.call('lmove', 'bl', 'bd', 'up', 'left')).toEqual({ type: 'err', code: 4, msg: 'ERR syntax error' });
    expect(await c.call('lmpop', '0', 'bl', 'left')).toEqual({ type: 'err', code: 4, msg: 'ERR numkeys should be greater than 0' });
    expect(await c.call('set', 'bstr', 'x')).toEqual(nil);
    expect(await c.call('lmove', 'bl', 'bstr', 'left', 'left')).toEqual({ type: 'err', code: 3, msg: 'WRONGTYPE Operation against a key holding the wrong kind of value' });
    expect(await c.call('lmove', 'bl', 'bd', 'left')).toEqual({ type: 'err', code: 1, msg: "wrong number of arguments for 'lmove' command" });
    expect(await c.call('del', 'bl')).toEqual(int(1));
    expect(await c.call('del', 'bstr')).toEqual(int(1));
    c.close();
  });

  test('a pexpire beyond the clock is refused; pttl stays an int', async () => {
    const c = await BookClient.connect(srv.bookPort);
    expect(await c.call('set', 'far', 'v')).toEqual(nil);
    expect(await c.call('pexpire', 'far', '9223372036854775807')).toEqual({ type: 'err', code: 4, msg: "invalid expire time in 'pexpire' command" });
    expect(await c.call('pttl', 'far')).toEqual(int(-1));
    expect(await c.call('pexpire', 'far', '4000000000000')).toEqual(int(1));
    const ttl = await c.call('pttl', 'far');
    expect(ttl.type).toBe('int');
    expect(Number((ttl as { value: bigint }).value)).toBeGreaterThan(3_999_000_000_000);
    expect(await c.call('del', 'far')).toEqual(int(1));
    c.close();
  });

  test('a request sent after the client half-closes still gets its reply', async () => {
    const c = await BookClient.connect(srv.bookPort);
    c.send(['set', 'hc', '1'], ['get', 'hc']);
    c.sock.end();
    await c.waitClosed();
    expect(c.replies).toEqual([nil, str('1')]);
  });
});

describe('server lifecycle', () => {
  test('SIGTERM shuts the loop down cleanly (the signal arrives through the poll set)', async () => {
    const srv = await startServer(['--no-resp']);
    const c = await BookClient.connect(srv.bookPort);
    expect(await c.call('set', 'a', 'b')).toEqual(nil);
    expect(await srv.stop()).toBe(0);
    await c.waitClosed();
    expect(srv.stderr()).toContain('received SIGTERM');
  });

  test.each(['poll', 'epoll', 'libuv'])('SIGTERM flushes replies already produced before closing (--loop %s)', async (loop) => {
    const srv = await startServer(['--no-resp', '--loop', loop]);
    const c = await BookClient.connect(srv.bookPort);
    const big = Buffer.alloc(10 << 20, 0x61);
    c.sock.write(encodeRequest(['set', 'big', big]));
    expect(await c.waitReplies(1)).toEqual([nil]);
    // Once the reply to GET starts arriving, stop reading: the rest waits in
    // the server's outgoing buffer while it is told to stop.
    const started = new Promise<void>((resolve) => c.sock.once('data', () => resolve()));
    c.send(['get', 'big']);
    await started;
    c.sock.pause();
    srv.proc.kill('SIGTERM');
    await srv.waitForStderr('received SIGTERM');
    c.sock.resume();
    await c.waitClosed();
    expect(c.replies.length).toBe(2);
    expect((c.replies[1] as { value: Buffer }).value.equals(big)).toBe(true);
    // One SIGTERM was sent: the server exits by itself (another signal could
    // land while Node tears its handlers down and kill it).
    expect(await srv.exited()).toBe(0);
  });

  test('a second signal gives up on flushing and closes at once', async () => {
    const srv = await startServer(['--no-resp']);
    const c = await BookClient.connect(srv.bookPort);
    c.sock.write(encodeRequest(['set', 'big', Buffer.alloc(10 << 20, 0x62)]));
    expect(await c.waitReplies(1)).toEqual([nil]);
    const started = new Promise<void>((resolve) => c.sock.once('data', () => resolve()));
    c.send(['get', 'big']);
    await started;
    c.sock.pause(); // the reply stays owed while the server is told to stop, twice
    srv.proc.kill('SIGTERM');
    srv.proc.kill('SIGINT');
    expect(await srv.exited()).toBe(0);
    expect(srv.stderr()).toMatch(/received SIG(TERM|INT) again, closing without flushing/);
    c.sock.resume();
    await c.waitClosed();
    expect(c.replies.length).toBe(1); // the 10 MiB reply never completed
  });

  test('a failed auth leaves an authenticated book connection authenticated (as Redis)', async () => {
    const srv = await startServer(['--no-resp', '--requirepass', 'pw']);
    const c = await BookClient.connect(srv.bookPort);
    expect((await c.call('get', 'k')).type).toBe('err');
    expect(await c.call('auth', 'pw')).toEqual(str('OK'));
    expect(await c.call('auth', 'nope')).toEqual({ type: 'err', code: 4, msg: 'WRONGPASS invalid password' });
    expect(await c.call('get', 'k')).toEqual(nil);
    c.close();
    await srv.stop();
  });

  test('a port in use fails with a Node-shaped bind error', async () => {
    const first = await startServer(['--no-resp']);
    await expect(startServer(['--no-resp', '--port', String(first.bookPort)])).rejects.toThrow(/bind EADDRINUSE/);
    await first.stop();
  });

  test('idle connections are closed after --idle-timeout-ms; busy ones stay', async () => {
    const srv = await startServer(['--no-resp', '--idle-timeout-ms', '300']);
    const idle = await BookClient.connect(srv.bookPort);
    const busy = await BookClient.connect(srv.bookPort);
    const closedAt = idle.waitClosed().then(() => busy.closed);
    // Keep the busy one busy until the idle one has been closed.
    let n = 0;
    while (!idle.closed) {
      expect(await busy.call('get', `k${n++}`)).toEqual(nil);
      await new Promise<void>((r) => setTimeout(r, 20));
    }
    expect(await closedAt).toBe(false);
    expect(await busy.call('set', 'still', 'here')).toEqual(nil);
    busy.close();
    await srv.stop();
  });

  test('unknown flags are rejected with usage', async () => {
    await expect(startServer(['--no-such-flag'])).rejects.toThrow(/Unknown option|no-such-flag/);
  });
});

test('a raw client sees exact reply bytes', async () => {
  const srv = await startServer(['--no-resp']);
  const bytes = await new Promise<Buffer>((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port: srv.bookPort }, () => s.write(encodeRequest(['get', 'zz'])));
    s.on('data', (d) => {
      resolve(d);
      s.destroy();
    });
    s.on('error', reject);
  });
  // [u32 len=1][tag 0 = nil]
  expect([...bytes]).toEqual([1, 0, 0, 0, 0]);
  await srv.stop();
});
