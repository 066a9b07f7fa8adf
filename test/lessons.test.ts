// The notes' stages: --mode blocking serves one client at a time (a second
// client stalls until the first leaves), --mode echo is the event loop echoing
// each length-prefixed message, and --mode is validated.

import { describe, expect, test } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { BookClient, startServer } from './helpers/server.js';
import { encodeRequest, K_MAX_MSG, type BookValue } from '../src/protocol/book.js';

const str = (s: string): BookValue => ({ type: 'str', value: Buffer.from(s, 'latin1') });
const nil: BookValue = { type: 'nil' };

/** A length-prefixed message: [u32 len][bytes]. */
function frame(payload: string | Buffer): Buffer {
  const body = typeof payload === 'string' ? Buffer.from(payload) : payload;
  const hdr = Buffer.alloc(4);
  hdr.writeUInt32LE(body.length);
  return Buffer.concat([hdr, body]);
}

/** Connects a raw socket that collects what it receives. */
function rawConnect(port: number): Promise<{ sock: Socket; got: () => Buffer; closed: Promise<void>; until: (n: number) => Promise<Buffer> }> {
  return new Promise((resolve, reject) => {
    const sock = connect({ host: '127.0.0.1', port });
    let buf = Buffer.alloc(0);
    const waiters: (() => void)[] = [];
    sock.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      for (const w of waiters.splice(0)) w();
    });
    sock.on('error', () => {});
    const closed = new Promise<void>((r) => sock.on('close', () => r()));
    const until = (n: number) =>
      new Promise<Buffer>((res, rej) => {
        const check = () => (buf.length >= n ? res(buf) : waiters.push(check));
        closed.then(() => (buf.length >= n ? res(buf) : rej(new Error(`closed after ${buf.length} of ${n} bytes`))));
        check();
      });
    sock.once('connect', () => resolve({ sock, got: () => buf, closed, until }));
    sock.once('error', reject);
  });
}

describe('--mode blocking', () => {
  test('serves real requests; a second client stalls until the first disconnects', async () => {
    const srv = await startServer(['--no-resp', '--mode', 'blocking', '--trace']);
    const c1 = await BookClient.connect(srv.bookPort);
    expect(await c1.call('set', 'a', '1')).toEqual(nil);

    // Client 2 connects (the kernel queues it in the listen backlog) and its
    // request reaches the kernel...
    const c2 = await BookClient.connect(srv.bookPort);
    await new Promise<void>((resolve, reject) => c2.sock.write(encodeRequest(['get', 'a']), (err) => (err ? reject(err) : resolve())));
    // ...then client 1 does a full round trip after it: the server answered
    // client 1, and client 2 still has no reply. It is not even accepted.
    expect(await c1.call('get', 'a')).toEqual(str('1'));
    expect(c2.replies).toEqual([]);
    expect(srv.stderr().match(/accept\(\d+\) = \d+/g)).toHaveLength(1);

    // Client 1 leaves: only now is client 2 accepted and answered.
    c1.sock.end();
    expect(await c2.waitReplies(1)).toEqual([str('1')]);
    await srv.waitForStderr(/client 2 on fd/);
    const t = srv.stderr();
    const c1Gone = t.indexOf('client 1 gone');
    const c2Accepted = t.indexOf('client 2 on fd');
    const c2Request = t.indexOf('1 request (get)', c2Accepted);
    expect(c1Gone).toBeGreaterThan(0);
    expect(c2Accepted).toBeGreaterThan(c1Gone);
    expect(c2Request).toBeGreaterThan(c2Accepted);
    // Blocking sockets all the way: no fcntl, no poll.
    expect(t).not.toMatch(/fcntl|poll/);
    c2.close();
    await srv.stop();
  });
});

describe('--mode echo', () => {
  test('echoes each message with its framing, pipelined ones too, through the event loop', async () => {
    const srv = await startServer(['--no-resp', '--mode', 'echo', '--trace']);
    const c = await rawConnect(srv.bookPort);
    const sent = Buffer.concat([frame('hello'), frame(''), frame(Buffer.alloc(100_000, 7))]);
    c.sock.write(sent);
    expect((await c.until(sent.length)).equals(sent)).toBe(true);
    await srv.waitForStderr(/\d+ requests \(echo/);
    c.sock.end();
    await c.closed;
    expect(await srv.stop()).toBe(0);
  });

  test('a message longer than k_max_msg closes that connection only', async () => {
    const srv = await startServer(['--no-resp', '--mode', 'echo']);
    const bad = await rawConnect(srv.bookPort);
    const hdr = Buffer.alloc(4);
    hdr.writeUInt32LE(K_MAX_MSG + 1);
    bad.sock.write(hdr);
    await bad.closed;
    expect(bad.got().length).toBe(0);
    const good = await rawConnect(srv.bookPort);
    good.sock.write(frame('still here'));
    expect((await good.until(14)).equals(frame('still here'))).toBe(true);
    good.sock.destroy();
    expect(await srv.stop()).toBe(0);
  });
});

describe('--mode thread-per-connection', () => {
  test('a thread per client: a silent first client does not stall a second one (as it does in --mode blocking)', async () => {
    const srv = await startServer(['--no-resp', '--mode', 'thread-per-connection', '--trace']);
    // Client 1 connects and says nothing: its thread blocks in read().
    const c1 = await rawConnect(srv.bookPort);
    await srv.waitForStderr(/\[acceptor\] accept\(\d+\) = \d+/);
    // Client 2 is served meanwhile by a thread of its own, pipelined messages too.
    const c2 = await rawConnect(srv.bookPort);
    const sent = Buffer.concat([frame('hello'), frame(''), frame(Buffer.alloc(100_000, 7))]);
    c2.sock.write(sent);
    expect((await c2.until(sent.length)).equals(sent)).toBe(true);
    // Now client 1 speaks, and its own thread answers.
    c1.sock.write(frame('late'));
    expect((await c1.until(8)).equals(frame('late'))).toBe(true);
    await srv.waitForStderr(/\[thread 1\] write\(\d+, 8\) = 8/);
    expect(srv.stderr()).toMatch(/\[thread 2\] write\(\d+, \d+\) = \d+/);
    // A message longer than k_max_msg ends that client's thread only.
    const hdr = Buffer.alloc(4);
    hdr.writeUInt32LE(K_MAX_MSG + 1);
    c2.sock.write(hdr);
    await c2.closed;
    c1.sock.write(frame('still here'));
    expect((await c1.until(8 + 14)).subarray(8).equals(frame('still here'))).toBe(true);
    c1.sock.destroy();
    await srv.stop();
  });

  test('maxclients bounds the threads: a client over it is closed', async () => {
    const srv = await startServer(['--no-resp', '--mode', 'thread-per-connection', '--maxclients', '1']);
    const c1 = await rawConnect(srv.bookPort);
    c1.sock.write(frame('one'));
    await c1.until(7);
    const c2 = await rawConnect(srv.bookPort);
    await c2.closed;
    await srv.waitForStderr(/refused: 1 threads already \(maxclients 1, at most 2000 threads\)/);
    c1.sock.destroy();
    await srv.stop();
  });
});

describe('--mode validation', () => {
  const server = fileURLToPath(new URL('../dist/cli/server.js', import.meta.url));
  const run = (...args: string[]) => spawnSync(process.execPath, [server, '--port', '0', '--no-resp', ...args], { encoding: 'utf8' });

  test('an unknown mode and impossible combinations exit 2 with a message', () => {
    const cases: [string[], string][] = [
      [['--mode', 'fast'], "--mode must be server, echo, blocking or thread-per-connection, got 'fast'"],
      [['--mode', 'thread-per-connection', '--loop', 'epoll'], '--mode thread-per-connection has no event loop'],
      [['--mode', 'thread-per-connection', '--step'], '--mode thread-per-connection has no event loop'],
      [['--mode', 'blocking', '--step'], '--step steps the event loop'],
      [['--mode', 'blocking', '--loop', 'epoll'], '--mode blocking has no event loop'],
      [['--mode', 'echo', '--loop', 'libuv'], 'cannot use --loop libuv'],
      [['--mode', 'blocking', '--trace-bytes'], '--mode blocking has none'],
      [['--mode', 'blocking', '--trace-json', 'x.jsonl'], '--mode blocking has none'],
      [['--trace-json', ''], '--trace-json needs a file name'],
      // libuv's loop is not ours to trace: refused at start-up, saying why.
      ...['--trace', '--step', '--trace-bytes'].map((f): [string[], string] => [['--loop', 'libuv', f], "with --loop libuv the loop is libuv's"]),
      [['--loop', 'libuv', '--trace-json', 'x.jsonl'], 'its syscalls never pass through redloop'],
    ];
    for (const [args, msg] of cases) {
      const r = run(...args);
      expect(r.status).toBe(2);
      expect(r.stderr).toContain(msg);
    }
  });
});

describe('redloop-cli --echo', () => {
  const cli = fileURLToPath(new URL('../dist/cli/client.js', import.meta.url));
  const runCli = (...args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> =>
    new Promise((resolve) => {
      const p = spawn(process.execPath, [cli, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      p.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
      p.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
      p.on('close', (status) => resolve({ status, stdout, stderr }));
    });

  test('sends length-prefixed messages in one write and prints each echoed back, in order', async () => {
    const srv = await startServer(['--no-resp', '--mode', 'echo', '--trace']);
    try {
      const r = await runCli('--port', String(srv.bookPort), '--echo', 'hello', '', 'héllo wörld', '--not-a-flag');
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      expect(r.stdout).toBe('hello\n\nhéllo wörld\n--not-a-flag\n');
      // One write, so the loop handled all four in one read (the notes' pipelining).
      await srv.waitForStderr('4 requests (echo, echo, echo, echo)');
      // Without --echo the book client says what went wrong instead of crashing.
      const plain = await runCli('--port', String(srv.bookPort), 'get', 'k');
      expect(plain.status).toBe(1);
      expect(plain.stderr).toContain('use redloop-cli --echo');
      const none = await runCli('--port', String(srv.bookPort), '--echo');
      expect(none.status).toBe(2);
      expect(none.stderr).toContain('--echo needs at least one message');
    } finally {
      await srv.stop();
    }
  });
});
